//! The loop that works one queue table: claim under a lease, send through
//! the courier, record the outcome. Written once for every kind.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use rand::Rng;
use sqlx::PgPool;
use tokio::{sync::Notify, task::JoinSet, time::Instant};
use tokio_util::sync::CancellationToken;

use super::{Claimed, Courier, GiveUp, Outcome};
use crate::clock::Clock;

/// Longest sleep between rounds when nothing wakes the worker.
const IDLE_POLL: Duration = Duration::from_secs(30);

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub sent: usize,
    pub retrying: usize,
    /// Put back because the other side asked to wait (429).
    pub waiting: usize,
    pub dead: usize,
}

impl Report {
    pub fn claimed(&self) -> usize {
        self.sent + self.retrying + self.waiting + self.dead
    }
}

/// Works the queue of courier `C`.
#[derive(Clone)]
pub struct Worker<C: Courier> {
    pool: PgPool,
    clock: Clock,
    pub courier: C,
    /// Until when this instance leaves the queue alone because the other
    /// side answered 429 (a rate limit holds for every row of the queue).
    paused_until: Arc<Mutex<Option<Instant>>>,
}

impl<C: Courier> Worker<C> {
    pub fn with_courier(pool: PgPool, clock: Clock, courier: C) -> Self {
        Self {
            pool,
            clock,
            courier,
            paused_until: Arc::default(),
        }
    }

