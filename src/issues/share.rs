//! Giving an issue to its partner, by routing or by staff: from then on it
//! is theirs (and never another's), its history moves with it, its reminders
//! are scheduled, and the partner's people are emailed a link.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{
    emails::{self, Brief},
    history::{self, Event},
    record::{self, IssueRecord},
};
use crate::{
    audit::{self, Actor},
    config::Config,
    error::{AppError, AppResult},
    organizations,
};

/// The partner's company name (privileged path).
pub async fn company_name(conn: &mut PgConnection, partner_id: i64) -> Result<String, sqlx::Error> {
    sqlx::query_scalar!(
        "select company_name from partners where id = $1",
        partner_id
    )
    .fetch_one(conn)
    .await
}

pub fn brief(issue: &IssueRecord, company: &str) -> Brief {
    Brief {
        id: issue.id,
        title: issue.title.clone(),
        reference: issue.reference(),
        severity: issue.severity(),
        deadline: issue.deadline_at,
        confidential: issue.confidential,
        company: company.to_owned(),
    }
}

/// Who gives the issue and how.
pub struct By<'a> {
    /// Ends the history sentence: "through its verified namespace acme-corp".
    pub how: String,
    pub actor: &'a Actor,
    /// The name history shows (never a staff address).
    pub history_actor: &'a str,
}

/// Gives issue `issue_id`, still unassigned, to `partner_id`.
pub async fn share(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    issue_id: i64,
    partner_id: i64,
    by: By<'_>,
) -> AppResult<()> {
    let By {
        how,
        actor,
        history_actor,
    } = by;
    let issue = record::load_for_update(conn, issue_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if issue.partner_id.is_some() {
        return Err(AppError::internal("the issue already belongs to a partner"));
    }
    let next = record::next_reminder_at(
        Some(partner_id),
        issue.is_open(),
        issue.clock_started_at,
        issue.deadline_at,
        issue.last_reminder(),
    );
    sqlx::query!(
        "update issues set partner_id = $2, routed_at = $3, next_reminder_at = $4 where id = $1",
        issue_id,
        partner_id,
        now,
        next
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update issue_events set partner_id = $2 where issue_id = $1 and partner_id is null",
        issue_id,
        partner_id
    )
    .execute(&mut *conn)
    .await?;
    super::comments::follow_share(conn, issue_id, partner_id).await?;
    let company = company_name(conn, partner_id).await?;
    history::record(
        conn,
        now,
        Some(partner_id),
        issue_id,
        Event {
            kind: "shared",
            summary: format!("Shared with {company} {how}."),
            actor: history_actor,
            data: None,
        },
    )
    .await?;
    audit::record(
        conn,
        now,
        actor,
        audit::Entry {
            action: "issue.shared",
            partner_id: Some(partner_id),
            subject: Some(("issue", issue_id)),
            before: Some(serde_json::json!({ "partner_id": null })),
            after: Some(serde_json::json!({ "partner_id": partner_id, "how": how })),
        },
    )
    .await?;
    crate::integrations::webhooks::emit_issue(
        conn,
        config,
        now,
        partner_id,
        issue_id,
        crate::integrations::webhooks::Event::IssueShared,
        serde_json::json!({}),
    )
    .await?;
    if issue.is_open() {
        let brief = brief(&issue, &company);
        let people = organizations::emails::members(conn, partner_id).await?;
        organizations::emails::send_each(conn, now, &people, |name| {
            emails::shared(config, &brief, name)
        })
        .await?;
    }
    Ok(())
}
