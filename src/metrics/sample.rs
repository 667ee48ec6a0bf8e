//! Readings taken when Prometheus scrapes: the delivery queues, the webhook
//! inbox and the database pool.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{Metrics, PoolLabels, QueueLabels};

/// Every delivery queue as (label, table). Each table has the outbox's
/// queue columns (`status` 'pending' / 'sent' / 'dead', `next_attempt_at`,
/// …); a new one (GitLab calls, partner webhooks) is one line here.
pub const OUTBOX_QUEUES: &[(&str, &str)] = &[("mail", "outbox_emails")];

/// What one queue holds now.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueState {
    pub queue: &'static str,
    pub pending: i64,
    pub dead: i64,
    /// Seconds since the most overdue pending row fell due (0 when none is).
    pub oldest_due_age: f64,
}

/// Reads `queues` (see [`OUTBOX_QUEUES`]) at `now`. Each count reads the
/// table's partial indexes on `status`, not the delivered rows.
pub async fn outbox_states(
    pool: &PgPool,
    queues: &[(&'static str, &'static str)],
    now: DateTime<Utc>,
) -> Result<Vec<QueueState>, sqlx::Error> {
    let mut states = Vec::with_capacity(queues.len());
    for &(queue, table) in queues {
        // The table name comes from the constant list, never from input.
        let sql = format!(
            "select (select count(*) from {table} where status = 'pending'),
                    (select count(*) from {table} where status = 'dead'),
                    coalesce(extract(epoch from $1 - (select min(next_attempt_at) from {table}
                                                        where status = 'pending'))::float8, 0)"
        );
        let (pending, dead, age): (i64, i64, f64) =
            sqlx::query_as(&sql).bind(now).fetch_one(pool).await?;
        states.push(QueueState {
            queue,
            pending,
            dead,
            oldest_due_age: age.max(0.0),
        });
    }
    Ok(states)
}

impl Metrics {
    /// Takes the readings; a failed database reading leaves the previous
    /// values and counts a scrape error.
    pub async fn sample(&self, pool: &PgPool, now: DateTime<Utc>) {
        let size = pool.size() as i64;
        let idle = pool.num_idle() as i64;
        self.pool_connections
            .get_or_create(&PoolLabels {
                state: "idle".into(),
            })
            .set(idle);
        self.pool_connections
            .get_or_create(&PoolLabels {
                state: "in_use".into(),
            })
            .set((size - idle).max(0));
        self.pool_max
            .set(i64::from(pool.options().get_max_connections()));
        self.pool_waiting.set(crate::db::waiting() as i64);

        if let Err(e) = self.sample_queues(pool, now).await {
            tracing::warn!(error = %e, "metrics: could not read the queues");
            self.scrape_errors.inc();
        }
    }

    async fn sample_queues(&self, pool: &PgPool, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        for q in outbox_states(pool, OUTBOX_QUEUES, now).await? {
            let labels = QueueLabels {
                queue: q.queue.to_owned(),
            };
            self.outbox_pending.get_or_create(&labels).set(q.pending);
            self.outbox_dead.get_or_create(&labels).set(q.dead);
            self.outbox_overdue
                .get_or_create(&labels)
                .set(q.oldest_due_age);
        }
        let inbox = sqlx::query!(
            r#"select (select count(*) from webhook_deliveries where state = 'pending') as "pending!",
                      (select count(*) from webhook_deliveries where state = 'failed') as "failed!",
                      coalesce(extract(epoch from $1 - (select min(received_at) from webhook_deliveries
                                                          where state = 'pending'))::float8, 0) as "lag!""#,
            now
        )
        .fetch_one(pool)
        .await?;
        self.inbox_pending.set(inbox.pending);
        self.inbox_failed.set(inbox.failed);
        self.inbox_lag.set(inbox.lag.max(0.0));
        Ok(())
    }
}
