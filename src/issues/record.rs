//! An issue as stored, and the words and states pages show for it.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{DeadlineState, Reminder, Severity, clock};

#[derive(Debug, Clone)]
pub struct IssueRecord {
    pub id: i64,
    pub partner_id: Option<i64>,
    pub source: String,
    pub external_id: Option<i64>,
    pub iid: Option<i64>,
    pub project_path: Option<String>,
    pub url: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub description_html: Option<String>,
    pub confidential: bool,
    pub labels: Vec<String>,
    pub severity: Option<i16>,
    pub clock_started_at: Option<DateTime<Utc>>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub state: String,
    pub resolved_at: Option<DateTime<Utc>>,
    pub tracker_created_at: Option<DateTime<Utc>>,
    pub routed_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub last_reminder: Option<String>,
    pub next_reminder_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl IssueRecord {
    pub fn severity(&self) -> Option<Severity> {
        self.severity.and_then(Severity::from_i16)
    }

    pub fn is_open(&self) -> bool {
        self.state == "open"
    }

    pub fn last_reminder(&self) -> Option<Reminder> {
        self.last_reminder.as_deref().and_then(Reminder::from_key)
    }

    pub fn deadline_state(&self, now: DateTime<Utc>) -> DeadlineState {
        clock::state(
            now,
            self.clock_started_at,
            self.deadline_at,
            self.resolved_at,
        )
    }

    /// `acme-corp/runner#17`, or "Entered by the alliance team".
    pub fn reference(&self) -> String {
        reference(self.project_path.as_deref(), self.iid)
    }

    /// The project's page on the tracker, which relative links in its
    /// Markdown are read against.
    pub fn project_url(&self) -> Option<String> {
        project_url(self.url.as_deref()?)
    }
}

/// The project of an issue's address: `https://gitlab.com/acme/x` from
/// `https://gitlab.com/acme/x/-/issues/17` (or `/-/work_items/17`, or the
/// older `/issues/17`).
pub fn project_url(issue_url: &str) -> Option<String> {
    ["/-/issues/", "/-/work_items/", "/issues/"]
        .iter()
        .find_map(|marker| issue_url.rfind(marker).map(|i| issue_url[..i].to_owned()))
        .filter(|p| p.starts_with("http"))
}

/// How an issue is named in lists and emails.
pub fn reference(project_path: Option<&str>, iid: Option<i64>) -> String {
    match (project_path, iid) {
        (Some(path), Some(iid)) => format!("{path}#{iid}"),
        (Some(path), None) => path.to_owned(),
        _ => "Entered by the alliance team".to_owned(),
    }
}

/// One issue by id. On a tenant transaction row-level security limits this
/// to the organisation's issues, so another tenant's id finds nothing.
pub async fn load(conn: &mut PgConnection, id: i64) -> Result<Option<IssueRecord>, sqlx::Error> {
    sqlx::query_as!(
        IssueRecord,
        "select id, partner_id, source, external_id, iid, project_path, url, title, description,
                description_html, confidential, labels, severity, clock_started_at, deadline_at, state, resolved_at,
                tracker_created_at, routed_at, first_response_at, last_reminder, next_reminder_at,
                created_at
           from issues where id = $1",
        id
    )
    .fetch_optional(conn)
    .await
}

/// The same, locked for a change (privileged path).
pub async fn load_for_update(
    conn: &mut PgConnection,
    id: i64,
) -> Result<Option<IssueRecord>, sqlx::Error> {
    sqlx::query_as!(
        IssueRecord,
        "select id, partner_id, source, external_id, iid, project_path, url, title, description,
                description_html, confidential, labels, severity, clock_started_at, deadline_at, state, resolved_at,
                tracker_created_at, routed_at, first_response_at, last_reminder, next_reminder_at,
                created_at
           from issues where id = $1 for update",
        id
    )
    .fetch_optional(conn)
    .await
}

/// Whether a running clock's next reminder is still to come, and when:
/// only routed, open issues with a deadline have one.
pub fn next_reminder_at(
    partner_id: Option<i64>,
    open: bool,
    start: Option<DateTime<Utc>>,
    deadline: Option<DateTime<Utc>>,
    last_sent: Option<Reminder>,
) -> Option<DateTime<Utc>> {
    match (partner_id, open, start, deadline) {
        (Some(_), true, Some(start), Some(deadline)) => {
            super::next_threshold_at(start, deadline, last_sent)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn only_routed_open_issues_with_a_clock_have_reminders() {
        let start = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let due = start + Duration::days(30);
        assert_eq!(
            next_reminder_at(Some(1), true, Some(start), Some(due), None),
            Some(start + Duration::days(15))
        );
        assert_eq!(
            next_reminder_at(None, true, Some(start), Some(due), None),
            None
        );
        assert_eq!(
            next_reminder_at(Some(1), false, Some(start), Some(due), None),
            None
        );
        assert_eq!(next_reminder_at(Some(1), true, None, None, None), None);
        assert_eq!(
            next_reminder_at(
                Some(1),
                true,
                Some(start),
                Some(due),
                Some(Reminder::Escalation)
            ),
            None
        );
    }

    #[test]
    fn the_project_is_read_from_the_issues_address() {
        assert_eq!(
            project_url("https://gitlab.com/acme/x/-/issues/17").as_deref(),
            Some("https://gitlab.com/acme/x")
        );
        assert_eq!(
            project_url("https://gitlab.example.com/a/b/c/-/work_items/2").as_deref(),
            Some("https://gitlab.example.com/a/b/c")
        );
        assert_eq!(
            project_url("http://example.com/diaspora/issues/23").as_deref(),
            Some("http://example.com/diaspora")
        );
        assert_eq!(project_url("https://gitlab.com/acme/x"), None);
        assert_eq!(project_url("/acme/x/-/issues/1"), None);
    }

    #[test]
    fn references_name_the_project_and_number() {
        assert_eq!(reference(Some("acme/x"), Some(17)), "acme/x#17");
        assert_eq!(reference(None, None), "Entered by the alliance team");
    }
}
