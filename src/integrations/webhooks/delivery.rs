//! Delivering webhooks to partners' endpoints: the third courier of the
//! outbox, beside mail and calls to GitLab. Each attempt is signed afresh
//! (the timestamp is the attempt's), logged with the endpoint's answer, and
//! judged: a 2xx is delivered; anything else is retried with backoff; a
//! name that now resolves to a private address is not called at all. An
//! endpoint that has failed every delivery for three days is disabled, its
//! waiting deliveries given up, and its organisation's admins emailed.

use std::{sync::Arc, time::Instant};

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use sqlx::{PgConnection, PgPool};

use super::{guard, signing};
use crate::{
    audit,
    config::Config,
    error::AppError,
    mail::Notice,
    organizations,
    outbox::{Claimed, Courier, GiveUp, Outcome, Policy, Queue, Worker},
    secrets::{Purpose, Secrets},
    state::AppState,
};

pub static ENDPOINT_DELIVERIES: Queue = Queue {
    table: "endpoint_deliveries",
    channel: "endpoint_deliveries",
    label: "webhooks",
};

/// How long an endpoint may fail every delivery before it is disabled, and
/// a delivery be retried before it is given up.
pub fn failing_limit() -> chrono::Duration {
    chrono::Duration::days(3)
}

/// The part of an answer kept in the log.
pub const EXCERPT_BYTES: usize = 1024;

/// What the secret column of an endpoint is sealed for.
pub const SEALED_PURPOSE: &str = "webhook_endpoints.secret";

pub fn purpose(endpoint_id: i64) -> Purpose {
    Purpose::new(SEALED_PURPOSE, endpoint_id)
}

/// One delivery, as loaded for its attempt.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub partner_id: i64,
    pub endpoint_id: i64,
    pub url: String,
    pub secret_sealed: Option<String>,
    pub disabled: bool,
    pub message_id: String,
    pub event_type: String,
    pub body: String,
}

#[derive(Clone)]
pub struct Deliveries {
    pool: PgPool,
    client: reqwest::Client,
    secrets: Arc<Secrets>,
    config: Arc<Config>,
    pub policy: Policy,
}

impl Deliveries {
    pub fn new(state: &AppState) -> Self {
        Self {
            pool: state.pool.clone(),
            client: guard::client(
                state.config.webhook_allow_loopback,
                concat!("partner-portal-webhooks/", env!("CARGO_PKG_VERSION")),
            ),
            secrets: state.secrets.clone(),
            config: state.config.clone(),
            policy: Policy {
                batch: 64,
                // Partners' endpoints are many and independent: one slow
                // one (up to the client's 10 s) must not hold the others.
                concurrency: 32,
                lease: chrono::Duration::minutes(1),
                backoff_base: chrono::Duration::seconds(10),
                backoff_max: chrono::Duration::hours(6),
                give_up: GiveUp::Age(failing_limit()),
                pace: None,
            },
        }
    }
}

/// The worker for partners' webhooks of this instance.
pub fn worker(state: &AppState) -> Worker<Deliveries> {
    Worker::with_courier(
        state.pool.clone(),
        state.clock.clone(),
        Deliveries::new(state),
    )
}

/// What one attempt got, for the log.
#[derive(Debug, Default)]
struct Answer {
    status: Option<u16>,
    excerpt: Option<String>,
    error: Option<String>,
}

impl Courier for Deliveries {
    type Item = Delivery;

