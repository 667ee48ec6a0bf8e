//! Readings taken when Prometheus scrapes: the delivery queues, the webhook
//! inbox and the database pool.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{Metrics, PoolLabels, QueueLabels};
use crate::outbox::{self, Queue};

/// Every delivery queue of the outbox (`crate::outbox`); a new one is one
/// line here.
pub static OUTBOX_QUEUES: &[&Queue] = &[
    &crate::mail::MAIL,
    &crate::calls::GITLAB_CALLS,
    &crate::integrations::webhooks::ENDPOINT_DELIVERIES,
];

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
        for queue in OUTBOX_QUEUES {
            let q = outbox::state(pool, queue, now).await?;
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
