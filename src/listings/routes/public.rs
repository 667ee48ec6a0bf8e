//! The public directory: `GET /partners` (search by name, filter by partner
//! type and stage, pages), `GET /partners/{slug}` and the partner's logo.
//! Everything is read from the in-memory snapshot; only a logo's bytes come
//! from the database, behind a long-lived, content-addressed URL.

use std::sync::Arc;

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use super::{etag_matches, logo_response, not_modified};
use crate::{
    accounts::session::Visitor,
    applications::form::{PARTNER_TYPES, STAGES},
    error::{AppError, AppResult},
    listings::{
        directory::{DirectoryQuery, Entry, PER_PAGE, Params, search},
        store,
    },
    state::AppState,
    views::{Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/partners", get(directory))
        .route("/partners/{slug}", get(partner))
        .route("/partners/{slug}/logo", get(logo))
}

/// Visitors get the plain public layout: no session work, no CSRF cookie.
fn layout(visitor: &Visitor, title: impl Into<String>) -> Layout {
    if visitor.session.is_some() {
        Layout::for_visitor(visitor, title, "directory")
    } else {
        Layout::public(title, "directory")
    }
}

#[derive(Template)]
#[template(path = "listings/directory.html")]
pub struct DirectoryPage {
    pub layout: Layout,
    pub query: DirectoryQuery,
    pub entries: Vec<Arc<Entry>>,
    pub total: usize,
    pub listed: usize,
    pub page: usize,
    pub pages: usize,
    pub partner_types: &'static [(&'static str, &'static str)],
    pub stages: &'static [(&'static str, &'static str)],
}

async fn directory(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(params): Query<Params>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let snapshot = state.directory.snapshot().await?;
    let query = DirectoryQuery::from(params);
    let key = query.page_href(query.page);
    let anonymous = visitor.session.is_none();
    if anonymous && let Some(page) = snapshot.pages.get(&key) {
        return Ok(page.respond(&headers));
    }
    let found = search(&snapshot, &query, PER_PAGE);
    let title = if query.is_filtered() {
        format!("Partner directory: {} found", found.total)
    } else {
        "Partner directory".to_owned()
    };
    let page = DirectoryPage {
        layout: layout(&visitor, title),
        entries: found.entries.into_iter().cloned().collect(),
        total: found.total,
        listed: snapshot.entries.len(),
        page: found.page,
        pages: found.pages,
        query,
        partner_types: &PARTNER_TYPES,
        stages: &STAGES,
    };
    Ok(if anonymous {
        snapshot.pages.insert(key, page.render()?).respond(&headers)
    } else {
        Page(page).into_response()
    })
}

#[derive(Template)]
#[template(path = "listings/partner.html")]
pub struct PartnerPage {
    pub layout: Layout,
    pub e: Arc<Entry>,
}

impl DirectoryPage {
    pub fn count(&self, n: &usize) -> String {
        crate::listings::form::thousands(*n)
    }
}

impl PartnerPage {
    /// Paragraphs of a text, split on blank lines.
    pub fn paragraphs(&self, text: &str) -> Vec<String> {
        text.split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

async fn partner(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let snapshot = state.directory.snapshot().await?;
    let e = snapshot.by_slug(&slug).cloned().ok_or(AppError::NotFound)?;
    let key = format!("/partners/{slug}");
    let anonymous = visitor.session.is_none();
    if anonymous && let Some(page) = snapshot.pages.get(&key) {
        return Ok(page.respond(&headers));
    }
    let page = PartnerPage {
        layout: layout(&visitor, e.display_name.clone()),
        e,
    };
    Ok(if anonymous {
        snapshot.pages.insert(key, page.render()?).respond(&headers)
    } else {
        Page(page).into_response()
    })
}

#[derive(Deserialize, Default)]
struct LogoQuery {
    #[serde(default)]
    v: String,
}

/// A year for the URL that names the content; five minutes for the bare one.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const SHORT: &str = "public, max-age=300";

async fn logo(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<LogoQuery>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let snapshot = state.directory.snapshot().await?;
    let entry = snapshot.by_slug(&slug).ok_or(AppError::NotFound)?;
    let logo = entry.logo.as_ref().ok_or(AppError::NotFound)?;
    let etag = format!("\"{}\"", logo.version());
    let cache = if q.v == logo.version() {
        IMMUTABLE
    } else {
        SHORT
    };
    if etag_matches(&headers, &etag) {
        return Ok(not_modified(&etag, cache));
    }
    let mut conn = state.pool.acquire().await?;
    let stored = store::logo(&mut conn, entry.partner_id, logo.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(logo_response(
        &stored.content_type,
        stored.bytes,
        &etag,
        cache,
    ))
}
