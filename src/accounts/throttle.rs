//! Rate limits counted in PostgreSQL, so they hold across several portal
//! instances: an event is a row, a limit is a count over a sliding window.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

pub async fn record(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into throttle_events (key, occurred_at) values ($1, $2)",
        key,
        now
    )
    .execute(conn)
    .await
    .map(drop)
}

pub async fn count(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    key: &str,
    window: Duration,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from throttle_events where key = $1 and occurred_at > $2"#,
        key,
        now - window
    )
    .fetch_one(conn)
    .await
}

/// Forgets events of `key` (after a successful sign-in, say).
pub async fn clear(conn: &mut PgConnection, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("delete from throttle_events where key = $1", key)
        .execute(conn)
        .await
        .map(drop)
}

/// Removes events older than any window in use.
pub async fn prune(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    sqlx::query!(
        "delete from throttle_events where occurred_at < $1",
        now - Duration::days(1)
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}
