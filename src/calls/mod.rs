//! Calls the portal makes to GitLab (§9): each a row of `gitlab_calls`
//! written in the transaction of the change that causes it, delivered by
//! the outbox worker with the outbox's guarantees. The row's `kind` says
//! which area knows how to make it; this courier only dispatches.

pub mod routes;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::{
    gitlab::GitLab,
    issues::notes::{self, NoteCall},
    namespaces::catalog::{self, CatalogCall},
    outbox::{Claimed, Courier, GiveUp, Outcome, Policy, Queue, Worker},
    state::AppState,
};

pub static GITLAB_CALLS: Queue = Queue {
    table: "gitlab_calls",
    channel: "gitlab_calls",
    label: "gitlab",
};

/// One call, as its area loaded it.
#[derive(Debug, Clone)]
pub enum Call {
    Note(NoteCall),
    Catalog(CatalogCall),
}

#[derive(Clone)]
pub struct GitLabCalls {
    gitlab: GitLab,
    pub policy: Policy,
}

impl GitLabCalls {
    pub fn new(gitlab: GitLab) -> Self {
        Self {
            gitlab,
            policy: Policy {
                batch: 64,
                concurrency: 16,
                // Longer than the client's whole-call timeout.
                lease: chrono::Duration::minutes(1),
                backoff_base: chrono::Duration::seconds(5),
                backoff_max: chrono::Duration::minutes(30),
                // About a day of retries before a call is given up.
                give_up: GiveUp::Attempts(50),
                pace: None,
            },
        }
    }
}

/// The worker for calls to GitLab of this instance.
pub fn worker(state: &AppState) -> Worker<GitLabCalls> {
    Worker::with_courier(
        state.pool.clone(),
        state.clock.clone(),
        GitLabCalls::new(state.gitlab.clone()),
    )
}

impl Courier for GitLabCalls {
    type Item = Call;

    fn queue(&self) -> &'static Queue {
        &GITLAB_CALLS
    }

    fn policy(&self) -> &Policy {
        &self.policy
    }

    async fn load(&self, pool: &PgPool, ids: &[i64]) -> Result<Vec<(i64, Call)>, sqlx::Error> {
        let notes = notes::load(pool, ids).await?;
        let badges = catalog::load(pool, ids).await?;
        Ok(notes
            .into_iter()
            .map(|(id, call)| (id, Call::Note(call)))
            .chain(
                badges
                    .into_iter()
                    .map(|(id, call)| (id, Call::Catalog(call))),
            )
            .collect())
    }

    async fn send(&self, claimed: &Claimed<Call>) -> Outcome {
        match &claimed.item {
            Call::Note(call) => notes::send(&self.gitlab, &claimed.with_item(call)).await,
            Call::Catalog(call) => catalog::send(&self.gitlab, &claimed.with_item(call)).await,
        }
    }

    async fn settle(
        &self,
        tx: &mut PgConnection,
        claimed: &Claimed<Call>,
        outcome: &Outcome,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        match &claimed.item {
            Call::Note(call) => notes::settle(tx, &claimed.with_item(call), outcome).await,
            Call::Catalog(call) => {
                catalog::settle(tx, &claimed.with_item(call), outcome, now).await
            }
        }
    }
}
