//! The partner's issues: `GET /issues`, `GET /issues/{id}` and
//! `POST /issues/{id}/updates`. Everything runs on the tenant transaction, so
//! another organisation's issue is simply not found (404).

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::view::{self, IssueFacts, IssueLine, Pager};
use crate::{
    audit,
    dates::When,
    error::{AppError, AppResult},
    issues::{
        history::{self, Entry, Event},
        lists, record,
        scorecard::Scorecard,
    },
    limits,
    organizations::Tenant,
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/issues", get(list))
        .route("/issues/{id}", get(show))
        .route("/issues/{id}/updates", post(post_update))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    status: Option<String>,
    sort: Option<String>,
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "issues/list.html")]
pub struct IssuesPage {
    pub layout: Layout,
    pub lines: Vec<IssueLine>,
    pub pager: Pager,
    pub status: String,
    /// The order: empty (most urgent), `newest` or `severity`.
    pub sort: &'static str,
    pub score: Scorecard,
}

async fn list(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Query(query): Query<ListQuery>,
) -> AppResult<Page<IssuesPage>> {
    let now = state.clock.now();
    let status = match query.status.as_deref() {
        Some(s @ ("open" | "closed")) => Some(s),
        _ => None,
    };
    let order = lists::PartnerOrder::parse(query.sort.as_deref().unwrap_or_default());
    let sort = order.as_str();
    let page = view::page_number(query.page.as_deref());
    let (mut rows, score) = lists::for_partner(
        &mut tenant.tx,
        status,
        order,
        view::PER_PAGE + 1,
        view::offset(page),
        now,
    )
    .await?;
    let status = status.unwrap_or("all").to_owned();
    let pager = Pager::new(&mut rows, page, |p| {
        format!("/issues?status={status}&sort={sort}&page={p}")
    });
    crate::organizations::tenant::finish_reading(tenant.tx);
    Ok(Page(IssuesPage {
        layout: Layout::for_visitor(&tenant.signed_in.visitor, "Issues", "issues"),
        lines: rows.into_iter().map(|r| IssueLine::new(r, now)).collect(),
        pager,
        status,
        sort,
        score,
    }))
}

/// One entry of the timeline, ready to show.
pub struct TimelineItem {
    pub actor: String,
    pub text: String,
    pub at: When,
    pub is_update: bool,
}

pub fn timeline_items(
    entries: Vec<Entry>,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<TimelineItem> {
    entries
        .into_iter()
        .map(|e| TimelineItem {
            actor: e.actor,
            text: e.text,
            at: When::new(now, e.at),
            is_update: e.is_update,
        })
        .collect()
}

/// History entries shown on an issue page.
pub const TIMELINE_LIMIT: i64 = 500;

#[derive(Template)]
#[template(path = "issues/detail.html")]
pub struct IssuePage {
    pub layout: Layout,
    pub facts: IssueFacts,
    pub timeline: Vec<TimelineItem>,
    pub body: String,
    pub errors: FormErrors,
}

async fn page(
    state: &AppState,
    tenant: &mut Tenant,
    id: i64,
    body: String,
    errors: FormErrors,
) -> AppResult<IssuePage> {
    let now = state.clock.now();
    let issue = record::load(&mut tenant.tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let entries = history::timeline(&mut tenant.tx, id, TIMELINE_LIMIT).await?;
    Ok(IssuePage {
        layout: Layout::for_visitor(&tenant.signed_in.visitor, issue.title.clone(), "issues"),
        facts: IssueFacts::new(&issue, now),
        timeline: timeline_items(entries, now),
        body,
        errors,
    })
}

async fn show(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(id): Path<i64>,
) -> AppResult<Page<IssuePage>> {
    let page = page(
        &state,
        &mut tenant,
        id,
        String::new(),
        FormErrors::default(),
    )
    .await?;
    crate::organizations::tenant::finish_reading(tenant.tx);
    Ok(Page(page))
}

/// An update's text: trimmed, 1 to 10,000 characters.
pub fn parse_update(input: &str) -> Result<String, &'static str> {
    let text = input.trim();
    match text.chars().count() {
        0 => Err("Write your update before posting it."),
        n if n > 10_000 => Err("Keep the update under 10,000 characters."),
        _ if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            Err("The update contains characters that cannot be used.")
        }
        _ => Ok(text.to_owned()),
    }
}

#[derive(Deserialize)]
struct UpdateForm {
    #[serde(default)]
    body: String,
}

async fn post_update(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(id): Path<i64>,
    Form(form): Form<UpdateForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let issue = record::load(&mut tenant.tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut errors = FormErrors::default();
    let Some(body) = errors.check("body", parse_update(&form.body)) else {
        let page = page(&state, &mut tenant, id, form.body, errors).await?;
        return Ok(Invalid(page).into_response());
    };
    let author = tenant.signed_in.user().name.clone();
    let update_id = sqlx::query_scalar!(
        "insert into issue_updates (partner_id, issue_id, author_user_id, author_name, body, created_at)
         values ($1, $2, $3, $4, $5, $6) returning id",
        tenant.partner_id,
        id,
        tenant.user_id(),
        author,
        body,
        now
    )
    .fetch_one(&mut *tenant.tx)
    .await?;
    if issue.first_response_at.is_none() {
        sqlx::query!(
            "update issues set first_response_at = $2 where id = $1 and first_response_at is null",
            id,
            now
        )
        .execute(&mut *tenant.tx)
        .await?;
        history::record(
            &mut tenant.tx,
            now,
            Some(tenant.partner_id),
            id,
            Event {
                kind: "first_response",
                summary: format!(
                    "First response from {}; the “awaiting first response” clock stopped.",
                    author
                ),
                actor: &author,
                data: None,
            },
        )
        .await?;
    }
    let actor = tenant.actor();
    audit::record(
        &mut tenant.tx,
        now,
        &actor,
        audit::Entry {
            action: "issue.update_posted",
            partner_id: Some(tenant.partner_id),
            subject: Some(("issue", id)),
            after: Some(serde_json::json!({ "update_id": update_id })),
            ..Default::default()
        },
    )
    .await?;
    limits::spend_for(&mut tenant, &limits::ISSUE_UPDATES, now).await?;
    tenant
        .commit_with_flash(&state, "Your update is posted.")
        .await?;
    Ok(Redirect::to(&format!("/issues/{id}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_are_trimmed_and_bounded() {
        assert_eq!(
            parse_update("  Fixed in 1.2.3\n"),
            Ok("Fixed in 1.2.3".into())
        );
        assert!(parse_update(" \n ").is_err());
        assert!(parse_update(&"x".repeat(10_001)).is_err());
        assert!(parse_update("bad \u{0} byte").is_err());
        assert!(parse_update("line one\nline two").is_ok());
    }
}
