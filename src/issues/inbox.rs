//! The webhook inbox. A request only stores the delivery (a replay of the
//! same delivery key is a no-op) and wakes the background task; the task
//! applies pending deliveries in arrival order, each in its own transaction,
//! claimed with `FOR UPDATE SKIP LOCKED` so several instances share the work.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, postgres::PgListener};
use tokio_util::sync::CancellationToken;

use super::{WebhookEvent, apply, parse_event};
use crate::{error::AppError, state::AppState};

const CHANNEL: &str = "webhook_deliveries";
/// Attempts after which a delivery that keeps failing is set aside.
const MAX_ATTEMPTS: i32 = 5;
const IDLE_POLL: Duration = Duration::from_secs(30);

/// Stores a delivery. `false` when this delivery key was already stored.
pub async fn store(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    key: &str,
    event_header: Option<&str>,
    body: &str,
) -> Result<bool, sqlx::Error> {
    let stored = sqlx::query!(
        "insert into webhook_deliveries (delivery_key, event_header, body, received_at, next_attempt_at)
         values ($1, $2, $3, $4, $4)
         on conflict (delivery_key) do nothing",
        key,
        event_header,
        body,
        now
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
        "select id, body, attempts from webhook_deliveries
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
/// (`LISTEN webhook_deliveries`), and at least every 30 seconds.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let mut listener = listen(&state).await;
    loop {
        if let Err(e) = process_pending(&state).await {
            tracing::warn!(error = %e, "webhook: processing round failed");
        }
        let woken = async {
            match listener.as_mut() {
                Some(l) => {
                    if l.recv().await.is_err() {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = woken => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
        if listener.is_none() {
            listener = listen(&state).await;
        }
    }
    tracing::info!("webhook inbox stopped");
}

async fn listen(state: &AppState) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(&state.pool).await.ok()?;
    listener.listen(CHANNEL).await.ok()?;
    Some(listener)
}
