//! Email's courier for the outbox (`crate::outbox`): the worker claims due
//! rows of `outbox_emails` under a lease, so several dispatchers (several
//! portal instances) share the work and each email goes out once; this
//! module only builds a message from its row and hands it to SMTP or a file.

use chrono::{DateTime, Utc};
use lettre::{
    Message,
    message::{Mailbox, MultiPart},
};
use sqlx::PgPool;

use super::{SendError, Transport};
use crate::{
    clock::Clock,
    config::Config,
    outbox::{self, Claimed, Courier, GiveUp, Outcome, Policy, Queue, Worker},
};

/// The outbox of emails: `outbox_emails`, woken by `NOTIFY outbox`.
pub static MAIL: Queue = Queue {
    table: "outbox_emails",
    channel: "outbox",
    label: "mail",
};

/// Emails claimed per round.
const BATCH: i64 = 128;
/// Sends in flight at once, one per pooled SMTP connection.
const CONCURRENCY: usize = super::transport::SMTP_CONNECTIONS as usize;

/// Delivers the outbox of emails.
pub type Dispatcher = Worker<Mail>;
/// What one round of the dispatcher did.
pub type DispatchReport = outbox::Report;

/// How an email is sent: built from its row, handed to SMTP or a file.
#[derive(Clone)]
pub struct Mail {
    transport: Transport,
    from: Mailbox,
    message_id_domain: String,
    pub policy: Policy,
}

pub struct Email {
    to_address: String,
    to_name: Option<String>,
    subject: String,
    text_body: String,
    html_body: String,
}

impl Worker<Mail> {
    pub fn new(pool: PgPool, config: &Config, clock: Clock) -> Result<Self, String> {
        let transport = Transport::from_config(&config.mail.transport)?;
        let courier = Mail {
            transport,
            message_id_domain: config.mail.from.email.domain().to_owned(),
            from: config.mail.from.clone(),
            policy: Policy {
                batch: BATCH,
                concurrency: CONCURRENCY,
                lease: chrono::Duration::minutes(2),
                backoff_base: chrono::Duration::seconds(10),
                backoff_max: chrono::Duration::hours(1),
                give_up: GiveUp::Attempts(config.mail.max_attempts),
                pace: None,
            },
        };
        Ok(Self::with_courier(pool, clock, courier))
    }

    /// Claims the emails due now, sends them, and records each outcome.
    pub async fn dispatch_once(&self) -> Result<DispatchReport, sqlx::Error> {
        self.deliver_once().await
    }
}

impl Courier for Mail {
    type Item = Email;

    fn queue(&self) -> &'static Queue {
        &MAIL
    }

    fn policy(&self) -> &Policy {
        &self.policy
    }

    async fn load(&self, pool: &PgPool, ids: &[i64]) -> Result<Vec<(i64, Email)>, sqlx::Error> {
        let rows = sqlx::query!(
            "select id, to_address, to_name, subject, text_body, html_body
               from outbox_emails where id = any($1)",
            ids
        )
        .fetch_all(pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.id,
                    Email {
                        to_address: r.to_address,
                        to_name: r.to_name,
                        subject: r.subject,
                        text_body: r.text_body,
                        html_body: r.html_body,
                    },
                )
            })
            .collect())
    }

    async fn send(&self, row: &Claimed<Email>) -> Outcome {
        let message = match self.build_message(row.id, row.created_at, &row.item) {
            Ok(m) => m,
            Err(e) => return Outcome::Dead(e),
        };
        match self.transport.send(row.id, message).await {
            Ok(()) => Outcome::Sent(None),
            Err(SendError::Temporary(reason)) => Outcome::Retry {
                reason,
                after: None,
            },
            Err(SendError::Permanent(e)) => Outcome::Dead(e),
        }
    }
}

impl Mail {
    fn build_message(
        &self,
        id: i64,
        created_at: DateTime<Utc>,
        row: &Email,
    ) -> Result<Message, String> {
        let address = row
            .to_address
            .parse()
            .map_err(|e| format!("recipient {:?}: {e}", row.to_address))?;
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(row.to_name.clone(), address))
            .subject(&row.subject)
            .message_id(Some(format!("<outbox-{}@{}>", id, self.message_id_domain)))
            .date(created_at.into())
            .multipart(MultiPart::alternative_plain_html(
                row.text_body.clone(),
                row.html_body.clone(),
            ))
            .map_err(|e| e.to_string())
    }
}
