//! The webhook bodies GitLab sends, read exactly as it sends them: issue and
//! work item events (`Issue Hook`, `Confidential Issue Hook`) and comments
//! (`Note Hook`, `Confidential Note Hook`). Every other `object_kind` is
//! [`Hook::Other`].
//!
//! Reading is lenient where GitLab varies (unknown fields, missing optional
//! fields, both of its timestamp formats, old and new names of a flag) and
//! strict where the portal needs a value (ids, title, url, state, project
//! path, timestamps). Free text (titles, descriptions, comments, names) is
//! cleaned of control characters PostgreSQL cannot store or a page should
//! not show; an identifier carrying one is refused, since GitLab never sends
//! such a thing.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

/// What a delivery is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hook {
    /// An issue or an incident.
    WorkItem(WorkItemHook),
    /// Another type of work item (Task, Epic, Objective, Key Result, Test
    /// Case, Requirement, …), read no further: an epic's event from a group
    /// hook has no project.
    OtherWorkItem {
        kind: String,
    },
    /// A comment on an issue or incident.
    Note(NoteHook),
    /// A comment on something else (a merge request, commit, snippet,
    /// design, epic), read no further.
    OtherNote {
        noteable_type: String,
    },
    Other {
        object_kind: String,
    },
}

/// The kind of work item an issue event is about
/// (`object_attributes.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkItemType {
    /// `Issue`, or no type (GitLab before 17.2, and Service Desk issues).
    Issue,
    Incident,
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

/// An issue or work item event (`object_kind` `issue` or `work_item`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkItemHook {
    pub kind: WorkItemType,
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
    /// The labels before this event, only when it changed them.
    pub previous_labels: Option<Vec<String>>,
    pub project_path: String,
    /// `project.web_url`, which names the tracker's host.
    pub project_web_url: Option<String>,
    pub confidential: bool,
}

/// The issue a comment is on: its global id (when the hook names it) and
/// its number in the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotedIssue {
    pub id: Option<i64>,
    pub iid: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteAction {
    Create,
    /// An edit (GitLab 16.11 and later): replaces the text.
    Update,
}

/// Who wrote a comment (the hook's `user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub id: i64,
    pub username: String,
    pub name: String,
}

