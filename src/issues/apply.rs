//! Applying one tracker event to the portal's copy of the issue: create or
//! update it, route it, start or move its clock, record what changed. Runs in
//! the background task's transaction, on the privileged path.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{
    IssueAction, IssueEvent, Severity, SlaTable, TrackerState, clock_start_for, deadline,
    effective_severity,
    history::{self, Event, TRACKER},
    record::{self, IssueRecord},
    routing::{self, ProjectHome},
    share, sla,
};
use crate::{
    audit::{self, Actor},
    config::Config,
    dates::date_time,
    error::{AppError, AppResult},
};

/// What an event did to its issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created(i64),
    Updated(i64),
    /// Older than what the portal already knows of the issue (deliveries
    /// can arrive out of order): nothing changed.
    Stale(i64),
}

impl Outcome {
    pub fn issue_id(self) -> i64 {
        match self {
            Outcome::Created(id) | Outcome::Updated(id) | Outcome::Stale(id) => id,
        }
    }
}

fn tracker_actor() -> Actor {
    Actor::system("issue tracker")
}

pub async fn apply(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    event: &IssueEvent,
) -> AppResult<Outcome> {
    let table = sla::load(conn).await?;
    let existing = sqlx::query_scalar!(
        "select id from issues where external_id = $1 for update",
        event.external_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    match existing {
        Some(id) => update(conn, config, now, event, &table, id).await,
        None => create(conn, config, now, event, &table).await,
    }
}

/// Where the clock starts for an issue the portal already holds without a
/// severity: at the event that shows the first severity label (its
/// `updated_at`), since the portal knows the issue was unlabelled before.
pub fn start_for_known_issue(
    event: &IssueEvent,
    existing_start: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    existing_start.or_else(|| event.severity.map(|_| event.updated_at))
}

/// The description as safe HTML, links read against the project.
fn description_html(event: &IssueEvent) -> Option<String> {
    let project = event
        .project_web_url
        .clone()
        .or_else(|| record::project_url(&event.url));
    event
        .description
        .as_deref()
        .map(|d| crate::markdown::render(d, project.as_deref()))
}

fn severity_sentence(severity: Severity, start: DateTime<Utc>, due: DateTime<Utc>) -> String {
    format!(
        "{severity} (label {}). The clock started {}; deadline {}.",
        severity.scoped_label(),
        date_time(start),
        date_time(due)
    )
}

async fn create(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    event: &IssueEvent,
    table: &SlaTable,
) -> AppResult<Outcome> {
    let start = clock_start_for(event, None);
    let due = start
        .zip(event.severity)
        .map(|(s, severity)| deadline(s, severity, table));
    let open = event.state == TrackerState::Opened;
    let home = ProjectHome::of(event.project_web_url.as_deref(), &event.project_path);
    let inserted = sqlx::query_scalar!(
        "insert into issues (source, external_id, iid, project_host, project_path, url, title,
                             description, confidential, labels, severity, clock_started_at,
                             deadline_at, state, resolved_at, tracker_created_at,
                             tracker_updated_at, created_at, description_html)
         values ('tracker', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18)
         on conflict (external_id) do nothing
         returning id",
        event.external_id,
        event.iid,
        home.as_ref().map(|h| h.host.clone()),
        event.project_path,
        event.url,
        event.title,
        event.description,
        event.confidential,
        &event.labels,
        event.severity.map(Severity::as_i16),
        start,
        due,
        if open { "open" } else { "closed" },
        event.resolved_at(),
        event.created_at,
        event.updated_at,
        now,
        description_html(event),
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = inserted else {
        // Another delivery created it a moment ago: apply this one on top.
        let id = sqlx::query_scalar!(
            "select id from issues where external_id = $1 for update",
            event.external_id
        )
        .fetch_one(&mut *conn)
        .await?;
        return update(conn, config, now, event, table, id).await;
    };
    let record = |kind, summary: String| Event {
        kind,
        summary,
        actor: TRACKER,
        data: None,
    };
    history::record(
        conn,
        now,
        None,
        id,
        record(
            "received",
            format!("Raised in the tracker on {}.", date_time(event.created_at)),
        ),
    )
    .await?;
    if let (Some(severity), Some(start), Some(due)) = (event.severity, start, due) {
        history::record(
            conn,
            now,
            None,
            id,
            record("severity_set", severity_sentence(severity, start, due)),
        )
        .await?;
    }
    if !open {
        history::record(
            conn,
            now,
            None,
            id,
            record("closed", "Closed in the tracker.".into()),
        )
        .await?;
    }
    audit::record(
        conn,
        now,
        &tracker_actor(),
        audit::Entry {
            action: "issue.received",
            subject: Some(("issue", id)),
            after: Some(serde_json::json!({
                "external_id": event.external_id,
                "project": event.project_path,
                "severity": event.severity.map(Severity::as_i16),
                "deadline": due,
            })),
            ..Default::default()
        },
    )
    .await?;
    route(conn, config, now, id, home.as_ref()).await?;
    Ok(Outcome::Created(id))
}

/// Gives an unassigned issue to the partner owning its project, if any.
async fn route(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    id: i64,
    home: Option<&ProjectHome>,
) -> AppResult<()> {
    let Some(home) = home else { return Ok(()) };
    let Some(partner_id) = routing::owner_of(conn, home).await? else {
        return Ok(());
    };
    share::share(
        conn,
        config,
        now,
        id,
        partner_id,
        share::By {
            how: format!("through its verified namespace {}", home.root),
            actor: &tracker_actor(),
            history_actor: TRACKER,
        },
    )
    .await
}

async fn update(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    event: &IssueEvent,
    table: &SlaTable,
    id: i64,
) -> AppResult<Outcome> {
    let issue = record::load_for_update(conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let known = sqlx::query_scalar!("select tracker_updated_at from issues where id = $1", id)
        .fetch_one(&mut *conn)
        .await?;
    if known.is_some_and(|known| event.updated_at < known) {
        return Ok(Outcome::Stale(id));
    }
    let changes = Changes::between(&issue, event, table);
    // The tracker closes an issue by any event that says it is closed; only
    // its reopen event opens it again (staff may have closed it here).
    let open = match event.state {
        TrackerState::Closed => false,
        TrackerState::Opened => issue.is_open() || event.action == IssueAction::Reopen,
    };
    let resolved_at = match (issue.is_open(), open) {
        (true, false) => event.resolved_at(),
        (false, false) => issue.resolved_at,
        (_, true) => None,
    };
    let next = record::next_reminder_at(
        issue.partner_id,
        open,
        changes.start,
        changes.deadline,
        issue.last_reminder(),
    );
    sqlx::query!(
        "update issues set iid = $2, project_path = $3, url = $4, title = $5, description = $6,
                confidential = $7, labels = $8, severity = $9, clock_started_at = $10,
                deadline_at = $11, state = $12, resolved_at = $13,
                tracker_updated_at = greatest(tracker_updated_at, $14), next_reminder_at = $15,
                description_html = $16
          where id = $1",
        id,
        event.iid,
        event.project_path,
        event.url,
        event.title,
        event.description,
        event.confidential,
        &event.labels,
        changes.severity.map(Severity::as_i16),
        changes.start,
        changes.deadline,
        if open { "open" } else { "closed" },
        resolved_at,
        event.updated_at,
        next,
        description_html(event),
    )
    .execute(&mut *conn)
    .await?;
    let mut entries = changes.history;
    match (issue.is_open(), open) {
        (true, false) => entries.push((
            "closed",
            format!(
                "Closed in the tracker on {}.",
                date_time(resolved_at.unwrap_or(event.updated_at))
            ),
        )),
        (false, true) => entries.push((
            "reopened",
            "Reopened in the tracker. The clock and the deadline stay as they were.".to_owned(),
        )),
        _ => {}
    }
    for (kind, summary) in &entries {
        history::record(
            conn,
            now,
            issue.partner_id,
            id,
            Event {
                kind,
                summary: summary.clone(),
                actor: TRACKER,
                data: None,
            },
        )
        .await?;
    }
    if !entries.is_empty() {
        audit::record(
            conn,
            now,
            &tracker_actor(),
            audit::Entry {
                action: "issue.updated",
                partner_id: issue.partner_id,
                subject: Some(("issue", id)),
                before: Some(serde_json::json!({
                    "severity": issue.severity, "deadline": issue.deadline_at, "state": issue.state,
                })),
                after: Some(serde_json::json!({
                    "severity": changes.severity.map(Severity::as_i16),
                    "deadline": changes.deadline,
                    "state": if open { "open" } else { "closed" },
                })),
            },
        )
        .await?;
    }
    if let (Some(partner_id), true, false) = (issue.partner_id, issue.is_open(), open) {
        crate::integrations::webhooks::emit_issue(
            conn,
            config,
            now,
            partner_id,
            id,
            crate::integrations::webhooks::Event::IssueClosed,
            serde_json::json!({ "closed_by": "tracker" }),
        )
        .await?;
    }
    if issue.partner_id.is_none() {
        let home = ProjectHome::of(event.project_web_url.as_deref(), &event.project_path);
        route(conn, config, now, id, home.as_ref()).await?;
    }
    Ok(Outcome::Updated(id))
}

/// The severity, clock start and deadline after an event, and the history
/// sentences for what changed.
struct Changes {
    severity: Option<Severity>,
    start: Option<DateTime<Utc>>,
    deadline: Option<DateTime<Utc>>,
    history: Vec<(&'static str, String)>,
}

impl Changes {
    fn between(issue: &IssueRecord, event: &IssueEvent, table: &SlaTable) -> Self {
        let current = issue.severity();
        let severity = effective_severity(event.severity, current);
        let mut changes = Self {
            severity: current,
            start: issue.clock_started_at,
            deadline: issue.deadline_at,
            history: Vec::new(),
        };
        let Some(new) = severity.filter(|s| Some(*s) != current) else {
            return changes;
        };
        let Some(start) = start_for_known_issue(event, issue.clock_started_at) else {
            return changes;
        };
        let due = deadline(start, new, table);
        let summary = match (current, issue.deadline_at) {
            (Some(old), Some(old_due)) => format!(
                "Severity changed from {} to {} in the tracker. The deadline moved from {} to {}, counted from the same start ({}).",
                old.as_i16(),
                new.as_i16(),
                date_time(old_due),
                date_time(due),
                date_time(start)
            ),
            _ => severity_sentence(new, start, due),
        };
        let kind = if current.is_some() {
            "severity_changed"
        } else {
            "severity_set"
        };
        changes.history.push((kind, summary));
        changes.severity = Some(new);
        changes.start = Some(start);
        changes.deadline = Some(due);
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issues::{WebhookEvent, parse_event};

    fn fixture(body: &str) -> IssueEvent {
        match parse_event(body.as_bytes()) {
            Ok(WebhookEvent::Issue(event)) => event,
            other => panic!("expected an issue event, got {other:?}"),
        }
    }

    #[test]
    fn a_known_unlabelled_issue_starts_when_a_label_shows() {
        let added = fixture(include_str!(
            "../../tests/fixtures/gitlab/issue_update_label_added.json"
        ));
        assert_eq!(start_for_known_issue(&added, None), Some(added.updated_at));
        // Even when the event does not report the label change (one was missed).
        let reopened = fixture(include_str!(
            "../../tests/fixtures/gitlab/issue_reopen.json"
        ));
        assert_eq!(
            start_for_known_issue(&reopened, None),
            Some(reopened.updated_at)
        );
        let unlabelled = fixture(include_str!(
            "../../tests/fixtures/gitlab/issue_open_unlabelled.json"
        ));
        assert_eq!(start_for_known_issue(&unlabelled, None), None);
        let recorded = added.created_at;
        assert_eq!(
            start_for_known_issue(&added, Some(recorded)),
            Some(recorded)
        );
    }
}
