//! `/admin/gitlab`: the calls to GitLab that did not go through, for staff
//! to read why and try again (§9: given up on other 4xx "with the reason
//! shown to staff").

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::GITLAB_CALLS;
use crate::{
    accounts::{guard::StaffUser, session},
    audit,
    dates::When,
    error::{AppError, AppResult},
    outbox,
    state::AppState,
    views::{Layout, Page},
};

pub fn staff_router() -> Router<AppState> {
    Router::new()
        .route("/admin/gitlab", get(list))
        .route("/admin/gitlab/calls/{id}/retry", post(retry))
}

const PER_PAGE: i64 = 50;

pub struct CallRow {
    pub id: i64,
    /// What the call was for, in words.
    pub what: String,
    pub company: Option<String>,
    /// Where it is seen in the portal.
    pub link: Option<String>,
    pub dead: bool,
    pub attempts: i32,
    pub reason: String,
    pub since: When,
}

#[derive(Template)]
#[template(path = "admin/gitlab.html")]
pub struct GitLabCallsPage {
    pub layout: Layout,
    pub rows: Vec<CallRow>,
    pub dead: i64,
    pub retrying: i64,
    pub page: i64,
    pub has_next: bool,
    pub token_set: bool,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    page: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Query(query): Query<ListQuery>,
) -> AppResult<Page<GitLabCallsPage>> {
    let now = state.clock.now();
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=10_000).contains(p))
        .unwrap_or(1);
    let counts = sqlx::query!(
        r#"select count(*) filter (where status = 'dead') as "dead!",
                  count(*) filter (where status = 'pending' and last_error is not null) as "retrying!"
             from gitlab_calls where status <> 'sent'"#
    )
    .fetch_one(&state.pool)
    .await?;
    let rows = sqlx::query!(
        r#"select c.id, c.kind, c.status, c.attempts, c.last_error, c.dead_at, c.updated_at,
                  p.company_name as "company?", i.id as "issue_id?", i.project_path as "project_path?",
                  i.iid as "iid?"
             from gitlab_calls c
             left join partners p on p.id = c.partner_id
             left join issue_updates u on u.id = c.issue_update_id
             left join issues i on i.id = u.issue_id
            where c.status = 'dead' or (c.status = 'pending' and c.last_error is not null)
            order by c.status = 'dead' desc, coalesce(c.dead_at, c.updated_at) desc, c.id desc
            limit $1 offset $2"#,
        PER_PAGE + 1,
        (page - 1) * PER_PAGE
    )
    .fetch_all(&state.pool)
    .await?;
    let has_next = rows.len() as i64 > PER_PAGE;
    let rows = rows
        .into_iter()
        .take(PER_PAGE as usize)
        .map(|r| {
            let since: DateTime<Utc> = r.dead_at.unwrap_or(r.updated_at);
            let (what, link) = match (r.kind.as_str(), r.issue_id) {
                ("note", Some(issue)) => (
                    format!(
                        "A partner update as a comment on {}",
                        crate::issues::record::reference(r.project_path.as_deref(), r.iid)
                    ),
                    Some(format!("/admin/issues/{issue}")),
                ),
                (kind, _) => (format!("A call of kind {kind}"), None),
            };
            CallRow {
                id: r.id,
                what,
                company: r.company,
                link,
                dead: r.status == "dead",
                attempts: r.attempts,
                reason: r.last_error.unwrap_or_default(),
                since: When::new(now, since),
            }
        })
        .collect();
    Ok(Page(GitLabCallsPage {
        layout: Layout::for_visitor(&staff.visitor, "Calls to GitLab", "admin"),
        rows,
        dead: counts.dead,
        retrying: counts.retrying,
        page,
        has_next,
        token_set: state.config.gitlab.api_token.is_some(),
    }))
}

async fn retry(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let partner_id = sqlx::query_scalar!("select partner_id from gitlab_calls where id = $1", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let retried = outbox::retry_dead(&mut tx, &GITLAB_CALLS, id, now).await?;
    if retried {
        audit::record(
            &mut tx,
            now,
            &staff.actor(),
            audit::Entry {
                action: "gitlab_call.retried",
                partner_id,
                subject: Some(("gitlab_call", id)),
                ..Default::default()
            },
        )
        .await?;
    }
    tx.commit().await?;
    let mut conn = state.pool.acquire().await?;
    let message = if retried {
        "The call will be made again shortly."
    } else {
        "That call is not waiting for a retry."
    };
    session::set_flash(&mut conn, staff.session.id, message).await?;
    Ok(Redirect::to("/admin/gitlab").into_response())
}
