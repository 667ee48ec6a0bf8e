//! The tracker's webhook as the issues area reads it: which events are
//! customer issues (§6: issues and incidents, not tasks, epics, OKRs, test
//! cases or requirements), which comments belong to an issue's thread, and
//! an issue event with its severity. GitLab's shapes are read in
//! [`crate::gitlab::hooks`]; this module only decides what they mean here.

use chrono::{DateTime, Utc};

use super::severity::Severity;
use crate::gitlab::hooks::{self, Hook, NoteHook, WorkItemHook, WorkItemType};
pub use crate::gitlab::hooks::{
    HookProblem as WebhookProblem, IssueAction, TrackerState, parse_gitlab_time,
};

/// `X-Gitlab-Event` values that carry issue events.
pub const ISSUE_HOOK_EVENTS: [&str; 2] = ["Issue Hook", "Confidential Issue Hook"];

/// The longest title the portal keeps (GitLab's own limit is 255).
pub const MAX_TITLE_CHARS: usize = 1000;

/// Whether an `X-Gitlab-Event` header names an issue event.
pub fn is_issue_hook(header: &str) -> bool {
    ISSUE_HOOK_EVENTS
        .iter()
        .any(|name| name.eq_ignore_ascii_case(header.trim()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    Issue(IssueEvent),
    /// A person's comment on an issue or incident (created or edited).
    Comment(NoteHook),
    /// Anything else (a task, a merge request, a system note, a push): the
    /// portal answers it without acting on it. `what` names it, plural,
    /// for the answer (`Events of kind "push"`).
    Ignored {
        what: String,
    },
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
    pub incident: bool,
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

    fn from_hook(hook: WorkItemHook) -> Self {
        Self {
            external_id: hook.external_id,
            iid: hook.iid,
            title: hook.title.chars().take(MAX_TITLE_CHARS).collect(),
            description: hook.description,
            url: hook.url,
            state: hook.state,
            action: hook.action,
            created_at: hook.created_at,
            updated_at: hook.updated_at,
            closed_at: hook.closed_at,
            severity: Severity::from_labels(&hook.labels),
            previous_severity: hook
                .previous_labels
                .map(|previous| Severity::from_labels(&previous)),
            labels: hook.labels,
            project_path: hook.project_path,
            project_web_url: hook.project_web_url,
            confidential: hook.confidential,
            incident: hook.kind == WorkItemType::Incident,
        }
    }
}

/// Reads a webhook body and decides what it is to the portal.
pub fn parse_event(body: &[u8]) -> Result<WebhookEvent, WebhookProblem> {
    Ok(match hooks::parse(body)? {
        Hook::WorkItem(hook) => WebhookEvent::Issue(IssueEvent::from_hook(hook)),
        Hook::OtherWorkItem { kind } => WebhookEvent::Ignored {
            what: format!("Work items of type {kind:?}"),
        },
        Hook::Note(note) if note.system => WebhookEvent::Ignored {
            what: "System notes".into(),
        },
        Hook::Note(note) => WebhookEvent::Comment(note),
        Hook::OtherNote { noteable_type } => WebhookEvent::Ignored {
            what: format!("Comments on a {noteable_type}"),
        },
        Hook::Other { object_kind } => WebhookEvent::Ignored {
            what: format!("Events of kind {object_kind:?}"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    use crate::gitlab::hooks;

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

    fn ignored(body: &[u8]) -> String {
        match parse_event(body) {
            Ok(WebhookEvent::Ignored { what }) => what,
            other => panic!("expected an ignored event, got {other:?}"),
        }
    }

    #[test]
    fn issues_and_incidents_count_as_issue_or_work_item_events() {
        for kind in ["issue", "work_item"] {
            for (ty, incident) in [
                (Some("Issue"), false),
                (None, false),
                (Some("Incident"), true),
            ] {
                let body = edited(OPEN_LABELLED, "/object_kind", Some(serde_json::json!(kind)));
                let body = edited(
                    std::str::from_utf8(&body).unwrap(),
                    "/object_attributes/type",
                    ty.map(|t| serde_json::json!(t)),
                );
                let WebhookEvent::Issue(event) = parse_event(&body).unwrap() else {
                    panic!("{kind} of type {ty:?} is an issue");
                };
                assert_eq!(event.incident, incident, "{kind} {ty:?}");
            }
        }
    }

    #[test]
    fn tasks_epics_okrs_test_cases_and_requirements_are_ignored() {
        for kind in ["issue", "work_item"] {
            for ty in [
                "Task",
                "Epic",
                "Objective",
                "Key Result",
                "Test Case",
                "Requirement",
            ] {
                let body = edited(OPEN_LABELLED, "/object_kind", Some(serde_json::json!(kind)));
                let body = edited(
                    std::str::from_utf8(&body).unwrap(),
                    "/object_attributes/type",
                    Some(serde_json::json!(ty)),
                );
                assert_eq!(ignored(&body), format!("Work items of type {ty:?}"));
            }
        }
    }

    #[test]
    fn a_comment_on_an_issue_is_read_with_its_author() {
        let WebhookEvent::Comment(note) = parse_event(NOTE.as_bytes()).unwrap() else {
            panic!("a comment on an issue");
        };
        assert_eq!(note.note_id, 2208431177);
        assert_eq!(
            note.issue,
            hooks::NotedIssue {
                id: Some(151230),
                iid: 17
            }
        );
        assert_eq!(note.author.username, "praman");
        assert_eq!(note.author.name, "Priya Raman");
        assert_eq!(note.body, "We can reproduce this with runner 17.5 as well.");
        assert_eq!(note.action, hooks::NoteAction::Create);
        assert!(!note.internal && !note.system);
        assert_eq!(note.created_at, at(2019, 11, 8, 12, 1, 9));
    }

    #[test]
    fn an_internal_note_is_marked_by_either_flag_or_the_event_type() {
        for (pointer, value) in [
            ("/object_attributes/internal", serde_json::json!(true)),
            ("/object_attributes/confidential", serde_json::json!(true)),
            ("/event_type", serde_json::json!("confidential_note")),
        ] {
            let body = edited(NOTE, pointer, Some(value));
            let WebhookEvent::Comment(note) = parse_event(&body).unwrap() else {
                panic!("a comment");
            };
            assert!(note.internal, "{pointer}");
        }
    }

    #[test]
    fn an_edit_is_read_as_an_update() {
        let body = edited(
            NOTE,
            "/object_attributes/action",
            Some(serde_json::json!("update")),
        );
        let WebhookEvent::Comment(note) = parse_event(&body).unwrap() else {
            panic!("a comment");
        };
        assert_eq!(note.action, hooks::NoteAction::Update);
    }

    #[test]
    fn system_notes_and_comments_elsewhere_are_ignored() {
        let system = edited(
            NOTE,
            "/object_attributes/system",
            Some(serde_json::json!(true)),
        );
        assert_eq!(ignored(&system), "System notes");
        for ty in [
            "MergeRequest",
            "Commit",
            "Snippet",
            "DesignManagement::Design",
        ] {
            let body = edited(
                NOTE,
                "/object_attributes/noteable_type",
                Some(serde_json::json!(ty)),
            );
            assert_eq!(ignored(&body), format!("Comments on a {ty}"));
        }
        assert_eq!(
            ignored(br#"{"object_kind":"push","ref":"refs/heads/main"}"#),
            r#"Events of kind "push""#
        );
    }

    #[test]
    fn control_characters_are_cleaned_from_text_and_refused_in_identifiers() {
        let body = edited(
            OPEN_LABELLED,
            "/object_attributes/title",
            Some(serde_json::json!("Runner\u{0} fails\u{7}\ttoday")),
        );
        assert_eq!(
            issue(std::str::from_utf8(&body).unwrap()).title,
            "Runner fails\ttoday"
        );
        let body = edited(
            OPEN_LABELLED,
            "/object_attributes/description",
            Some(serde_json::json!("line\u{0}one\nline two")),
        );
        assert_eq!(
            issue(std::str::from_utf8(&body).unwrap())
                .description
                .as_deref(),
            Some("lineone\nline two")
        );
        let body = edited(
            NOTE,
            "/object_attributes/note",
            Some(serde_json::json!("a\u{0}b")),
        );
        let WebhookEvent::Comment(note) = parse_event(&body).unwrap() else {
            panic!("a comment");
        };
        assert_eq!(note.body, "ab");
        for (pointer, field) in [
            (
                "/project/path_with_namespace",
                "project.path_with_namespace",
            ),
            ("/object_attributes/url", "object_attributes.url"),
        ] {
            let body = edited(
                OPEN_LABELLED,
                pointer,
                Some(serde_json::json!("acme\u{0}corp")),
            );
            assert_eq!(
                parse_event(&body),
                Err(WebhookProblem::ControlCharacters(field))
            );
        }
    }

    #[test]
    fn a_title_longer_than_the_portal_keeps_is_cut_not_refused() {
        let body = edited(
            OPEN_LABELLED,
            "/object_attributes/title",
            Some(serde_json::json!("t".repeat(5000))),
        );
        assert_eq!(
            issue(std::str::from_utf8(&body).unwrap())
                .title
                .chars()
                .count(),
            MAX_TITLE_CHARS
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
