//! What the issue pages show for one issue, in words.

use chrono::{DateTime, Duration, Utc};

use crate::{
    dates::When,
    issues::{DeadlineState, lists::ListRow, record::IssueRecord},
};

/// Rows per list page.
pub const PER_PAGE: i64 = 25;

/// One line of a list.
pub struct IssueLine {
    pub id: i64,
    pub title: String,
    pub reference: String,
    pub severity: String,
    pub status: &'static str,
    pub deadline: Option<When>,
    pub time_left: String,
    pub state_label: &'static str,
    pub state_class: &'static str,
    pub company: String,
    pub confidential: bool,
    pub awaiting_response: bool,
}

impl IssueLine {
    pub fn new(row: ListRow, now: DateTime<Utc>) -> Self {
        let state = row.deadline_state(now);
        Self {
            id: row.id,
            reference: row.reference(),
            severity: severity_words(row.severity()),
            status: if row.state == "open" {
                "Open"
            } else {
                "Closed"
            },
            deadline: row.deadline_at.map(|d| When::new(now, d)),
            time_left: time_left(now, state, row.deadline_at, row.resolved_at),
            state_label: state.label(),
            state_class: state.css_class(),
            company: row.company.unwrap_or_else(|| "Awaiting triage".to_owned()),
            confidential: row.confidential,
            awaiting_response: row.state == "open" && row.first_response_at.is_none(),
            title: row.title,
        }
    }
}

pub fn severity_words(severity: Option<crate::issues::Severity>) -> String {
    severity.map_or_else(|| "Not set".to_owned(), |s| s.label())
}

/// "12 days left", "5 hours left", "3 days overdue", "Met", "No clock yet".
pub fn time_left(
    now: DateTime<Utc>,
    state: DeadlineState,
    deadline: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
) -> String {
    match (state, deadline) {
        (DeadlineState::Untriaged, _) | (_, None) => "No clock yet".to_owned(),
        (DeadlineState::Met | DeadlineState::Missed, Some(deadline)) => {
            let resolved = resolved_at.unwrap_or(now);
            if resolved < deadline {
                format!("Resolved {} early", span(deadline - resolved))
            } else {
                format!("Resolved {} late", span(resolved - deadline))
            }
        }
        (_, Some(deadline)) if deadline > now => format!("{} left", span(deadline - now)),
        (_, Some(deadline)) => format!("{} overdue", span(now - deadline)),
    }
}

/// A length of time in the largest whole unit: "3 days", "1 hour", "5 minutes".
pub fn span(d: Duration) -> String {
    let (n, unit) = if d >= Duration::days(2) {
        (d.num_days(), "day")
    } else if d >= Duration::hours(1) {
        (d.num_hours(), "hour")
    } else {
        (d.num_minutes().max(1), "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// The header facts of an issue page.
pub struct IssueFacts {
    pub id: i64,
    pub title: String,
    pub reference: String,
    pub url: Option<String>,
    /// The description as safe HTML.
    pub description: Option<String>,
    pub severity: String,
    pub status: &'static str,
    pub state_label: &'static str,
    pub state_class: &'static str,
    pub time_left: String,
    pub started: Option<When>,
    pub deadline: Option<When>,
    pub resolved: Option<When>,
    pub shared: Option<When>,
    pub first_response: Option<When>,
    pub confidential: bool,
    pub labels: String,
    pub open: bool,
    pub severity_number: i16,
    pub assigned: bool,
    /// "Awaiting a first response for 3 days" until the partner answers.
    pub awaiting: Option<String>,
}

impl IssueFacts {
    pub fn new(issue: &IssueRecord, now: DateTime<Utc>) -> Self {
        let state = issue.deadline_state(now);
        let when = |t: Option<DateTime<Utc>>| t.map(|t| When::new(now, t));
        Self {
            id: issue.id,
            title: issue.title.clone(),
            reference: issue.reference(),
            // Only web links are made clickable.
            url: issue
                .url
                .clone()
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
            description: issue.description_html.clone().or_else(|| {
                issue
                    .description
                    .as_deref()
                    .map(|d| crate::markdown::render(d, issue.project_url().as_deref()))
            }),
            severity: severity_words(issue.severity()),
            status: if issue.is_open() { "Open" } else { "Closed" },
            state_label: state.label(),
            state_class: state.css_class(),
            time_left: time_left(now, state, issue.deadline_at, issue.resolved_at),
            started: when(issue.clock_started_at),
            deadline: when(issue.deadline_at),
            resolved: when(issue.resolved_at),
            shared: when(issue.routed_at),
            first_response: when(issue.first_response_at),
            confidential: issue.confidential,
            labels: issue.labels.join(", "),
            open: issue.is_open(),
            severity_number: issue.severity.unwrap_or(0),
            assigned: issue.partner_id.is_some(),
            awaiting: match (issue.is_open(), issue.routed_at, issue.first_response_at) {
                (true, Some(shared), None) => Some(format!(
                    "Awaiting a first response for {}",
                    span(now - shared)
                )),
                _ => None,
            },
        }
    }
}

/// Previous/next links of a list page.
pub struct Pager {
    pub page: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `rows` was fetched with one extra row; it is trimmed to the page.
    pub fn new<T>(rows: &mut Vec<T>, page: i64, href: impl Fn(i64) -> String) -> Self {
        let has_next = rows.len() as i64 > PER_PAGE;
        rows.truncate(PER_PAGE as usize);
        Self {
            page,
            prev: (page > 1).then(|| href(page - 1)),
            next: has_next.then(|| href(page + 1)),
        }
    }
}

/// The page number asked for, from 1.
pub fn page_number(page: Option<&str>) -> i64 {
    page.and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| (1..=10_000).contains(p))
        .unwrap_or(1)
}

pub fn offset(page: i64) -> i64 {
    (page - 1) * PER_PAGE
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn time_left_reads_in_the_largest_unit() {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap();
        let state = DeadlineState::OnTrack;
        assert_eq!(
            time_left(now, state, Some(now + Duration::days(12)), None),
            "12 days left"
        );
        assert_eq!(
            time_left(now, state, Some(now + Duration::hours(30)), None),
            "30 hours left"
        );
        assert_eq!(
            time_left(
                now,
                DeadlineState::Overdue,
                Some(now - Duration::days(3)),
                None
            ),
            "3 days overdue"
        );
        assert_eq!(
            time_left(now, DeadlineState::Untriaged, None, None),
            "No clock yet"
        );
        assert_eq!(
            time_left(
                now,
                DeadlineState::Met,
                Some(now),
                Some(now - Duration::days(4))
            ),
            "Resolved 4 days early"
        );
        assert_eq!(span(Duration::seconds(5)), "1 minute");
        assert_eq!(span(Duration::hours(1)), "1 hour");
    }

    #[test]
    fn pages_are_numbered_from_one() {
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some("3")), 3);
        assert_eq!(page_number(Some("0")), 1);
        assert_eq!(page_number(Some("x")), 1);
        let mut rows: Vec<i64> = (0..=PER_PAGE).collect();
        let pager = Pager::new(&mut rows, 2, |p| format!("?page={p}"));
        assert_eq!(rows.len() as i64, PER_PAGE);
        assert_eq!(pager.prev.as_deref(), Some("?page=1"));
        assert_eq!(pager.next.as_deref(), Some("?page=3"));
    }
}