    fn queue(&self) -> &'static Queue {
        &ENDPOINT_DELIVERIES
    }

    fn policy(&self) -> &Policy {
        &self.policy
    }

    async fn load(&self, pool: &PgPool, ids: &[i64]) -> Result<Vec<(i64, Delivery)>, sqlx::Error> {
        let rows = sqlx::query!(
            "select d.id, d.partner_id, d.endpoint_id, d.message_id, d.event_type, d.payload,
                    e.url, e.secret_sealed, e.disabled_at is not null as \"disabled!\"
               from endpoint_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
              where d.id = any($1)",
            ids
        )
        .fetch_all(pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.id,
                    Delivery {
                        partner_id: r.partner_id,
                        endpoint_id: r.endpoint_id,
                        url: r.url,
                        secret_sealed: r.secret_sealed,
                        disabled: r.disabled,
                        message_id: r.message_id,
                        event_type: r.event_type,
                        body: r.payload.to_string(),
                    },
                )
            })
            .collect())
    }

    async fn send(&self, claimed: &Claimed<Delivery>) -> Outcome {
        let d = &claimed.item;
        if d.disabled {
            return Outcome::Dead("the endpoint is disabled".into());
        }
        let secret = match d
            .secret_sealed
            .as_deref()
            .map(|s| self.secrets.open_str(&purpose(d.endpoint_id), s))
        {
            Some(Ok(secret)) => secret,
            Some(Err(e)) => return Outcome::Dead(format!("the endpoint's secret: {e}")),
            None => return Outcome::Dead("the endpoint has no secret".into()),
        };
        // The receiver compares this with its own clock, so it is the real
        // time of the attempt, not the portal's clock.
        let timestamp = Utc::now().timestamp();
        let signature = match signing::sign(&secret, &d.message_id, timestamp, d.body.as_bytes()) {
            Ok(s) => s,
            Err(e) => return Outcome::Dead(e.into()),
        };
        let started = Instant::now();
        let sent = self
            .client
            .post(&d.url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(d.body.clone())
            .send()
            .await;
        let (outcome, answer) = match sent {
            Ok(response) => judge(response).await,
            Err(e) => failed(&e),
        };
        let elapsed = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
        if let Err(e) = log_attempt(&self.pool, claimed, &answer, elapsed).await {
            tracing::warn!(error = %e, delivery = claimed.id, "webhooks: could not log an attempt");
        }
        outcome
    }

    async fn settle(
        &self,
        tx: &mut PgConnection,
        claimed: &Claimed<Delivery>,
        outcome: &Outcome,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let d = &claimed.item;
        match outcome {
            Outcome::Sent(_) => {
                sqlx::query!(
                    "update webhook_endpoints set failing_since = null where id = $1",
                    d.endpoint_id
                )
                .execute(tx)
                .await?;
                Ok(())
            }
            Outcome::Dead(_) if d.disabled => Ok(()),
            Outcome::Retry { reason, .. } | Outcome::Dead(reason) => {
                let failing_since = sqlx::query_scalar!(
                    "update webhook_endpoints set failing_since = coalesce(failing_since, $2)
                      where id = $1 and disabled_at is null returning failing_since",
                    d.endpoint_id,
                    now
                )
                .fetch_optional(&mut *tx)
                .await?
                .flatten();
                match failing_since {
                    Some(since) if now - since >= failing_limit() => {
                        disable(tx, &self.config, d, reason, now).await
                    }
                    _ => Ok(()),
                }
            }
            Outcome::Wait { .. } => Ok(()),
        }
    }
}

/// A 2xx is delivered; any other answer is retried (at the time a 429 or
/// 503 asked for, within reason). A 429 is not a pause of the whole queue,
/// as it is for GitLab: it speaks for one partner's endpoint only.
async fn judge(response: reqwest::Response) -> (Outcome, Answer) {
    let status = response.status();
    let after = crate::gitlab::client::wait_asked(response.headers(), std::time::SystemTime::now())
        .map(|d| d.min(std::time::Duration::from_secs(3600)));
    let excerpt = excerpt(response).await;
    let answer = Answer {
        status: Some(status.as_u16()),
        excerpt,
        error: None,
    };
    let outcome = if status.is_success() {
        Outcome::Sent(None)
    } else {
        Outcome::Retry {
            reason: match status {
                s if s.is_redirection() => {
                    format!("answered {s}; deliveries do not follow redirects")
                }
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                    format!("answered {status}")
                }
                s => format!("answered {s}"),
            },
            after: after.filter(|_| {
                matches!(
                    status,
                    StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
                )
            }),
        }
    };
    (outcome, answer)
}

