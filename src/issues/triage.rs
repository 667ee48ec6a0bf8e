//! What staff do to issues: assign one from the triage queue, set or change
//! its severity, close or reopen it, enter one by hand. Privileged path; each
//! change is recorded in the issue's history and the audit log.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{
    Severity, clock_start_for_triage, deadline,
    history::{self, ALLIANCE_TEAM, Event},
    record::{self, IssueRecord},
    share, sla,
};
use crate::{
    audit::{self, Actor},
    config::Config,
    dates::date_time,
    error::{AppError, AppResult},
};

async fn locked(conn: &mut PgConnection, id: i64) -> AppResult<IssueRecord> {
    record::load_for_update(conn, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn note(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    issue: &IssueRecord,
    kind: &str,
    summary: String,
) -> AppResult<()> {
    history::record(
        conn,
        now,
        issue.partner_id,
        issue.id,
        Event {
            kind,
            summary,
            actor: ALLIANCE_TEAM,
            data: None,
        },
    )
    .await
    .map_err(Into::into)
}

/// Sets the severity. Without a clock it starts now (the staff action's
/// time); with one, the deadline moves to the new window from the same start.
pub async fn set_severity(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: i64,
    severity: Severity,
    actor: &Actor,
) -> AppResult<bool> {
    let issue = locked(conn, id).await?;
    if issue.severity() == Some(severity) {
        return Ok(false);
    }
    let table = sla::load(conn).await?;
    let start = clock_start_for_triage(issue.clock_started_at, now);
    let due = deadline(start, severity, &table);
    let next = record::next_reminder_at(
        issue.partner_id,
        issue.is_open(),
        Some(start),
        Some(due),
        issue.last_reminder(),
    );
    sqlx::query!(
        "update issues set severity = $2, clock_started_at = $3, deadline_at = $4, next_reminder_at = $5
          where id = $1",
        id,
        severity.as_i16(),
        start,
        due,
        next
    )
    .execute(&mut *conn)
    .await?;
    let summary = match (issue.severity(), issue.deadline_at) {
        (Some(old), Some(old_due)) => format!(
            "Severity changed from {} to {} by the alliance team. The deadline moved from {} to {}, counted from the same start ({}).",
            old.as_i16(),
            severity.as_i16(),
            date_time(old_due),
            date_time(due),
            date_time(start)
        ),
        _ => format!(
            "{severity} set by the alliance team. The clock started {}; deadline {}.",
            date_time(start),
            date_time(due)
        ),
    };
    let kind = if issue.severity.is_some() {
        "severity_changed"
    } else {
        "severity_set"
    };
    note(conn, now, &issue, kind, summary).await?;
    audit::record(
        conn,
        now,
        actor,
        audit::Entry {
            action: "issue.severity_set",
            partner_id: issue.partner_id,
            subject: Some(("issue", id)),
            before: Some(
                serde_json::json!({ "severity": issue.severity, "deadline": issue.deadline_at }),
            ),
            after: Some(serde_json::json!({ "severity": severity.as_i16(), "deadline": due })),
        },
    )
    .await?;
    Ok(true)
}

/// Assigns an issue waiting for triage to a partner, optionally setting its
/// severity first.
pub async fn assign(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    id: i64,
    partner_id: i64,
    severity: Option<Severity>,
    actor: &Actor,
) -> AppResult<()> {
    let issue = locked(conn, id).await?;
    if issue.partner_id.is_some() {
        return Err(AppError::NotPermitted(
            "This issue already belongs to a partner.",
        ));
    }
    if let Some(severity) = severity {
        set_severity(conn, now, id, severity, actor).await?;
    }
    share::share(
        conn,
        config,
        now,
        id,
        partner_id,
        share::By {
            how: "by the alliance team".to_owned(),
            actor,
            history_actor: ALLIANCE_TEAM,
        },
    )
    .await
}

/// Closes an open issue now; its deadline is met or missed by that time.
pub async fn close(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    id: i64,
    actor: &Actor,
) -> AppResult<bool> {
    let issue = locked(conn, id).await?;
    if !issue.is_open() {
        return Ok(false);
    }
    sqlx::query!(
        "update issues set state = 'closed', resolved_at = $2, next_reminder_at = null where id = $1",
        id,
        now
    )
    .execute(&mut *conn)
    .await?;
    note(
        conn,
        now,
        &issue,
        "closed",
        "Closed by the alliance team.".into(),
    )
    .await?;
    audit::record(
        conn,
        now,
        actor,
        audit::Entry {
            action: "issue.closed",
            partner_id: issue.partner_id,
            subject: Some(("issue", id)),
            before: Some(serde_json::json!({ "state": "open" })),
            after: Some(serde_json::json!({ "state": "closed", "resolved_at": now })),
        },
    )
    .await?;
    if let Some(partner_id) = issue.partner_id {
        crate::integrations::webhooks::emit_issue(
            conn,
            config,
            now,
            partner_id,
            id,
            crate::integrations::webhooks::Event::IssueClosed,
            serde_json::json!({ "closed_by": "alliance_team" }),
        )
        .await?;
    }
    Ok(true)
}

/// Reopens a closed issue; the clock and deadline stay as they were.
pub async fn reopen(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    id: i64,
    actor: &Actor,
) -> AppResult<bool> {
    let issue = locked(conn, id).await?;
    if issue.is_open() {
        return Ok(false);
    }
    let next = record::next_reminder_at(
        issue.partner_id,
        true,
        issue.clock_started_at,
        issue.deadline_at,
        issue.last_reminder(),
    );
    sqlx::query!(
        "update issues set state = 'open', resolved_at = null, next_reminder_at = $2 where id = $1",
        id,
        next
    )
    .execute(&mut *conn)
    .await?;
    note(
        conn,
        now,
        &issue,
        "reopened",
        "Reopened by the alliance team. The clock and the deadline stay as they were.".into(),
    )
    .await?;
    audit::record(
        conn,
        now,
        actor,
        audit::Entry {
            action: "issue.reopened",
            partner_id: issue.partner_id,
            subject: Some(("issue", id)),
            before: Some(
                serde_json::json!({ "state": "closed", "resolved_at": issue.resolved_at }),
            ),
            after: Some(serde_json::json!({ "state": "open" })),
        },
    )
    .await?;
    Ok(true)
}

/// An issue entered by hand.
#[derive(Debug, Clone)]
pub struct NewIssue {
    pub title: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub project_path: Option<String>,
    pub partner_id: Option<i64>,
    pub severity: Option<Severity>,
}

pub async fn create(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    new: &NewIssue,
    actor: &Actor,
) -> AppResult<i64> {
    let id = sqlx::query_scalar!(
        "insert into issues (source, project_path, url, title, description, created_at)
         values ('staff', $1, $2, $3, $4, $5) returning id",
        new.project_path,
        new.url,
        new.title,
        new.description,
        now
    )
    .fetch_one(&mut *conn)
    .await?;
    let issue = locked(conn, id).await?;
    note(
        conn,
        now,
        &issue,
        "received",
        "Entered by the alliance team.".into(),
    )
    .await?;
    audit::record(
        conn,
        now,
        actor,
        audit::Entry {
            action: "issue.created",
            subject: Some(("issue", id)),
            after: Some(serde_json::json!({ "title": new.title, "project": new.project_path })),
            ..Default::default()
        },
    )
    .await?;
    if let Some(severity) = new.severity {
        set_severity(conn, now, id, severity, actor).await?;
    }
    if let Some(partner_id) = new.partner_id {
        assign(conn, config, now, id, partner_id, None, actor).await?;
    }
    Ok(id)
}
