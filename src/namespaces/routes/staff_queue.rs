//! The staff verification queue, `GET /admin/namespaces`: filtered by state,
//! in the order staff choose, paginated, and exported whole as CSV at
//! `GET /admin/namespaces.csv` with the same filter and order.

use crate::{
    accounts::guard::StaffUser,
    dates::When,
    error::AppResult,
    namespaces::NamespaceState,
    queue::{self, QueueQuery},
    state::AppState,
    views::{Layout, Page, paging},
};
use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    response::Response,
    routing::get,
};
use chrono::{DateTime, Utc};

const PER_PAGE: i64 = 50;
/// More rows than any export needs; a bound all the same.
const EXPORT_LIMIT: i64 = 100_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/namespaces", get(queue))
        .route("/admin/namespaces.csv", get(export))
}

pub struct QueueRow {
    pub id: i64,
    pub url: String,
    pub company: String,
    pub state: NamespaceState,
    pub registered: When,
}

#[derive(Template)]
#[template(path = "admin/namespaces.html")]
pub struct QueuePage {
    pub layout: Layout,
    pub rows: Vec<QueueRow>,
    /// The filter: a state, `all`, or empty for those waiting.
    pub filter: String,
    /// The order: empty (waiting oldest first), `newest` or `partner`.
    pub sort: &'static str,
    pub states: [NamespaceState; 4],
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

impl QueuePage {
    /// The query string of this filter and order, for links and the export.
    pub fn query(&self, page: Option<i64>) -> String {
        queue::query_string(&self.filter, self.sort, page)
    }
}

struct Found {
    id: i64,
    url: String,
    state: String,
    created_at: DateTime<Utc>,
    company_name: String,
}

async fn count(state: &AppState, filter: &str) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "n!" from namespaces where $1::text is null or state = $1"#,
        queue::wanted(filter, "pending")
    )
    .fetch_one(&state.pool)
    .await?)
}

/// The namespaces in `filter`, in `sort` order: waiting registrations
/// oldest first and decided ones newest first, unless staff chose otherwise.
async fn search(
    state: &AppState,
    filter: &str,
    sort: &str,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<Found>> {
    Ok(sqlx::query_as!(
        Found,
        r#"select n.id, n.url, n.state, n.created_at, p.company_name
             from namespaces n join partners p on p.id = n.partner_id
            where $1::text is null or n.state = $1
            order by case when $4 = 'partner' then p.company_name_folded end,
                     case when $4 = 'newest' then n.created_at end desc,
                     n.state <> 'pending',
                     case when n.state = 'pending' then n.created_at end asc,
                     n.created_at desc, n.id
            limit $2 offset $3"#,
        queue::wanted(filter, "pending"),
        limit,
        offset,
        sort
    )
    .fetch_all(&state.pool)
    .await?)
}

async fn queue(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Query(q): Query<QueueQuery>,
) -> AppResult<Page<QueuePage>> {
    let now = state.clock.now();
    let filter = q.filter(NamespaceState::as_str);
    let sort = q.order();
    let total = count(&state, &filter).await?;
    let (page, pages, offset) = paging(q.page, total, PER_PAGE);
    let found = search(&state, &filter, sort, PER_PAGE, offset).await?;
    let rows = found
        .into_iter()
        .map(|r| QueueRow {
            id: r.id,
            url: r.url,
            company: r.company_name,
            state: r.state.parse().unwrap_or(NamespaceState::Pending),
            registered: When::new(now, r.created_at),
        })
        .collect();
    Ok(Page(QueuePage {
        layout: Layout::for_visitor(&staff.visitor, "Namespaces", "admin"),
        rows,
        filter,
        sort,
        states: NamespaceState::ALL,
        total,
        page,
        pages,
    }))
}

async fn export(
    State(state): State<AppState>,
    StaffUser(_staff): StaffUser,
    Query(q): Query<QueueQuery>,
) -> AppResult<Response> {
    let sort = q.order();
    let rows = search(
        &state,
        &q.filter(NamespaceState::as_str),
        sort,
        EXPORT_LIMIT,
        0,
    )
    .await?;
    let mut out = String::from("id,namespace,partner,state,registered_at\r\n");
    for r in rows {
        out.push_str(&crate::csv::record(&[
            r.id.to_string(),
            r.url,
            r.company_name,
            r.state,
            r.created_at.to_rfc3339(),
        ]));
    }
    Ok(crate::csv::download("namespaces.csv", out))
}