/// The first KiB of the answer, read no further.
async fn excerpt(mut response: reqwest::Response) -> Option<String> {
    let mut body = Vec::new();
    while body.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(EXCERPT_BYTES);
    if body.is_empty() {
        return None;
    }
    // A cut in the middle of a character loses that character only.
    Some(String::from_utf8_lossy(&body).into_owned())
}

/// No answer: not allowed, refused, timed out.
fn failed(error: &reqwest::Error) -> (Outcome, Answer) {
    if let Some(ip) = guard::refused_by_guard(error) {
        let reason =
            format!("not called: the name resolves to {ip}, which is not a public address");
        return (
            Outcome::Dead(reason.clone()),
            Answer {
                error: Some(reason),
                ..Answer::default()
            },
        );
    }
    let reason = if error.is_timeout() {
        "no answer within 10 seconds".to_owned()
    } else if error.is_connect() {
        format!("could not connect: {}", root_cause(error))
    } else {
        format!("the request failed: {}", root_cause(error))
    };
    (
        Outcome::Retry {
            reason: reason.clone(),
            after: None,
        },
        Answer {
            error: Some(reason),
            ..Answer::default()
        },
    )
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

async fn log_attempt(
    pool: &PgPool,
    claimed: &Claimed<Delivery>,
    answer: &Answer,
    duration_ms: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into endpoint_attempts (partner_id, endpoint_id, delivery_id, attempted_at,
                                        status_code, duration_ms, response_excerpt, error)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
        claimed.item.partner_id,
        claimed.item.endpoint_id,
        claimed.id,
        Utc::now(),
        answer.status.map(i32::from),
        duration_ms,
        answer.excerpt,
        answer.error
    )
    .execute(pool)
    .await
    .map(drop)
}

/// Disables an endpoint that failed for three days: its waiting deliveries
/// are given up, and the organisation's admins told why and what to do.
async fn disable(
    tx: &mut PgConnection,
    config: &Config,
    d: &Delivery,
    last_reason: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let reason = format!("Every delivery failed for three days; the last {last_reason}.");
    sqlx::query!(
        "update webhook_endpoints set disabled_at = $2, disabled_reason = $3 where id = $1",
        d.endpoint_id,
        now,
        reason
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update endpoint_deliveries set status = 'dead', dead_at = $2,
                last_error = 'given up: the endpoint was disabled'
          where endpoint_id = $1 and status = 'pending' and claimed_at is null",
        d.endpoint_id,
        now
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        tx,
        now,
        &audit::Actor::system("webhook deliveries"),
        audit::Entry {
            action: "webhook_endpoint.disabled",
            partner_id: Some(d.partner_id),
            subject: Some(("webhook_endpoint", d.endpoint_id)),
            after: Some(serde_json::json!({ "url": d.url, "reason": reason })),
            ..Default::default()
        },
    )
    .await?;
    let admins = organizations::emails::admins(tx, d.partner_id).await?;
    organizations::emails::send_each(tx, now, &admins, |name| {
        disabled_notice(config, name, &d.url, d.endpoint_id, last_reason)
    })
    .await
    .map_err(|e| match e {
        AppError::Database(e) => e,
        // The notice's fixed template does not fail to render.
        other => sqlx::Error::Protocol(format!("queueing the email: {other}")),
    })?;
    tracing::warn!(endpoint = d.endpoint_id, url = %d.url, "webhooks: endpoint disabled after three days of failures");
    Ok(())
}

fn disabled_notice(
    config: &Config,
    name: &str,
    url: &str,
    endpoint_id: i64,
    last_reason: &str,
) -> Notice {
    Notice::new(
        "webhook_endpoint_disabled",
        format!("Webhook endpoint disabled: {url}"),
        name,
    )
    .paragraph(format!(
        "Every delivery to your webhook endpoint {url} has failed for three days, so the portal stopped sending to it."
    ))
    .paragraph(format!("The last attempt {last_reason}."))
    .paragraph("Once the endpoint answers again, enable it on its page; the deliveries it missed are listed there and can be sent again.")
    .action(
        "See the endpoint",
        config.link(&format!("/integrations/endpoints/{endpoint_id}")),
    )
}
