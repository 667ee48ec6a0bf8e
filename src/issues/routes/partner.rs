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

use super::{
    thread::{TIMELINE_LIMIT, TimelineItem, kept_in_portal, timeline_items},
    view::{self, IssueFacts, IssueLine, Pager},
};
use crate::{
    error::{AppError, AppResult},
    issues::{history, lists, record, scorecard::Scorecard, updates},
    markdown,
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

#[derive(Template)]
#[template(path = "issues/detail.html")]
pub struct IssuePage {
    pub layout: Layout,
    pub facts: IssueFacts,
    pub timeline: Vec<TimelineItem>,
    /// Why updates stay in the portal, when they do.
    pub kept_in_portal: Option<&'static str>,
    pub body: String,
    /// The update as it will read, when Preview was pressed.
    pub preview: Option<String>,
    pub errors: FormErrors,
}

async fn page(
    state: &AppState,
    tenant: &mut Tenant,
    id: i64,
    body: String,
    preview: Option<String>,
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
        timeline: timeline_items(entries, &issue, now),
        kept_in_portal: kept_in_portal(&state.config, &issue),
        body,
        preview,
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
        None,
        FormErrors::default(),
    )
    .await?;
    crate::organizations::tenant::finish_reading(tenant.tx);
    Ok(Page(page))
}

#[derive(Deserialize)]
struct UpdateForm {
    #[serde(default)]
    body: String,
    /// Present when the Preview button was pressed.
    preview: Option<String>,
}

async fn post_update(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Path(id): Path<i64>,
    Form(form): Form<UpdateForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let mut errors = FormErrors::default();
    let parsed = errors.check("body", updates::parse_update(&form.body));
    let Some(body) = parsed.filter(|_| form.preview.is_none()) else {
        // Not posted: a preview, or the text needs a change.
        let preview = match (&form.preview, errors.is_empty()) {
            (Some(_), true) => {
                let issue = record::load(&mut tenant.tx, id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                Some(markdown::render(
                    form.body.trim(),
                    issue.project_url().as_deref(),
                ))
            }
            _ => None,
        };
        let page = page(&state, &mut tenant, id, form.body, preview, errors).await?;
        return Ok(if page.preview.is_some() {
            Page(page).into_response()
        } else {
            Invalid(page).into_response()
        });
    };
    let actor = tenant.actor();
    let author_name = tenant.signed_in.user().name.clone();
    let user_id = tenant.user_id();
    let posted = updates::post(
        &mut tenant.tx,
        &state.config,
        now,
        tenant.partner_id,
        id,
        updates::Author {
            user_id: Some(user_id),
            name: &author_name,
            actor: &actor,
        },
        &body,
    )
    .await?;
    let message = match posted.delivery {
        updates::Delivery::ToGitLab => "Your update is posted; it will appear on GitLab shortly.",
        updates::Delivery::NoToken | updates::Delivery::NoTrackerIssue => "Your update is posted.",
    };
    tenant.commit_with_flash(&state, message).await?;
    Ok(Redirect::to(&format!("/issues/{id}")).into_response())
}
