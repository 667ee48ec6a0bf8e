//! The webhook inbox. A request only stores the delivery (a replay of the
//! same delivery key is a no-op) and wakes the background task; the task
//! applies pending deliveries in arrival order, each in its own transaction,
//! claimed with `FOR UPDATE SKIP LOCKED` so several instances share the work.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{
    WebhookEvent, apply,
    comments::{self, Applied},
    parse_event,
};
use crate::{error::AppError, state::AppState};

pub const CHANNEL: &str = "webhook_deliveries";
/// Attempts after which a delivery that keeps failing is set aside.
const MAX_ATTEMPTS: i32 = 5;
const IDLE_POLL: Duration = Duration::from_secs(30);

/// How soon a comment naming a partner update whose note is not recorded
/// yet is looked at again.
const OWN_NOTE_RETRY: chrono::Duration = chrono::Duration::seconds(5);

/// Stores a delivery (checked already: it can be applied). `partner_id` is
/// the partner whose own secret it carried. `false` when this delivery key
/// was already stored.
pub async fn store(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    key: &str,
    event_header: Option<&str>,
    body: &str,
    partner_id: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let stored = sqlx::query!(
        "insert into webhook_deliveries (delivery_key, event_header, body, received_at, next_attempt_at,
                                         signed_by_partner_id)
         values ($1, $2, $3, $4, $4, $5)
         on conflict (delivery_key) do nothing",
        key,
        event_header,
        body,
        now,
        partner_id
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if stored {
        sqlx::query!("select pg_notify('webhook_deliveries', '')")
            .execute(conn)
            .await?;
    }
    Ok(stored)
}

/// Applies every delivery due now; returns how many were applied.
pub async fn process_pending(state: &AppState) -> Result<usize, sqlx::Error> {
    let mut applied = 0;
    while let Some(done) = process_one(state).await? {
        if done {
            applied += 1;
        }
    }
    Ok(applied)
}

/// Claims and applies the oldest pending delivery: `None` when there is
/// none, `Some(false)` when it failed (and will be retried).
async fn process_one(state: &AppState) -> Result<Option<bool>, sqlx::Error> {
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let Some(delivery) = sqlx::query!(
        "select id, body, attempts, received_at from webhook_deliveries
          where state = 'pending' and next_attempt_at <= $1
          order by id limit 1
          for update skip locked",
        now
    )
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    let result = match parse_event(delivery.body.as_bytes()) {
        Ok(WebhookEvent::Issue(event)) => apply::apply(&mut tx, &state.config, now, &event)
            .await
            .map(|o| Some(o.issue_id())),
        Ok(WebhookEvent::Comment(note)) => {
            match comments::apply(&mut tx, &state.config, now, delivery.received_at, &note).await {
                Ok(Applied::NotYet) => {
                    // Its update's note is on its way: look again shortly,
                    // without counting an attempt.
                    sqlx::query!(
                        "update webhook_deliveries set next_attempt_at = $2 where id = $1",
                        delivery.id,
                        now + OWN_NOTE_RETRY
                    )
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    return Ok(Some(false));
                }
                Ok(applied) => Ok(applied.issue_id()),
                Err(e) => Err(e),
            }
        }
        Ok(WebhookEvent::Ignored { .. }) => Ok(None),
        Err(problem) => Err(AppError::BadRequest(problem.to_string())),
    };
    match result {
        Ok(issue_id) => {
            sqlx::query!(
                "update webhook_deliveries set state = 'done', processed_at = $2, issue_id = $3,
                        attempts = attempts + 1, last_error = null
                  where id = $1",
                delivery.id,
                now,
                issue_id
            )
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(true))
        }
        Err(error) => {
            tx.rollback().await?;
            let attempts = delivery.attempts + 1;
            tracing::warn!(delivery_id = delivery.id, attempts, %error, "webhook: applying a delivery failed");
            let retry_at = now + chrono::Duration::seconds(10 * 2_i64.pow(attempts as u32));
            sqlx::query!(
                "update webhook_deliveries
                    set attempts = $2, last_error = $3, next_attempt_at = $4,
                        state = case when $2::integer >= $5::integer then 'failed' else 'pending' end
                  where id = $1",
                delivery.id,
                attempts,
                error.to_string(),
                retry_at,
                MAX_ATTEMPTS
            )
            .execute(&state.pool)
            .await?;
            Ok(Some(false))
        }
    }
}

/// Applies deliveries until `shutdown`: woken by each stored delivery
/// (`NOTIFY webhook_deliveries`, through `wake`), and at least every 30
/// seconds.
pub async fn run(state: AppState, wake: Arc<Notify>, shutdown: CancellationToken) {
    loop {
        if let Err(e) = process_pending(&state).await {
            tracing::warn!(error = %e, "webhook: processing round failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
    tracing::info!("webhook inbox stopped");
}
