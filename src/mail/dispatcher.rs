//! Delivers the outbox. Due rows are claimed with `FOR UPDATE SKIP LOCKED`
//! under a lease, so several dispatchers (several portal instances) share
//! the work and each email goes out once; a dispatcher that dies mid-send
//! leaves its rows to be claimed again when the lease runs out.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::{
    Message,
    message::{Mailbox, MultiPart},
};
use rand::Rng;
use sqlx::{PgPool, postgres::PgListener};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{SendError, Transport};
use crate::{clock::Clock, config::Config};

/// Emails claimed per round.
const BATCH: i64 = 128;
/// Sends in flight at once, one per pooled SMTP connection.
const CONCURRENCY: usize = super::transport::SMTP_CONNECTIONS as usize;
/// Longest sleep between rounds when nothing wakes the dispatcher.
const IDLE_POLL: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Dispatcher {
    pool: PgPool,
    transport: Transport,
    from: Mailbox,
    message_id_domain: String,
    clock: Clock,
    pub max_attempts: i32,
    /// How long a claimed row stays invisible to other dispatchers. Longer
    /// than one SMTP send can take, so a slow send is not sent twice.
    pub lease: chrono::Duration,
    /// Delay before the first retry; doubled for each further attempt.
    pub backoff_base: chrono::Duration,
    pub backoff_max: chrono::Duration,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DispatchReport {
    pub sent: usize,
    pub retrying: usize,
    pub dead: usize,
}

impl DispatchReport {
    pub fn claimed(&self) -> usize {
        self.sent + self.retrying + self.dead
    }
}

struct Claimed {
    id: i64,
    to_address: String,
    to_name: Option<String>,
    subject: String,
    text_body: String,
    html_body: String,
    attempts: i32,
    created_at: DateTime<Utc>,
}

enum Outcome {
    Sent,
    Retry(String),
    Dead(String),
}

impl Dispatcher {
    pub fn new(pool: PgPool, config: &Config, clock: Clock) -> Result<Self, String> {
        let transport = Transport::from_config(&config.mail.transport)?;
        Ok(Self {
            pool,
            transport,
            message_id_domain: config.mail.from.email.domain().to_owned(),
            from: config.mail.from.clone(),
            clock,
            max_attempts: config.mail.max_attempts,
            lease: chrono::Duration::minutes(2),
            backoff_base: chrono::Duration::seconds(10),
            backoff_max: chrono::Duration::hours(1),
        })
    }

    /// Delivers until `shutdown`: wakes on every committed enqueue
    /// (`LISTEN outbox`), when a retry falls due, and at least every 30 s.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut listener = self.listen().await;
        loop {
            let pause = match self.drain().await {
                Ok(()) => self.until_next_due().await,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox: delivery round failed");
                    Duration::from_secs(2)
                }
            };
            let woken = async {
                match listener.as_mut() {
                    Some(l) => {
                        if let Err(e) = l.recv().await {
                            tracing::warn!(error = %e, "outbox: lost the notification channel");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = woken => {}
                _ = tokio::time::sleep(pause) => {}
            }
            if listener.is_none() {
                listener = self.listen().await;
            }
        }
        tracing::info!("outbox dispatcher stopped");
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await.ok()?;
        listener.listen("outbox").await.ok()?;
        Some(listener)
    }

    /// Rounds until nothing due is left.
    async fn drain(&self) -> Result<(), sqlx::Error> {
        loop {
            let report = self.dispatch_once().await?;
            if report.claimed() < BATCH as usize {
                return Ok(());
            }
        }
    }

    async fn until_next_due(&self) -> Duration {
        let next = sqlx::query_scalar!(
            "select min(next_attempt_at) from outbox_emails where status = 'pending'"
        )
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

    /// Claims the emails due now, sends them, and records each outcome.
    pub async fn dispatch_once(&self) -> Result<DispatchReport, sqlx::Error> {
        let now = self.clock.now();
        let claimed = self.claim(now).await?;
        let mut report = DispatchReport::default();
        let mut sends = JoinSet::new();
        let mut queue = claimed.into_iter();
        loop {
            while sends.len() < CONCURRENCY {
                let Some(row) = queue.next() else { break };
                let this = self.clone();
                sends.spawn(async move {
                    let outcome = this.deliver(&row).await;
                    (row.id, row.attempts, outcome)
                });
            }
            let Some(joined) = sends.join_next().await else {
                break;
            };
            let (id, attempts, outcome) = joined.expect("a send task does not panic");
            match outcome {
                Outcome::Sent => {
                    report.sent += 1;
                    self.mark_sent(id).await?;
                }
                Outcome::Retry(error) if attempts < self.max_attempts => {
                    report.retrying += 1;
                    let at = self.clock.now() + self.backoff(attempts);
                    tracing::warn!(email_id = id, attempts, %error, retry_at = %at, "outbox: will retry");
                    self.reschedule(id, at, &error).await?;
                }
                Outcome::Retry(error) | Outcome::Dead(error) => {
                    report.dead += 1;
                    tracing::error!(email_id = id, attempts, %error, "outbox: gave up on an email");
                    self.bury(id, &error).await?;
                }
            }
        }
        if report.claimed() > 0 {
            tracing::info!(
                sent = report.sent,
                retrying = report.retrying,
                dead = report.dead,
                "outbox: round done"
            );
        }
        Ok(report)
    }

    async fn claim(&self, now: DateTime<Utc>) -> Result<Vec<Claimed>, sqlx::Error> {
        sqlx::query_as!(
            Claimed,
            r#"update outbox_emails o
                  set attempts = o.attempts + 1, next_attempt_at = $2
                 from (select id from outbox_emails
                        where status = 'pending' and next_attempt_at <= $1
                        order by next_attempt_at, id
                        limit $3
                        for update skip locked) due
                where o.id = due.id
            returning o.id, o.to_address, o.to_name, o.subject, o.text_body, o.html_body,
                      o.attempts, o.created_at"#,
            now,
            now + self.lease,
            BATCH,
        )
        .fetch_all(&self.pool)
        .await
    }

    async fn deliver(&self, row: &Claimed) -> Outcome {
        let message = match self.build_message(row) {
            Ok(m) => m,
            Err(e) => return Outcome::Dead(e),
        };
        match self.transport.send(row.id, message).await {
            Ok(()) => Outcome::Sent,
            Err(SendError::Temporary(e)) => Outcome::Retry(e),
            Err(SendError::Permanent(e)) => Outcome::Dead(e),
        }
    }

    fn build_message(&self, row: &Claimed) -> Result<Message, String> {
        let address = row
            .to_address
            .parse()
            .map_err(|e| format!("recipient {:?}: {e}", row.to_address))?;
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(row.to_name.clone(), address))
            .subject(&row.subject)
            .message_id(Some(format!(
                "<outbox-{}@{}>",
                row.id, self.message_id_domain
            )))
            .date(row.created_at.into())
            .multipart(MultiPart::alternative_plain_html(
                row.text_body.clone(),
                row.html_body.clone(),
            ))
            .map_err(|e| e.to_string())
    }

    /// Exponential backoff with ±25 % jitter, so retries of many emails
    /// after an outage do not arrive at the server all at once.
    fn backoff(&self, attempts: i32) -> chrono::Duration {
        let exponent = (attempts - 1).clamp(0, 20) as u32;
        let base = self
            .backoff_base
            .checked_mul(2_i32.saturating_pow(exponent))
            .unwrap_or(self.backoff_max)
            .min(self.backoff_max);
        let jitter = rand::thread_rng().gen_range(0.75..1.25);
        chrono::Duration::milliseconds((base.num_milliseconds() as f64 * jitter) as i64)
    }

    async fn mark_sent(&self, id: i64) -> Result<(), sqlx::Error> {
        let now = self.clock.now();
        sqlx::query!(
            "update outbox_emails set status = 'sent', sent_at = $2, last_error = null where id = $1",
            id,
            now
        )
        .execute(&self.pool)
        .await
        .map(drop)
    }

    async fn reschedule(&self, id: i64, at: DateTime<Utc>, error: &str) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "update outbox_emails set next_attempt_at = $2, last_error = $3 where id = $1",
            id,
            at,
            error
        )
        .execute(&self.pool)
        .await
        .map(drop)
    }

    async fn bury(&self, id: i64, error: &str) -> Result<(), sqlx::Error> {
        let now = self.clock.now();
        sqlx::query!(
            "update outbox_emails set status = 'dead', dead_at = $2, last_error = $3 where id = $1",
            id,
            now,
            error
        )
        .execute(&self.pool)
        .await
        .map(drop)
    }
}
