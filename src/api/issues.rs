//! `/api/v1/partner/issues`: the organisation's issues as its pages show
//! them (the same filters and orders), one issue with its thread, and
//! posting an update through the same function as the page's form.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::ApiTenant,
    paging,
    problem::{Problem, ProblemDetails},
};
use crate::{
    issues::{
        DeadlineState,
        history::{self, NoteState, Said},
        record, updates,
    },
    state::AppState,
};

/// One issue in a list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 42,
    "reference": "acme-corp/integrations/runner-component#17",
    "title": "Runner registration fails behind an HTTP proxy",
    "state": "open",
    "severity": 2,
    "deadline_state": "on_track",
    "deadline_at": "2027-03-12T10:15:00Z",
    "clock_started_at": "2027-02-10T10:15:00Z",
    "resolved_at": null,
    "first_response_at": null,
    "confidential": false,
    "created_at": "2027-02-10T10:16:02Z",
    "gitlab_url": "https://gitlab.com/acme-corp/integrations/runner-component/-/issues/17",
    "portal_url": "https://partners.example.com/issues/42"
}))]
pub struct IssueSummary {
    pub id: i64,
    /// `project/path#17`, or "Entered by the alliance team".
    pub reference: String,
    pub title: String,
    /// `open` or `closed`.
    pub state: String,
    /// 1 to 4; null while untriaged.
    pub severity: Option<i16>,
    /// `on_track`, `due_soon`, `overdue`, `met`, `missed` or `untriaged`.
    pub deadline_state: String,
    pub deadline_at: Option<DateTime<Utc>>,
    pub clock_started_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub confidential: bool,
    pub created_at: DateTime<Utc>,
    pub gitlab_url: Option<String>,
    pub portal_url: String,
}

/// A page of issues.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuePage {
    pub items: Vec<IssueSummary>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

fn deadline_key(state: DeadlineState) -> &'static str {
    match state {
        DeadlineState::OnTrack => "on_track",
        DeadlineState::DueSoon => "due_soon",
        DeadlineState::Overdue => "overdue",
        DeadlineState::Met => "met",
        DeadlineState::Missed => "missed",
        DeadlineState::Untriaged => "untriaged",
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `open`, `closed` or `all` (the default).
    status: Option<String>,
    /// `urgent` (open first, soonest deadline first; the default),
    /// `newest`, or `severity`.
    sort: Option<String>,
    /// 1 to 100 (50 by default).
    limit: Option<String>,
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    title: String,
    iid: Option<i64>,
    project_path: Option<String>,
    url: Option<String>,
    severity: Option<i16>,
    state: String,
    clock_started_at: Option<DateTime<Utc>>,
    deadline_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    confidential: bool,
    first_response_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

/// Where a row stands in the list's order; a cursor carries the last
/// row's. Timestamps as PostgreSQL keeps them (microseconds), so a cursor
/// names its row exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Key {
    /// `severity` order only: 1 to 4, unset as 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    severity: Option<i16>,
    closed: bool,
    /// The deadline of an open issue; none for a closed one.
    deadline: Option<DateTime<Utc>>,
    resolved: Option<DateTime<Utc>>,
    /// `newest` order only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created: Option<DateTime<Utc>>,
    id: i64,
}

impl Key {
    fn of(row: &Row, sort: &str) -> Self {
        let open = row.state == "open";
        Key {
            severity: (sort == "severity").then(|| row.severity.unwrap_or(5)),
            closed: !open,
            deadline: row.deadline_at.filter(|_| open),
            resolved: row.resolved_at,
            created: (sort == "newest").then_some(row.created_at),
            id: row.id,
        }
    }
}

const COLUMNS: &str =
    "select id, title, iid, project_path, url, severity, state, clock_started_at, deadline_at,
       resolved_at, confidential, first_response_at, created_at
  from issues
 where ($1::text is null or state = $1)";

/// After the cursor in `urgent` order: open first, the soonest deadline
/// first (none last), then closed, the latest resolved first, ties to the
/// newest id: the columns of `issues_partner_urgent`, so a page is read in
/// index order and the scan stops at the limit. $2 closed, $3 deadline,
/// $4 resolved, $5 id of the cursor; $2 null on the first page.
const AFTER_URGENT: &str = "(
       (state <> 'open') > $2
    or ((state <> 'open') = $2 and (
           (case when state = 'open' then deadline_at end) > $3
        or ($3 is not null and (case when state = 'open' then deadline_at end) is null)
        or ((case when state = 'open' then deadline_at end) is not distinct from $3 and (
               resolved_at < $4
            or ($4 is null and resolved_at is not null)
            or (resolved_at is not distinct from $4 and id < $5))))))";

const ORDER_URGENT: &str =
    "(state <> 'open'), (case when state = 'open' then deadline_at end), resolved_at desc, id desc";

/// One statement per order, each prepared once per connection.
static LIST_URGENT: LazyLock<String> = LazyLock::new(|| {
    format!("{COLUMNS} and ($2::bool is null or {AFTER_URGENT}) order by {ORDER_URGENT} limit $6")
});

