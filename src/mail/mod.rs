//! Outgoing email. A feature writes its email into the outbox table inside
//! its own transaction ([`enqueue`]); the [`Dispatcher`] delivers it later.
//! Nothing in a request waits on SMTP, and an email whose transaction rolls
//! back is never sent.

mod dispatcher;
mod notice;
mod transport;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

pub use dispatcher::{DispatchReport, Dispatcher, MAIL, Mail};
pub use notice::{Action, Notice};
pub use transport::{SendError, Transport};

use crate::error::AppResult;

/// Who an email goes to.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub address: String,
    pub name: Option<String>,
}

impl Recipient {
    pub fn new(address: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            name: Some(name.into()),
        }
    }
}

/// An email type: a subject and two askama bodies, plain text and HTML.
/// Implemented through [`email_bodies!`](crate::email_bodies).
pub trait EmailMessage {
    /// A short name for logs and the outbox (`staff_welcome`).
    fn kind(&self) -> &'static str;
    fn subject(&self) -> String;
    /// The plain-text and HTML bodies.
    fn bodies(&self) -> askama::Result<(String, String)>;
}

/// Declares the text and HTML templates of an email type.
///
/// The type provides `fn subject_line(&self) -> String`; the templates reach
/// its fields as `e.field`.
#[macro_export]
macro_rules! email_bodies {
    ($data:ident, $kind:literal, $text:ident = $text_path:literal, $html:ident = $html_path:literal) => {
        impl $data {
            fn kind_name(&self) -> &'static str {
                $kind
            }
        }
        $crate::email_bodies!($data, kind_name, $text = $text_path, $html = $html_path);
    };
    ($data:ident, $kind_fn:ident, $text:ident = $text_path:literal, $html:ident = $html_path:literal) => {
        #[derive(askama::Template)]
        #[template(path = $text_path)]
        struct $text<'a> {
            e: &'a $data,
        }

        #[derive(askama::Template)]
        #[template(path = $html_path)]
        struct $html<'a> {
            e: &'a $data,
        }

        impl $crate::mail::EmailMessage for $data {
            fn kind(&self) -> &'static str {
                self.$kind_fn()
            }
            fn subject(&self) -> String {
                self.subject_line()
            }
            fn bodies(&self) -> askama::Result<(String, String)> {
                use askama::Template as _;
                Ok(($text { e: self }.render()?, $html { e: self }.render()?))
            }
        }
    };
}

/// Writes `email` to the outbox in the caller's transaction and wakes the
/// dispatchers when that transaction commits.
pub async fn enqueue<E: EmailMessage>(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
    to: &Recipient,
    email: &E,
) -> AppResult<i64> {
    let (text, html) = email.bodies()?;
    let id = sqlx::query_scalar!(
        r#"insert into outbox_emails
               (kind, to_address, to_name, subject, text_body, html_body, next_attempt_at, created_at)
           values ($1, $2, $3, $4, $5, $6, $7, $7)
           returning id"#,
        email.kind(),
        to.address,
        to.name,
        email.subject(),
        text,
        html,
        now,
    )
    .fetch_one(&mut *tx)
    .await?;
    // Delivered to listeners only if and when the transaction commits.
    crate::outbox::notify(tx, &MAIL).await?;
    Ok(id)
}
