//! The append-only audit log: who did what, when, from where, before → after.
//! The table refuses updates and deletes (a trigger), so history cannot be
//! rewritten by the application either. Staff read all of it, partner
//! admins their organisation's entries (`routes`).

mod csv;
pub mod names;
pub mod query;
pub mod routes;
pub mod view;

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, types::ipnetwork::IpNetwork};

/// Who acted.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    /// A readable name for the log: an email, "command line", "scheduler".
    pub label: String,
    pub ip: Option<IpAddr>,
}

impl Actor {
    pub fn command_line() -> Self {
        Self {
            user_id: None,
            label: "command line".into(),
            ip: None,
        }
    }

    pub fn system(label: &str) -> Self {
        Self {
            user_id: None,
            label: label.into(),
            ip: None,
        }
    }
}

/// One state change.
#[derive(Debug, Default)]
pub struct Entry<'a> {
    pub action: &'a str,
    pub partner_id: Option<i64>,
    pub subject: Option<(&'a str, i64)>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub async fn record(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    entry: Entry<'_>,
) -> Result<(), sqlx::Error> {
    let (subject_type, subject_id) = entry.subject.unzip();
    sqlx::query!(
        r#"insert into audit_log
               (occurred_at, actor_user_id, actor, partner_id, action, subject_type, subject_id, ip, before, after)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"#,
        now,
        actor.user_id,
        actor.label,
        entry.partner_id,
        entry.action,
        subject_type,
        subject_id,
        actor.ip.map(IpNetwork::from),
        entry.before,
        entry.after,
    )
    .execute(tx)
    .await
    .map(drop)
}