/// `newest`: `issues_partner_newest`'s order. $2 created, $3 id.
static LIST_NEWEST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{COLUMNS} and ($2::timestamptz is null or (created_at, id) < ($2, $3))
          order by created_at desc, id desc limit $4"
    )
});

/// `severity` (rarely chosen; sorts the organisation's issues): severity 1
/// first, unset last, then as `urgent`. $7 severity.
static LIST_SEVERITY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{COLUMNS} and ($7::int2 is null or coalesce(severity, 5) > $7
                        or (coalesce(severity, 5) = $7 and {AFTER_URGENT}))
          order by coalesce(severity, 5), {ORDER_URGENT} limit $6"
    )
});

#[utoipa::path(
    get,
    path = "/issues",
    tag = "issues",
    params(ListQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "A page of the organisation's issues; `Link: <…>; rel=\"next\"` when there are more", body = IssuePage),
        (status = 401, description = "No valid token", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "A filter is not one the list knows", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests for this token", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    mut tenant: ApiTenant,
    Query(query): Query<ListQuery>,
) -> Result<Response, Problem> {
    let now = state.clock.now();
    let mut wrong = Vec::new();
    let status = match query.status.as_deref().map(str::trim) {
        None | Some("" | "all") => None,
        Some(s @ ("open" | "closed")) => Some(s),
        Some(_) => {
            wrong.push((
                "status".to_owned(),
                "Choose open, closed or all.".to_owned(),
            ));
            None
        }
    };
    let sort = match query.sort.as_deref().map(str::trim) {
        None | Some("" | "urgent") => "urgent",
        Some(s @ ("newest" | "severity")) => s,
        Some(_) => {
            wrong.push((
                "sort".to_owned(),
                "Choose urgent, newest or severity.".to_owned(),
            ));
            "urgent"
        }
    };
    if !wrong.is_empty() {
        return Err(Problem::invalid(wrong));
    }
    let limit = paging::limit(query.limit.as_deref())?;
    let list = format!("status={}&sort={sort}", status.unwrap_or("all"));
    let after: Option<Key> = paging::after(&list, query.cursor.as_deref())?;
    let after = after.as_ref();
    let rows = match sort {
        "newest" => sqlx::query_as::<_, Row>(&LIST_NEWEST)
            .bind(status)
            .bind(after.and_then(|k| k.created))
            .bind(after.map(|k| k.id))
            .bind(limit + 1),
        _ => {
            let statement: &str = if sort == "severity" {
                &LIST_SEVERITY
            } else {
                &LIST_URGENT
            };
            let query = sqlx::query_as::<_, Row>(statement)
                .bind(status)
                .bind(after.map(|k| k.closed))
                .bind(after.and_then(|k| k.deadline))
                .bind(after.and_then(|k| k.resolved))
                .bind(after.map(|k| k.id))
                .bind(limit + 1);
            if sort == "severity" {
                query.bind(after.map(|k| k.severity.unwrap_or(5)))
            } else {
                query
            }
        }
    };
    let mut rows: Vec<Row> = rows.fetch_all(&mut *tenant.tx).await?;
    crate::organizations::tenant::finish_reading(tenant.tx);
    let next_cursor = paging::cut(&list, &mut rows, limit, |r| Key::of(r, sort));
    let items = rows
        .into_iter()
        .map(|r| IssueSummary {
            deadline_state: deadline_key(crate::issues::state(
                now,
                r.clock_started_at,
                r.deadline_at,
                r.resolved_at,
            ))
            .to_owned(),
            reference: record::reference(r.project_path.as_deref(), r.iid),
            portal_url: state.config.link(&format!("/issues/{}", r.id)),
            gitlab_url: r
                .url
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
            id: r.id,
            title: r.title,
            state: r.state,
            severity: r.severity,
            deadline_at: r.deadline_at,
            clock_started_at: r.clock_started_at,
            resolved_at: r.resolved_at,
            first_response_at: r.first_response_at,
            confidential: r.confidential,
            created_at: r.created_at,
        })
        .collect();
    let next = |cursor: &str| {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        next.append_pair("status", status.unwrap_or("all"));
        next.append_pair("sort", sort);
        next.append_pair("limit", &limit.to_string());
        next.append_pair("cursor", cursor);
        state
            .config
            .link(&format!("/api/v1/partner/issues?{}", next.finish()))
    };
    let cursor = next_cursor.clone();
    Ok(paging::respond(
        IssuePage { items, next_cursor },
        cursor.as_deref(),
        next,
    ))
}

/// One entry of an issue's thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadEntry {
    /// `event` (what happened), `update` (your team's, posted in the
    /// portal) or `comment` (made on GitLab).
    pub kind: String,
    pub author: String,
    /// The GitLab username of a comment's author.
    pub username: Option<String>,
    /// The text as written (Markdown for updates and comments).
    pub text: String,
    /// The text as safe HTML (updates and comments).
    pub html: Option<String>,
    pub at: DateTime<Utc>,
    /// An update's note on GitLab: `posted`, `waiting`, `failed` or
    /// `not_sent`.
    pub gitlab: Option<String>,
    pub internal: bool,
}