    /// Delivers until `shutdown`: woken by every committed row (`NOTIFY`
    /// on the queue's channel, through `wake`), when a retry falls due, and
    /// at least every 30 seconds.
    pub async fn run(self, wake: Arc<Notify>, shutdown: CancellationToken) {
        let label = self.courier.queue().label;
        loop {
            let pause = match self.drain().await {
                Ok(()) => self.until_next_due().await,
                Err(e) => {
                    tracing::warn!(queue = label, error = %e, "outbox: delivery round failed");
                    Duration::from_secs(2)
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!(queue = label, "outbox worker stopped");
    }

    /// Rounds until nothing due is left (or the queue is paused).
    async fn drain(&self) -> Result<(), sqlx::Error> {
        loop {
            let report = self.deliver_once().await?;
            if report.claimed() < self.courier.policy().batch as usize || self.paused().is_some() {
                return Ok(());
            }
        }
    }

    fn paused(&self) -> Option<Duration> {
        let until = (*self.paused_until.lock().expect("pause lock"))?;
        until.checked_duration_since(Instant::now())
    }

    fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().expect("pause lock");
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }

    async fn until_next_due(&self) -> Duration {
        if let Some(wait) = self.paused() {
            return wait.max(Duration::from_millis(50));
        }
        let sql = format!(
            "select min(next_attempt_at) from {} where status = 'pending'",
            self.courier.queue().table
        );
        let next: Option<DateTime<Utc>> = sqlx::query_scalar(&sql)
            .fetch_one(&self.pool)
            .await
            .ok()
            .flatten();
        match next {
            Some(at) => (at - self.clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(50), IDLE_POLL),
            None => IDLE_POLL,
        }
    }

    /// Claims the rows due now, sends them, and records each outcome.
    pub async fn deliver_once(&self) -> Result<Report, sqlx::Error> {
        let mut report = Report::default();
        if self.paused().is_some() {
            return Ok(report);
        }
        let claimed = self.claim(self.clock.now()).await?;
        if claimed.is_empty() {
            return Ok(report);
        }
        let policy = self.courier.policy().clone();
        let mut sends = JoinSet::new();
        let mut queue = claimed.into_iter();
        let mut next_start = Instant::now();
        loop {
            while sends.len() < policy.concurrency && self.paused().is_none() {
                let Some(row) = queue.next() else { break };
                if let Some(pace) = policy.pace {
                    tokio::time::sleep_until(next_start).await;
                    next_start = Instant::now() + pace;
                }
                let courier = self.courier.clone();
                sends.spawn(async move {
                    let outcome = courier.send(&row).await;
                    (row, outcome)
                });
            }
            let Some(joined) = sends.join_next().await else {
                break;
            };
            let (row, outcome) = joined.expect("a send task does not panic");
            self.record(&row, outcome, &mut report).await?;
            if self.paused().is_some() && sends.is_empty() {
                break;
            }
        }
        // Rows not sent because the queue paused go back as they were.
        let unsent: Vec<i64> = queue.map(|row| row.id).collect();
        if !unsent.is_empty() {
            self.put_back(&unsent).await?;
        }
        if report.claimed() > 0 {
            tracing::info!(
                queue = self.courier.queue().label,
                sent = report.sent,
                retrying = report.retrying,
                waiting = report.waiting,
                dead = report.dead,
                "outbox: round done"
            );
        }
        Ok(report)
    }

    async fn claim(&self, now: DateTime<Utc>) -> Result<Vec<Claimed<C::Item>>, sqlx::Error> {
        let policy = self.courier.policy();
        let sql = format!(
            "update {t} o
                set attempts = o.attempts + 1, next_attempt_at = $2, claimed_at = $1
               from (select id, claimed_at from {t}
                      where status = 'pending' and next_attempt_at <= $1
                      order by next_attempt_at, id
                      limit $3
                      for update skip locked) due
              where o.id = due.id
          returning o.id, o.attempts, o.created_at, due.claimed_at is not null",
            t = self.courier.queue().table
        );
        let rows: Vec<(i64, i32, DateTime<Utc>, bool)> = sqlx::query_as(&sql)
            .bind(now)
            .bind(now + policy.lease)
            .bind(policy.batch)
            .fetch_all(&self.pool)
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let mut items: std::collections::HashMap<i64, C::Item> = self
            .courier
            .load(&self.pool, &ids)
            .await?
            .into_iter()
            .collect();
        let mut claimed = Vec::with_capacity(rows.len());
        for (id, attempts, created_at, uncertain) in rows {
            match items.remove(&id) {
                Some(item) => claimed.push(Claimed {
                    id,
                    attempts,
                    created_at,
                    uncertain,
                    item,
                    claimed_at: now,
                }),
                None => {
                    self.bury(id, "nothing to send: the row could not be read")
                        .await?
                }
            }
        }
        // Oldest first, as claimed.
        claimed.sort_by_key(|c| (c.created_at, c.id));
        Ok(claimed)
    }

    async fn record(
        &self,
        row: &Claimed<C::Item>,
        outcome: Outcome,
        report: &mut Report,
    ) -> Result<(), sqlx::Error> {
        let label = self.courier.queue().label;
        let now = self.clock.now();
        let outcome = match outcome {
            Outcome::Retry { reason, .. } if self.given_up(row, now) => Outcome::Dead(reason),
            other => other,
        };
        let table = self.courier.queue().table;
        let mut tx = crate::db::begin(&self.pool).await?;
        let recorded = match &outcome {
            Outcome::Sent(_) => {
                report.sent += 1;
                let sql = format!(
                    "update {table} set status = 'sent', sent_at = $3, last_error = null, claimed_at = null
                      where id = $1 and claimed_at = $2"
                );
                sqlx::query(&sql)
                    .bind(row.id)
                    .bind(row.claimed_at)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
            }
            Outcome::Retry { reason, after } => {
                report.retrying += 1;
                let at = now + after.map_or_else(|| self.backoff(row.attempts), to_chrono);
                tracing::warn!(queue = label, row = row.id, attempts = row.attempts, %reason, retry_at = %at, "outbox: will retry");
                let sql = format!(
                    "update {table} set next_attempt_at = $3, last_error = $4, claimed_at = null
                      where id = $1 and claimed_at = $2"
                );
                sqlx::query(&sql)
                    .bind(row.id)
                    .bind(row.claimed_at)
                    .bind(at)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?
            }
            Outcome::Wait { reason, after } => {
                report.waiting += 1;
                self.pause_for(*after);
                tracing::info!(queue = label, row = row.id, %reason, wait_ms = after.as_millis() as u64, "outbox: the other side asked to wait");
                // Not an attempt: the rate limit says nothing about the row.
                let sql = format!(
                    "update {table} set next_attempt_at = $3, last_error = $4, claimed_at = null,
                            attempts = greatest(attempts - 1, 0)
                      where id = $1 and claimed_at = $2"
                );
                sqlx::query(&sql)
                    .bind(row.id)
                    .bind(row.claimed_at)
                    .bind(now + to_chrono(*after))
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?
            }
            Outcome::Dead(reason) => {
                report.dead += 1;
                tracing::error!(queue = label, row = row.id, attempts = row.attempts, %reason, "outbox: gave up on a delivery");
                let sql = format!(
                    "update {table} set status = 'dead', dead_at = $3, last_error = $4, claimed_at = null
                      where id = $1 and claimed_at = $2"
                );
                sqlx::query(&sql)
                    .bind(row.id)
                    .bind(row.claimed_at)
                    .bind(now)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?
            }
        };
        if recorded.rows_affected() == 0 {
            // Claimed again after this claim's lease ran out: the later
            // claim records its own outcome.
            tracing::warn!(
                queue = label,
                row = row.id,
                "outbox: the lease ran out before the outcome; left to the later claim"
            );
            return tx.rollback().await;
        }
        self.courier.settle(&mut tx, row, &outcome, now).await?;
        tx.commit().await
    }

    fn given_up(&self, row: &Claimed<C::Item>, now: DateTime<Utc>) -> bool {
        match self.courier.policy().give_up {
            GiveUp::Attempts(max) => row.attempts >= max,
            GiveUp::Age(max) => now - row.created_at >= max,
        }
    }

    /// Rows claimed but not sent (the queue paused): due again when the
    /// pause ends, their claim undone.
    async fn put_back(&self, ids: &[i64]) -> Result<(), sqlx::Error> {
        let due = self.clock.now() + self.paused().map_or(chrono::Duration::zero(), to_chrono);
        let sql = format!(
            "update {} set attempts = greatest(attempts - 1, 0), claimed_at = null, next_attempt_at = $2
              where id = any($1) and status = 'pending'",
            self.courier.queue().table
        );
        sqlx::query(&sql)
            .bind(ids)
            .bind(due)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    async fn bury(&self, id: i64, reason: &str) -> Result<(), sqlx::Error> {
        let sql = format!(
            "update {} set status = 'dead', dead_at = $2, last_error = $3, claimed_at = null
              where id = $1",
            self.courier.queue().table
        );
        sqlx::query(&sql)
            .bind(id)
            .bind(self.clock.now())
            .bind(reason)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    /// Exponential backoff with ±25 % jitter, so retries of many rows after
    /// an outage do not arrive at the other side all at once.
    fn backoff(&self, attempts: i32) -> chrono::Duration {
        let policy = self.courier.policy();
        let exponent = (attempts - 1).clamp(0, 20) as u32;
        let base = policy
            .backoff_base
            .checked_mul(2_i32.saturating_pow(exponent))
            .unwrap_or(policy.backoff_max)
            .min(policy.backoff_max);
        let jitter = rand::thread_rng().gen_range(0.75..1.25);
        chrono::Duration::milliseconds((base.num_milliseconds() as f64 * jitter) as i64)
    }
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(1))
}