/// A comment event (`object_kind` `note`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteHook {
    pub note_id: i64,
    pub body: String,
    pub issue: NotedIssue,
    /// Written by GitLab itself ("changed the label…"), not by a person.
    pub system: bool,
    /// An internal note: seen only by members of the project.
    pub internal: bool,
    pub action: NoteAction,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub author: Author,
    pub project_path: String,
    pub project_web_url: Option<String>,
    /// The comment on GitLab (`…/issues/17#note_1241`).
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookProblem {
    #[error("The request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("The event has no {0}.")]
    MissingField(&'static str),
    #[error("The event's {field} is not a time the portal can read: {value:?}.")]
    BadTimestamp { field: &'static str, value: String },
    #[error("The event's state {0:?} is neither opened nor closed.")]
    UnknownState(String),
    #[error("The event's {0} holds control characters.")]
    ControlCharacters(&'static str),
}

/// Reads a webhook body.
pub fn parse(body: &[u8]) -> Result<Hook, HookProblem> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(malformed)?;
    let object_kind = envelope
        .object_kind
        .ok_or(HookProblem::MissingField("object_kind"))?;
    match object_kind.as_str() {
        "issue" | "work_item" => {
            let hook: IssuePayload = serde_json::from_slice(body).map_err(malformed)?;
            hook.read()
        }
        "note" => {
            let hook: NotePayload = serde_json::from_slice(body).map_err(malformed)?;
            hook.read()
        }
        _ => Ok(Hook::Other {
            object_kind: clean_text(&object_kind),
        }),
    }
}

fn malformed(e: serde_json::Error) -> HookProblem {
    HookProblem::MalformedJson(e.to_string())
}

#[derive(Deserialize)]
struct Envelope {
    object_kind: Option<String>,
}

#[derive(Deserialize)]
struct IssuePayload {
    event_type: Option<String>,
    project: Option<Project>,
    object_attributes: Option<IssueAttributes>,
    labels: Option<Vec<Label>>,
    changes: Option<Changes>,
}

#[derive(Deserialize)]
struct Project {
    path_with_namespace: Option<String>,
    web_url: Option<String>,
}

#[derive(Deserialize)]
struct IssueAttributes {
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
    #[serde(rename = "type")]
    kind: Option<String>,
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

fn titles(labels: Vec<Label>) -> Vec<String> {
    labels.into_iter().map(|l| clean_text(&l.title)).collect()
}

impl IssuePayload {
    fn read(self) -> Result<Hook, HookProblem> {
        let attrs = self
            .object_attributes
            .ok_or(HookProblem::MissingField("object_attributes"))?;
        let kind = match attrs.kind.as_deref().map(str::trim) {
            None | Some("" | "Issue") => WorkItemType::Issue,
            Some("Incident") => WorkItemType::Incident,
            Some(other) => {
                return Ok(Hook::OtherWorkItem {
                    kind: clean_text(other),
                });
            }
        };
        let (project_path, project_web_url) = project(self.project)?;
        let state = match attrs.state.as_deref() {
            Some("opened" | "reopened") => TrackerState::Opened,
            Some("closed") => TrackerState::Closed,
            Some(other) => return Err(HookProblem::UnknownState(clean_text(other))),
            None => return Err(HookProblem::MissingField("object_attributes.state")),
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
        let confidential = attrs.confidential.unwrap_or(false)
            || self.event_type.as_deref() == Some("confidential_issue");
        Ok(Hook::WorkItem(WorkItemHook {
            kind,
            external_id: attrs
                .id
                .ok_or(HookProblem::MissingField("object_attributes.id"))?,
            iid: attrs
                .iid
                .ok_or(HookProblem::MissingField("object_attributes.iid"))?,
            title: attrs
                .title
                .map(|t| clean_text(&t))
                .filter(|t| !t.trim().is_empty())
                .ok_or(HookProblem::MissingField("object_attributes.title"))?,
            description: attrs
                .description
                .map(|d| clean_text(&d))
                .filter(|d| !d.trim().is_empty()),
            url: identifier("object_attributes.url", attrs.url)?,
            state,
            action,
            created_at,
            updated_at,
            closed_at,
            labels: titles(self.labels.or(attrs.labels).unwrap_or_default()),
            previous_labels: self
                .changes
                .and_then(|changes| changes.labels)
                .map(|change| titles(change.previous.unwrap_or_default())),
            project_path,
            project_web_url,
            confidential,
        }))
    }
}

#[derive(Deserialize)]
struct NotePayload {
    event_type: Option<String>,
    user: Option<User>,
    project: Option<Project>,
    object_attributes: Option<NoteAttributes>,
    issue: Option<IssuePart>,
}

#[derive(Deserialize)]
struct User {
    id: Option<i64>,
    username: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct NoteAttributes {
    id: Option<i64>,
    note: Option<String>,
    noteable_type: Option<String>,
    system: Option<bool>,
    /// GitLab 15.6 and later; `confidential` before.
    internal: Option<bool>,
    confidential: Option<bool>,
    action: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct IssuePart {
    id: Option<i64>,
    iid: Option<i64>,
}

impl NotePayload {
    fn read(self) -> Result<Hook, HookProblem> {
        let attrs = self
            .object_attributes
            .ok_or(HookProblem::MissingField("object_attributes"))?;
        let issue = match attrs.noteable_type.as_deref().map(str::trim) {
            Some("Issue" | "WorkItem") => {
                let issue = self.issue.ok_or(HookProblem::MissingField("issue"))?;
                NotedIssue {
                    id: issue.id,
                    iid: issue.iid.ok_or(HookProblem::MissingField("issue.iid"))?,
                }
            }
            Some(other) => {
                return Ok(Hook::OtherNote {
                    noteable_type: clean_text(other),
                });
            }
            None => return Err(HookProblem::MissingField("object_attributes.noteable_type")),
        };
        let (project_path, project_web_url) = project(self.project)?;
        let created_at = required_time("object_attributes.created_at", attrs.created_at)?;
        let updated_at = match attrs.updated_at {
            Some(text) => parse_time("object_attributes.updated_at", &text)?,
            None => created_at,
        };
        let user = self.user.ok_or(HookProblem::MissingField("user"))?;
        let username = user
            .username
            .map(|u| clean_text(&u))
            .filter(|u| !u.trim().is_empty())
            .ok_or(HookProblem::MissingField("user.username"))?;
        Ok(Hook::Note(NoteHook {
            note_id: attrs
                .id
                .ok_or(HookProblem::MissingField("object_attributes.id"))?,
            body: clean_text(&attrs.note.unwrap_or_default()),
            issue,
            system: attrs.system.unwrap_or(false),
            internal: attrs.internal.or(attrs.confidential).unwrap_or(false)
                || self.event_type.as_deref() == Some("confidential_note"),
            action: match attrs.action.as_deref() {
                Some("update") => NoteAction::Update,
                _ => NoteAction::Create,
            },
            created_at,
            updated_at,
            author: Author {
                id: user.id.ok_or(HookProblem::MissingField("user.id"))?,
                name: user
                    .name
                    .map(|n| clean_text(&n))
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| username.clone()),
                username,
            },
            project_path,
            project_web_url,
            url: attrs
                .url
                .map(|u| identifier("object_attributes.url", Some(u)))
                .transpose()?,
        }))
    }
}

/// The project's path and web address.
fn project(project: Option<Project>) -> Result<(String, Option<String>), HookProblem> {
    let (path, web_url) = project
        .map(|p| (p.path_with_namespace, p.web_url))
        .unwrap_or_default();
    let path = identifier("project.path_with_namespace", path)?;
    let web_url = web_url
        .filter(|u| !u.trim().is_empty())
        .map(|u| identifier("project.web_url", Some(u)))
        .transpose()?;
    Ok((path, web_url))
}

/// A value the portal matches or links by: present, not blank, and free of
/// control characters (refused rather than cleaned: cleaning would change
/// what it names).
fn identifier(field: &'static str, value: Option<String>) -> Result<String, HookProblem> {
    let value = value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or(HookProblem::MissingField(field))?;
    if value.chars().any(char::is_control) {
        return Err(HookProblem::ControlCharacters(field));
    }
    Ok(value)
}

/// Free text without the control characters PostgreSQL refuses (NUL) or a
/// page should not show; line breaks and tabs stay.
pub fn clean_text(text: &str) -> String {
    if !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return text.to_owned();
    }
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .collect()
}

fn required_time(field: &'static str, text: Option<String>) -> Result<DateTime<Utc>, HookProblem> {
    let text = text.ok_or(HookProblem::MissingField(field))?;
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

fn parse_time(field: &'static str, text: &str) -> Result<DateTime<Utc>, HookProblem> {
    parse_gitlab_time(text).ok_or_else(|| HookProblem::BadTimestamp {
        field,
        value: clean_text(text).chars().take(60).collect(),
    })
}
