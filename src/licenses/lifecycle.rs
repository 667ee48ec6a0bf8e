//! The writes that requests, renewals and staff decisions share: issuing a
//! term, recording a request, telling the organisation's admins. Each runs
//! inside the caller's transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{
    emails::{self, About, Change},
    generate_key,
    reminders::next_reminder_at,
    rules::{renewal_term, term_end},
};
use crate::{
    audit::Actor,
    config::Config,
    error::AppResult,
    integrations::webhooks,
    organizations::emails::{admins, send_each},
};

/// Who acts: for the audit log, and as the partner's history shows them.
pub struct Who<'a> {
    pub actor: &'a Actor,
    pub user_id: Option<i64>,
    pub shown_as: &'a str,
}

/// How the history names the alliance team.
pub const STAFF: &str = "Alliance team";

pub fn users_phrase(n: i32) -> String {
    format!("{n} user{}", if n == 1 { "" } else { "s" })
}

/// Queues the email about `change` to every admin of the organisation.
pub async fn notify(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    partner_id: i64,
    about: &About,
    change: &Change,
) -> AppResult<()> {
    let recipients = admins(conn, partner_id).await?;
    send_each(conn, now, &recipients, |name| {
        emails::notice(config, name, about, change)
    })
    .await
}

/// Makes a waiting license active: its key and first 12-month term.
pub async fn issue_new(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    license_id: i64,
    users: i32,
) -> Result<(DateTime<Utc>, DateTime<Utc>), sqlx::Error> {
    let expires_at = term_end(now);
    sqlx::query!(
        "update licenses set state = 'active', license_key = $2, issued_at = $3, expires_at = $4,
                decided_at = $3, users = $5, next_reminder_at = $6
          where id = $1",
        license_id,
        generate_key(),
        now,
        expires_at,
        users,
        next_reminder_at(expires_at, None)
    )
    .execute(&mut *conn)
    .await?;
    issued(conn, config, now, license_id, "new", (now, expires_at)).await?;
    Ok((now, expires_at))
}

/// Extends an active license by a term: from its expiry, or from `now` if it
/// has expired. Reminders start over for the new expiry.
pub async fn issue_renewal(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    license_id: i64,
    old_expiry: DateTime<Utc>,
    users: i32,
) -> Result<(DateTime<Utc>, DateTime<Utc>), sqlx::Error> {
    let (starts_at, expires_at) = renewal_term(old_expiry, now);
    sqlx::query!(
        "update licenses set expires_at = $2, users = $3, next_reminder_at = $4 where id = $1",
        license_id,
        expires_at,
        users,
        next_reminder_at(expires_at, None)
    )
    .execute(&mut *conn)
    .await?;
    issued(
        conn,
        config,
        now,
        license_id,
        "renewal",
        (starts_at, expires_at),
    )
    .await?;
    Ok((starts_at, expires_at))
}

/// Tells the partner's tools that a term was issued (`license.issued`).
async fn issued(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    license_id: i64,
    kind: &str,
    span: (DateTime<Utc>, DateTime<Utc>),
) -> Result<(), sqlx::Error> {
    webhooks::emit_license(
        conn,
        config,
        now,
        license_id,
        webhooks::Event::LicenseIssued,
        serde_json::json!({ "term": { "kind": kind, "starts_at": span.0, "expires_at": span.1 } }),
    )
    .await
    .map(drop)
}

/// Records a term as issued for that span.
pub async fn mark_term_issued(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    term_id: i64,
    span: (DateTime<Utc>, DateTime<Utc>),
    note: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update license_terms set state = 'issued', starts_at = $2, expires_at = $3, decided_at = $4, reason = $5
          where id = $1",
        term_id,
        span.0,
        span.1,
        now,
        note
    )
    .execute(conn)
    .await
    .map(drop)
}

pub(super) async fn insert_term(
    conn: &mut PgConnection,
    license: (i64, i64),
    kind: &str,
    users: i32,
    justification: Option<&str>,
    who: &Who<'_>,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into license_terms (partner_id, license_id, kind, state, users, justification, requested_by, requested_at)
         values ($1, $2, $3, 'pending', $4, $5, $6, $7) returning id",
        license.0,
        license.1,
        kind,
        users,
        justification,
        who.user_id,
        now
    )
    .fetch_one(conn)
    .await
}
