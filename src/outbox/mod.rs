//! The one way the portal delivers anything to another system: emails,
//! calls to GitLab, webhooks to partners' endpoints.
//!
//! A delivery is a row written in the transaction of the change that causes
//! it, so a change that rolls back sends nothing and no request waits on a
//! remote side. A [`Worker`] per queue table claims due rows with `FOR UPDATE
//! SKIP LOCKED` under a lease (several instances share the work; a crashed
//! one's rows are claimed again when the lease runs out), hands each to its
//! [`Courier`] and records the [`Outcome`]: sent, retried with exponential
//! backoff and jitter, waited for as long as the other side asked, or dead
//! with the reason. Each queue table has the same columns for this (see the
//! migration of `outbox_emails`): `status`, `attempts`, `next_attempt_at`,
//! `claimed_at`, `last_error`, `sent_at`, `dead_at`, `created_at`.
//!
//! Only the courier knows its kind: what a row carries ([`Courier::load`]),
//! how to send one ([`Courier::send`]) and what else changes with the
//! outcome ([`Courier::settle`], in the transaction that records it).

mod worker;

use std::{future::Future, time::Duration};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

pub use worker::{Report, Worker};

/// A queue table and the channel that wakes its workers on commit.
#[derive(Debug)]
pub struct Queue {
    /// The table; a constant of the portal, never user input.
    pub table: &'static str,
    /// `NOTIFY` channel sent by the code that writes a row.
    pub channel: &'static str,
    /// For logs: `mail`, `gitlab`, `webhooks`.
    pub label: &'static str,
}

/// When a delivery that keeps failing is given up.
#[derive(Debug, Clone, Copy)]
pub enum GiveUp {
    /// After this many attempts that failed temporarily.
    Attempts(i32),
    /// Once the row is this old (counted from when it was written).
    Age(chrono::Duration),
}

/// How a queue is worked.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Rows claimed per round.
    pub batch: i64,
    /// Sends in flight at once per instance.
    pub concurrency: usize,
    /// How long a claimed row stays invisible to other workers: longer than
    /// one send can take, so a slow send is not made twice.
    pub lease: chrono::Duration,
    /// Delay before the first retry; doubled for each further attempt.
    pub backoff_base: chrono::Duration,
    pub backoff_max: chrono::Duration,
    pub give_up: GiveUp,
    /// Least time between the starts of two sends of one instance, to
    /// spread a burst out; `None`: as fast as the concurrency allows.
    pub pace: Option<Duration>,
}

/// A claimed row, with what its courier loaded for it.
#[derive(Debug, Clone)]
pub struct Claimed<T> {
    pub id: i64,
    /// Counting this one.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    /// A previous attempt was claimed and never recorded its outcome (its
    /// instance died mid-send): the other side may have received it.
    pub uncertain: bool,
    pub item: T,
    /// This claim's mark on the row: an outcome is recorded only while the
    /// row still carries it (a send slower than the lease may have been
    /// claimed again by another worker, whose outcome then counts).
    pub(crate) claimed_at: DateTime<Utc>,
}

impl<T> Claimed<T> {
    /// The same claim, seen through a part of what it carries (a courier of
    /// several kinds hands each kind its own).
    pub fn with_item<U: Clone>(&self, item: &U) -> Claimed<U> {
        Claimed {
            id: self.id,
            attempts: self.attempts,
            created_at: self.created_at,
            uncertain: self.uncertain,
            item: item.clone(),
            claimed_at: self.claimed_at,
        }
    }
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered, with what the other side answered that the courier wants
    /// to keep (the note's id), for [`Courier::settle`].
    Sent(Option<serde_json::Value>),
    /// Failed for now (a 5xx, a timeout, a refused connection): retried
    /// with backoff, or at `after` when the other side said when.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// The other side asked to wait (a 429): not a failure, not counted as
    /// an attempt; the whole queue of this instance pauses as long.
    Wait { reason: String, after: Duration },
    /// Will never work (a 4xx, a malformed row): given up with the reason.
    Dead(String),
}

/// One kind of delivery.
pub trait Courier: Clone + Send + Sync + 'static {
    type Item: Send + Sync + 'static;

    fn queue(&self) -> &'static Queue;
    fn policy(&self) -> &Policy;

    /// What the claimed rows carry, for the ids given (in any order; a row
    /// missing from the answer is given up as unloadable).
    fn load(
        &self,
        pool: &PgPool,
        ids: &[i64],
    ) -> impl Future<Output = Result<Vec<(i64, Self::Item)>, sqlx::Error>> + Send;

    fn send(&self, claimed: &Claimed<Self::Item>) -> impl Future<Output = Outcome> + Send;

    /// What else changes with an outcome, in the transaction that records
    /// it (the update's "posted to GitLab", an endpoint's log line).
    fn settle(
        &self,
        _tx: &mut PgConnection,
        _claimed: &Claimed<Self::Item>,
        _outcome: &Outcome,
        _now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
        async { Ok(()) }
    }
}

/// Wakes the workers of `queue` once the caller's transaction commits.
pub async fn notify(conn: &mut PgConnection, queue: &Queue) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_notify($1, '')")
        .bind(queue.channel)
        .execute(conn)
        .await
        .map(drop)
}

/// Makes a dead (or waiting) row due again now, as a fresh delivery: staff's
/// "try again". Returns false when the row is not dead.
pub async fn retry_dead(
    conn: &mut PgConnection,
    queue: &Queue,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "update {} set status = 'pending', attempts = 0, next_attempt_at = $2, claimed_at = null,
                dead_at = null
          where id = $1 and status = 'dead'",
        queue.table
    );
    let retried = sqlx::query(&sql)
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1;
    if retried {
        notify(conn, queue).await?;
    }
    Ok(retried)
}

/// What one queue holds now: for health pages and metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueState {
    pub queue: &'static str,
    pub pending: i64,
    pub dead: i64,
    /// Seconds since the most overdue pending row fell due (0 when none is).
    pub oldest_due_age: f64,
}

/// Reads `queue` at `now`. Each count reads the table's partial indexes on
/// `status`, not the delivered rows.
pub async fn state(
    pool: &PgPool,
    queue: &Queue,
    now: DateTime<Utc>,
) -> Result<QueueState, sqlx::Error> {
    // The table name is a constant of the portal, never input.
    let sql = format!(
        "select (select count(*) from {t} where status = 'pending'),
                (select count(*) from {t} where status = 'dead'),
                coalesce(extract(epoch from $1 - (select min(next_attempt_at) from {t}
                                                    where status = 'pending'))::float8, 0)",
        t = queue.table
    );
    let (pending, dead, age): (i64, i64, f64) =
        sqlx::query_as(&sql).bind(now).fetch_one(pool).await?;
    Ok(QueueState {
        queue: queue.label,
        pending,
        dead,
        oldest_due_age: age.max(0.0),
    })
}