/// One issue with its thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssueDetail {
    #[serde(flatten)]
    pub issue: IssueSummary,
    pub labels: Vec<String>,
    /// The description as written on GitLab (Markdown).
    pub description: Option<String>,
    pub thread: Vec<ThreadEntry>,
}

#[utoipa::path(
    get,
    path = "/issues/{id}",
    tag = "issues",
    params(("id" = i64, Path, description = "The issue's id in the portal")),
    security(("token" = [])),
    responses(
        (status = 200, description = "The issue and its thread, oldest first", body = IssueDetail),
        (status = 404, description = "Not an issue of the organisation", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    mut tenant: ApiTenant,
    Path(id): Path<i64>,
) -> Result<Json<IssueDetail>, Problem> {
    let now = state.clock.now();
    let issue = record::load(&mut tenant.tx, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    let entries = history::timeline(
        &mut tenant.tx,
        id,
        crate::issues::routes::thread::TIMELINE_LIMIT,
    )
    .await?;
    crate::organizations::tenant::finish_reading(tenant.tx);
    let thread = entries
        .into_iter()
        .map(|e| {
            let (kind, username, gitlab, internal) = match &e.said {
                Said::Event => ("event", None, None, false),
                Said::Update(note) => (
                    "update",
                    None,
                    Some(match note {
                        NoteState::NotSent => "not_sent",
                        NoteState::Waiting { .. } => "waiting",
                        NoteState::Posted { .. } => "posted",
                        NoteState::Failed(_) => "failed",
                    }),
                    false,
                ),
                Said::Comment {
                    username, internal, ..
                } => ("comment", Some(username.clone()), None, *internal),
            };
            ThreadEntry {
                kind: kind.to_owned(),
                author: e.actor,
                username,
                text: e.text,
                html: e.html,
                at: e.at,
                gitlab: gitlab.map(str::to_owned),
                internal,
            }
        })
        .collect();
    Ok(Json(IssueDetail {
        issue: IssueSummary {
            id: issue.id,
            reference: issue.reference(),
            title: issue.title.clone(),
            state: issue.state.clone(),
            severity: issue.severity,
            deadline_state: deadline_key(issue.deadline_state(now)).to_owned(),
            deadline_at: issue.deadline_at,
            clock_started_at: issue.clock_started_at,
            resolved_at: issue.resolved_at,
            first_response_at: issue.first_response_at,
            confidential: issue.confidential,
            created_at: issue.created_at,
            gitlab_url: issue
                .url
                .clone()
                .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
            portal_url: state.config.link(&format!("/issues/{}", issue.id)),
        },
        labels: issue.labels,
        description: issue.description,
        thread,
    }))
}

/// An update to post.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({ "body": "Reproduced; a fix ships in **2.3.1** on Friday." }))]
pub struct NewUpdate {
    /// Markdown, 1 to 10,000 characters.
    pub body: String,
}

/// A posted update.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({ "update_id": 7, "gitlab": "waiting", "first_response": true }))]
pub struct PostedUpdate {
    pub update_id: i64,
    /// `waiting` (to be posted on the GitLab issue) or `not_sent` (it
    /// stays in the portal).
    pub gitlab: String,
    /// This update was the issue's first response.
    pub first_response: bool,
}

#[utoipa::path(
    post,
    path = "/issues/{id}/updates",
    tag = "issues",
    params(("id" = i64, Path, description = "The issue's id in the portal")),
    request_body(content = NewUpdate, content_type = "application/json"),
    security(("token" = [])),
    responses(
        (status = 201, description = "Posted; the same as posting it on the issue's page", body = PostedUpdate),
        (status = 400, description = "The body is not JSON of this shape", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "The token may only read", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "Not an issue of the organisation", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "The update is empty, too long, or holds characters that cannot be used", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
pub async fn post_update(
    State(state): State<AppState>,
    mut tenant: ApiTenant,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, Problem> {
    tenant.require_write(&state).await?;
    let new: NewUpdate = serde_json::from_slice(&body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-json",
            "The body is not the JSON expected",
        )
        .detail(format!("Send {{\"body\": \"…\"}} ({e})."))
    })?;
    let text = updates::parse_update(&new.body)
        .map_err(|why| Problem::invalid([("body".to_owned(), why.to_owned())]))?;
    let now = state.clock.now();
    let actor = tenant.token.actor();
    let name = format!("{} (API)", tenant.token.name);
    let partner_id = tenant.partner_id();
    let posted = updates::post(
        &mut tenant.tx,
        &state.config,
        now,
        partner_id,
        id,
        updates::Author {
            user_id: None,
            name: &name,
            actor: &actor,
        },
        &text,
    )
    .await?;
    tenant.tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(PostedUpdate {
            update_id: posted.update_id,
            gitlab: match posted.delivery {
                updates::Delivery::ToGitLab => "waiting",
                _ => "not_sent",
            }
            .to_owned(),
            first_response: posted.first_response,
        }),
    )
        .into_response())
}
