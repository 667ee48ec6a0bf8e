//! `/admin/catalog`: every namespace where the portal and the CI/CD Catalog
//! disagree (the catalog was not told, a call was given up, or the daily
//! comparison read another level), with a button to publish again.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use crate::{
    accounts::{guard::StaffUser, session},
    audit,
    dates::When,
    error::{AppError, AppResult},
    namespaces::catalog::{self, CatalogFacts, CatalogState},
    state::AppState,
    views::{Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/catalog", get(list))
        .route("/admin/catalog/{id}/publish", post(publish))
}

const PER_PAGE: i64 = 50;

pub struct Disagreement {
    pub id: i64,
    pub url: String,
    pub company: String,
    /// What the portal wants the catalog to show.
    pub wish: &'static str,
    /// Where the portal's calls stand.
    pub state: (&'static str, String),
    /// What the daily comparison read, if it read something.
    pub observed: Option<String>,
    pub checked: Option<When>,
}

#[derive(Template)]
#[template(path = "admin/catalog.html")]
pub struct CatalogPage {
    pub layout: Layout,
    pub rows: Vec<Disagreement>,
    pub host: String,
    pub token_set: bool,
    pub page: i64,
    pub has_next: bool,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    page: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Query(query): Query<ListQuery>,
) -> AppResult<Page<CatalogPage>> {
    let now = state.clock.now();
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=10_000).contains(p))
        .unwrap_or(1);
    let host = state.config.gitlab.host();
    let rows = sqlx::query!(
        r#"select n.id, n.url, n.host, n.catalog_wish as "wish!", n.catalog_level, n.catalog_published_at,
                  n.catalog_error, n.catalog_observed, n.catalog_checked_at, p.company_name,
                  exists (select 1 from gitlab_calls g
                           where g.kind = 'catalog' and g.namespace_id = n.id and g.status = 'pending') as "waiting!"
             from namespaces n
             join partners p on p.id = n.partner_id
            where n.host = $1 and n.catalog_wish is not null
              and (n.catalog_level is distinct from n.catalog_wish
                   or n.catalog_error is not null
                   or n.catalog_observed <> case n.catalog_wish when 'badged' then 'GITLAB_PARTNER_MAINTAINED'
                                                               else 'UNVERIFIED' end)
            order by n.catalog_wish_at desc, n.id desc
            limit $2 offset $3"#,
        host,
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
            let facts = CatalogFacts {
                host: r.host,
                wish: Some(r.wish.clone()),
                level: r.catalog_level,
                published_at: r.catalog_published_at,
                error: r.catalog_error,
                waiting: r.waiting,
            };
            Disagreement {
                id: r.id,
                url: r.url,
                company: r.company_name,
                wish: catalog::level_of(&r.wish),
                state: CatalogState::of(&state.config.gitlab, &facts).words(),
                observed: r.catalog_observed,
                checked: r.catalog_checked_at.map(|t| When::new(now, t)),
            }
        })
        .collect();
    Ok(Page(CatalogPage {
        layout: Layout::for_visitor(&staff.visitor, "Catalog badges", "admin"),
        rows,
        host,
        token_set: state.config.gitlab.admin_token.is_some(),
        page,
        has_next,
    }))
}

async fn publish(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    if state.config.gitlab.admin_token.is_none() {
        return Err(AppError::Conflict(
            "Nothing can be published: PORTAL_GITLAB_ADMIN_TOKEN is not set.".into(),
        ));
    }
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let ns = sqlx::query!(
        "select partner_id, url, catalog_wish from namespaces where id = $1 and host = $2",
        id,
        state.config.gitlab.host()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    if ns.catalog_wish.is_none() {
        return Err(AppError::Conflict(format!(
            "{} was never badged: there is nothing to tell the catalog.",
            ns.url
        )));
    }
    sqlx::query!(
        "update namespaces set catalog_error = null where id = $1",
        id
    )
    .execute(&mut *tx)
    .await?;
    catalog::enqueue(&mut tx, now, id).await?;
    audit::record(
        &mut tx,
        now,
        &staff.actor(),
        audit::Entry {
            action: "namespace.catalog_published_again",
            partner_id: Some(ns.partner_id),
            subject: Some(("namespace", id)),
            after: Some(serde_json::json!({ "wish": ns.catalog_wish })),
            ..Default::default()
        },
    )
    .await?;
    session::set_flash(
        &mut tx,
        staff.session.id,
        &format!("{} will be published to the catalog again shortly.", ns.url),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/catalog").into_response())
}
