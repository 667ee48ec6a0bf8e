//! The tracker's issue webhook body, read exactly as GitLab sends it
//! (`X-Gitlab-Event: Issue Hook` or `Confidential Issue Hook`), turned into an
//! [`IssueEvent`] the rest of the portal can trust.
//!
//! Reading is lenient where GitLab varies (unknown fields, missing optional
//! fields, both of its timestamp formats) and strict where the portal needs a
//! value (ids, title, url, state, project path, timestamps).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use super::severity::Severity;

/// `X-Gitlab-Event` values that carry issue events.
pub const ISSUE_HOOK_EVENTS: [&str; 2] = ["Issue Hook", "Confidential Issue Hook"];

/// Whether an `X-Gitlab-Event` header names an issue event.
pub fn is_issue_hook(header: &str) -> bool {
    ISSUE_HOOK_EVENTS
        .iter()
        .any(|name| name.eq_ignore_ascii_case(header.trim()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    Issue(IssueEvent),
    /// Another kind of event (a comment, a merge request, a work item): the
    /// portal answers it without acting on it.
    Ignored {
        object_kind: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackerState {
    Opened,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueAction {
    Open,
    Close,
    Reopen,
    /// Any other change; also what a payload without an action (GitLab's
    /// "Test" button sends one) or with an action unknown today is read as.
    Update,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueEvent {
    /// The tracker's global issue id (`object_attributes.id`).
    pub external_id: i64,
    /// The number within the project (`#17`).
    pub iid: i64,
    pub title: String,
    pub description: Option<String>,
    pub url: String,
    pub state: TrackerState,
    pub action: IssueAction,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub labels: Vec<String>,
    pub project_path: String,
    /// `project.web_url`, which names the tracker's host.
    pub project_web_url: Option<String>,
    pub confidential: bool,
    pub severity: Option<Severity>,
    /// `Some(previous severity)` only when this event changed the labels.
    pub previous_severity: Option<Option<Severity>>,
}

impl IssueEvent {
    /// When the tracker says the issue was resolved: `closed_at`, or the
    /// close event's own time when the tracker left `closed_at` out.
    pub fn resolved_at(&self) -> Option<DateTime<Utc>> {
        match self.state {
            TrackerState::Closed => Some(self.closed_at.unwrap_or(self.updated_at)),
            TrackerState::Opened => None,
        }
    }

    /// Whether this event is the one that gave the issue its first severity.
    pub fn adds_severity(&self) -> bool {
        matches!(self.previous_severity, Some(None)) && self.severity.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookProblem {
    #[error("The request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("The issue event has no {0}.")]
    MissingField(&'static str),
    #[error("The issue event's {field} is not a time the portal can read: {value:?}.")]
    BadTimestamp { field: &'static str, value: String },
    #[error("The issue event's state {0:?} is neither opened nor closed.")]
    UnknownState(String),
}

/// Reads a webhook body. Issue events become [`WebhookEvent::Issue`]; every
/// other `object_kind` is [`WebhookEvent::Ignored`].
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, WebhookProblem> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| WebhookProblem::MalformedJson(e.to_string()))?;
    let object_kind = envelope
        .object_kind
        .ok_or(WebhookProblem::MissingField("object_kind"))?;
    if object_kind != "issue" {
        return Ok(WebhookEvent::Ignored { object_kind });
    }
    let hook: IssueHook =
        serde_json::from_slice(body).map_err(|e| WebhookProblem::MalformedJson(e.to_string()))?;
    hook.into_event().map(WebhookEvent::Issue)
}

#[derive(Deserialize)]
struct Envelope {
    object_kind: Option<String>,
}

#[derive(Deserialize)]
struct IssueHook {
    event_type: Option<String>,
    project: Option<Project>,
    object_attributes: Option<Attributes>,
    labels: Option<Vec<Label>>,
    changes: Option<Changes>,
}

#[derive(Deserialize)]
struct Project {
    path_with_namespace: Option<String>,
    web_url: Option<String>,
}

#[derive(Deserialize)]
struct Attributes {
    id: Option<i64>,
    iid: Option<i64>,
    title: Option<String>,
    description: Option<String>,
    url: Option<String>,
    state: Option<String>,
    action: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    closed_at: Option<String>,
    confidential: Option<bool>,
    labels: Option<Vec<Label>>,
}

#[derive(Deserialize)]
struct Label {
    title: String,
}

#[derive(Deserialize)]
struct Changes {
    labels: Option<LabelChange>,
}

#[derive(Deserialize)]
struct LabelChange {
    #[serde(default)]
    previous: Option<Vec<Label>>,
}

impl IssueHook {
    fn into_event(self) -> Result<IssueEvent, WebhookProblem> {
        let attrs = self
            .object_attributes
            .ok_or(WebhookProblem::MissingField("object_attributes"))?;
        let (project_path, project_web_url) = self
            .project
            .map(|p| (p.path_with_namespace, p.web_url))
            .unwrap_or_default();
        let project_path = project_path
            .filter(|p| !p.trim().is_empty())
            .ok_or(WebhookProblem::MissingField("project.path_with_namespace"))?;
        let state = match attrs.state.as_deref() {
            Some("opened" | "reopened") => TrackerState::Opened,
            Some("closed") => TrackerState::Closed,
            Some(other) => return Err(WebhookProblem::UnknownState(other.to_owned())),
            None => return Err(WebhookProblem::MissingField("object_attributes.state")),
        };
        let action = match attrs.action.as_deref() {
            Some("open") => IssueAction::Open,
            Some("close") => IssueAction::Close,
            Some("reopen") => IssueAction::Reopen,
            _ => IssueAction::Update,
        };
        let created_at = required_time("object_attributes.created_at", attrs.created_at)?;
        let updated_at = match attrs.updated_at {
            Some(text) => parse_time("object_attributes.updated_at", &text)?,
            None => created_at,
        };
        let closed_at = attrs
            .closed_at
            .map(|text| parse_time("object_attributes.closed_at", &text))
            .transpose()?;
        let labels: Vec<String> = self
            .labels
            .or(attrs.labels)
            .unwrap_or_default()
            .into_iter()
            .map(|label| label.title)
            .collect();
        let previous_severity = self
            .changes
            .and_then(|changes| changes.labels)
            .map(|change| {
                let previous: Vec<String> = change
                    .previous
                    .unwrap_or_default()
                    .into_iter()
                    .map(|label| label.title)
                    .collect();
                Severity::from_labels(&previous)
            });
        let confidential = attrs.confidential.unwrap_or(false)
            || self.event_type.as_deref() == Some("confidential_issue");
        Ok(IssueEvent {
            external_id: attrs
                .id
                .ok_or(WebhookProblem::MissingField("object_attributes.id"))?,
            iid: attrs
                .iid
                .ok_or(WebhookProblem::MissingField("object_attributes.iid"))?,
            title: attrs
                .title
                .filter(|t| !t.trim().is_empty())
                .ok_or(WebhookProblem::MissingField("object_attributes.title"))?,
            description: attrs.description.filter(|d| !d.trim().is_empty()),
            url: attrs
                .url
                .filter(|u| !u.trim().is_empty())
                .ok_or(WebhookProblem::MissingField("object_attributes.url"))?,
            state,
            action,
            created_at,
            updated_at,
            closed_at,
            severity: Severity::from_labels(&labels),
            labels,
            project_path,
            project_web_url,
            confidential,
            previous_severity,
        })
    }
}

fn required_time(
    field: &'static str,
    text: Option<String>,
) -> Result<DateTime<Utc>, WebhookProblem> {
    let text = text.ok_or(WebhookProblem::MissingField(field))?;
    parse_time(field, &text)
}

/// GitLab writes hook timestamps as `2026-11-08 10:15:00 UTC` (or with an
/// offset, `+0100`) when the event went through its job queue, and as ISO 8601
/// (`2026-11-08T10:15:00Z`, `…T10:15:00.512+01:00`) otherwise.
pub fn parse_gitlab_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Some(naive) = text.strip_suffix(" UTC")
        && let Ok(t) = NaiveDateTime::parse_from_str(naive, "%Y-%m-%d %H:%M:%S%.f")
    {
        return Some(t.and_utc());
    }
    DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f %z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn parse_time(field: &'static str, text: &str) -> Result<DateTime<Utc>, WebhookProblem> {
    parse_gitlab_time(text).ok_or_else(|| WebhookProblem::BadTimestamp {
        field,
        value: text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const OPEN_LABELLED: &str =
        include_str!("../../tests/fixtures/gitlab/issue_open_labelled.json");
    const OPEN_UNLABELLED: &str =
        include_str!("../../tests/fixtures/gitlab/issue_open_unlabelled.json");
    const LABEL_ADDED: &str =
        include_str!("../../tests/fixtures/gitlab/issue_update_label_added.json");
    const SEVERITY_CHANGED: &str =
        include_str!("../../tests/fixtures/gitlab/issue_update_severity_changed.json");
    const CLOSE: &str = include_str!("../../tests/fixtures/gitlab/issue_close.json");
    const REOPEN: &str = include_str!("../../tests/fixtures/gitlab/issue_reopen.json");
    const CONFIDENTIAL_OPEN: &str =
        include_str!("../../tests/fixtures/gitlab/confidential_issue_open.json");
    const NOTE: &str = include_str!("../../tests/fixtures/gitlab/note_event.json");

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    fn issue(body: &str) -> IssueEvent {
        match parse_event(body.as_bytes()) {
            Ok(WebhookEvent::Issue(event)) => event,
            other => panic!("expected an issue event, got {other:?}"),
        }
    }

    /// A fixture with one JSON pointer replaced (or removed when `None`).
    fn edited(body: &str, pointer: &str, value: Option<serde_json::Value>) -> Vec<u8> {
        let mut json: serde_json::Value = serde_json::from_str(body).unwrap();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let object = json
            .pointer_mut(parent)
            .and_then(|v| v.as_object_mut())
            .unwrap();
        match value {
            Some(v) => object.insert(key.to_owned(), v),
            None => object.remove(key),
        };
        serde_json::to_vec(&json).unwrap()
    }

    #[test]
    fn open_with_severity_label_is_read_in_full() {
        let event = issue(OPEN_LABELLED);
        assert_eq!(event.external_id, 151230);
        assert_eq!(event.iid, 17);
        assert_eq!(
            event.title,
            "Runner registration fails behind an HTTP proxy"
        );
        assert_eq!(
            event.url,
            "https://gitlab.com/acme-corp/integrations/runner-component/-/issues/17"
        );
        assert_eq!(
            event.project_path,
            "acme-corp/integrations/runner-component"
        );
        assert_eq!(event.state, TrackerState::Opened);
        assert_eq!(event.action, IssueAction::Open);
        assert_eq!(event.created_at, at(2019, 11, 8, 10, 15, 0));
        assert_eq!(event.updated_at, at(2019, 11, 8, 10, 15, 0));
        assert_eq!(event.closed_at, None);
        assert_eq!(
            event.labels,
            ["severity::2", "component::runner", "type::bug"]
        );
        assert_eq!(event.severity, Some(Severity::S2));
        assert_eq!(event.previous_severity, None);
        assert!(!event.confidential);
        assert!(event.description.unwrap().contains("HTTPS_PROXY"));
    }

    #[test]
    fn open_without_severity_label_is_untriaged() {
        let event = issue(OPEN_UNLABELLED);
        assert_eq!(event.action, IssueAction::Open);
        assert_eq!(event.labels, ["component::runner"]);
        assert_eq!(event.severity, None);
        assert_eq!(event.previous_severity, None);
        assert!(!event.adds_severity());
    }

    #[test]
    fn update_adding_a_severity_label_reports_the_change() {
        let event = issue(LABEL_ADDED);
        assert_eq!(event.action, IssueAction::Update);
        assert_eq!(event.iid, 18);
        assert_eq!(event.severity, Some(Severity::S3));
        assert_eq!(event.previous_severity, Some(None));
        assert!(event.adds_severity());
        assert_eq!(event.created_at, at(2019, 11, 9, 8, 2, 41));
        assert_eq!(event.updated_at, at(2019, 11, 12, 14, 30, 5));
    }

    #[test]
    fn update_changing_severity_reports_old_and_new() {
        let event = issue(SEVERITY_CHANGED);
        assert_eq!(event.action, IssueAction::Update);
        assert_eq!(event.severity, Some(Severity::S4));
        assert_eq!(event.previous_severity, Some(Some(Severity::S1)));
        assert!(!event.adds_severity());
    }

    #[test]
    fn close_is_resolved_at_the_trackers_closed_at() {
        let event = issue(CLOSE);
        assert_eq!(event.action, IssueAction::Close);
        assert_eq!(event.state, TrackerState::Closed);
        assert_eq!(event.closed_at, Some(at(2019, 11, 20, 11, 0, 0)));
        assert_eq!(event.resolved_at(), Some(at(2019, 11, 20, 11, 0, 0)));
        assert_eq!(event.previous_severity, None, "labels did not change");
        assert_eq!(event.severity, Some(Severity::S2));
    }

    #[test]
    fn close_without_closed_at_is_resolved_at_the_event_time() {
        let body = edited(CLOSE, "/object_attributes/closed_at", None);
        let WebhookEvent::Issue(event) = parse_event(&body).unwrap() else {
            panic!("not an issue event");
        };
        assert_eq!(event.closed_at, None);
        assert_eq!(event.resolved_at(), Some(event.updated_at));
    }

    #[test]
    fn reopen_is_open_again_and_unresolved() {
        let event = issue(REOPEN);
        assert_eq!(event.action, IssueAction::Reopen);
        assert_eq!(event.state, TrackerState::Opened);
        assert_eq!(event.closed_at, None);
        assert_eq!(event.resolved_at(), None);
        assert_eq!(event.updated_at, at(2019, 11, 22, 9, 30, 0));
    }

    #[test]
    fn confidential_issue_hook_is_read_with_iso_timestamps() {
        let event = issue(CONFIDENTIAL_OPEN);
        assert!(event.confidential);
        assert_eq!(event.severity, Some(Severity::S1));
        assert_eq!(
            event.created_at,
            at(2019, 11, 10, 21, 4, 33) + chrono::Duration::milliseconds(512)
        );
    }

    #[test]
    fn confidential_event_type_alone_marks_the_issue_confidential() {
        let body = edited(CONFIDENTIAL_OPEN, "/object_attributes/confidential", None);
        let WebhookEvent::Issue(event) = parse_event(&body).unwrap() else {
            panic!("not an issue event");
        };
        assert!(event.confidential);
    }

    #[test]
    fn other_object_kinds_are_ignored() {
        assert_eq!(
            parse_event(NOTE.as_bytes()),
            Ok(WebhookEvent::Ignored {
                object_kind: "note".to_owned()
            })
        );
        assert_eq!(
            parse_event(br#"{"object_kind":"work_item","object_attributes":{}}"#),
            Ok(WebhookEvent::Ignored {
                object_kind: "work_item".to_owned()
            })
        );
    }

    #[test]
    fn a_payload_without_action_reads_as_an_update() {
        let body = edited(OPEN_LABELLED, "/object_attributes/action", None);
        let WebhookEvent::Issue(event) = parse_event(&body).unwrap() else {
            panic!("not an issue event");
        };
        assert_eq!(event.action, IssueAction::Update);
    }

    #[test]
    fn labels_fall_back_to_object_attributes() {
        let body = edited(LABEL_ADDED, "/labels", None);
        let WebhookEvent::Issue(event) = parse_event(&body).unwrap() else {
            panic!("not an issue event");
        };
        assert_eq!(event.severity, Some(Severity::S3));
    }

    #[test]
    fn malformed_json_is_refused() {
        for body in [&b""[..], b"{", b"not json", b"[]", b"{\"object_kind\": 3}"] {
            assert!(
                matches!(parse_event(body), Err(WebhookProblem::MalformedJson(_))),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn missing_required_fields_are_named() {
        for (pointer, field) in [
            ("/object_kind", "object_kind"),
            ("/object_attributes", "object_attributes"),
            ("/object_attributes/id", "object_attributes.id"),
            ("/object_attributes/iid", "object_attributes.iid"),
            ("/object_attributes/title", "object_attributes.title"),
            ("/object_attributes/url", "object_attributes.url"),
            ("/object_attributes/state", "object_attributes.state"),
            (
                "/object_attributes/created_at",
                "object_attributes.created_at",
            ),
            ("/project", "project.path_with_namespace"),
            (
                "/project/path_with_namespace",
                "project.path_with_namespace",
            ),
        ] {
            let body = edited(OPEN_LABELLED, pointer, None);
            assert_eq!(
                parse_event(&body),
                Err(WebhookProblem::MissingField(field)),
                "without {pointer}"
            );
        }
        let blank_title = edited(
            OPEN_LABELLED,
            "/object_attributes/title",
            Some(serde_json::json!("  ")),
        );
        assert_eq!(
            parse_event(&blank_title),
            Err(WebhookProblem::MissingField("object_attributes.title"))
        );
    }

    #[test]
    fn wrong_types_and_unreadable_values_are_refused() {
        let string_id = edited(
            OPEN_LABELLED,
            "/object_attributes/id",
            Some(serde_json::json!("151230")),
        );
        assert!(matches!(
            parse_event(&string_id),
            Err(WebhookProblem::MalformedJson(_))
        ));
        let bad_state = edited(
            OPEN_LABELLED,
            "/object_attributes/state",
            Some(serde_json::json!("locked")),
        );
        assert_eq!(
            parse_event(&bad_state),
            Err(WebhookProblem::UnknownState("locked".to_owned()))
        );
        let bad_time = edited(
            OPEN_LABELLED,
            "/object_attributes/created_at",
            Some(serde_json::json!("yesterday")),
        );
        assert!(matches!(
            parse_event(&bad_time),
            Err(WebhookProblem::BadTimestamp {
                field: "object_attributes.created_at",
                ..
            })
        ));
    }

    #[test]
    fn both_gitlab_timestamp_formats_are_read() {
        let expected = at(2026, 11, 8, 10, 15, 0);
        for text in [
            "2026-11-08 10:15:00 UTC",
            "2026-11-08T10:15:00Z",
            "2026-11-08T10:15:00.000Z",
            "2026-11-08T11:15:00+01:00",
            "2026-11-08 11:15:00 +0100",
            " 2026-11-08 10:15:00 UTC ",
        ] {
            assert_eq!(parse_gitlab_time(text), Some(expected), "{text:?}");
        }
        assert_eq!(
            parse_gitlab_time("2026-11-08 10:15:00.250 UTC"),
            Some(expected + chrono::Duration::milliseconds(250))
        );
        for bad in ["", "2026-11-08", "2026-13-08 10:15:00 UTC", "10:15 UTC"] {
            assert_eq!(parse_gitlab_time(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_issue_hook_headers_are_issue_events() {
        assert!(is_issue_hook("Issue Hook"));
        assert!(is_issue_hook("Confidential Issue Hook"));
        assert!(is_issue_hook(" issue hook "));
        assert!(!is_issue_hook("Note Hook"));
        assert!(!is_issue_hook("Merge Request Hook"));
        assert!(!is_issue_hook(""));
    }
}
