//! The staff review queue, `GET /admin/listings`: submissions filtered by
//! state, in the order staff choose, paginated, and exported whole as CSV
//! at `GET /admin/listings.csv` with the same filter and order.

use crate::{
    accounts::guard::StaffUser,
    dates::When,
    error::AppResult,
    listings::version::VersionState,
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
        .route("/admin/listings", get(queue))
        .route("/admin/listings.csv", get(export))
}

pub struct QueueRow {
    pub id: i64,
    pub company: String,
    pub display_name: String,
    pub state: VersionState,
    pub submitted: When,
    /// A change to a listing already in the directory.
    pub live: bool,
}

#[derive(Template)]
#[template(path = "admin/listings.html")]
pub struct QueuePage {
    pub layout: Layout,
    pub rows: Vec<QueueRow>,
    pub filter: String,
    /// The order: empty (waiting oldest first), `newest` or `partner`.
    pub sort: &'static str,
    pub states: [VersionState; 4],
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
    display_name: String,
    state: String,
    submitted_at: DateTime<Utc>,
    company_name: String,
    live: bool,
}

async fn count(state: &AppState, filter: &str) -> AppResult<i64> {
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "n!" from listing_versions where $1::text is null or state = $1"#,
        queue::wanted(filter, "submitted")
    )
    .fetch_one(&state.pool)
    .await?)
}

/// The submissions in `filter`, in `sort` order: waiting ones oldest first
/// and decided ones newest first, unless staff chose otherwise.
async fn search(
    state: &AppState,
    filter: &str,
    sort: &str,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<Found>> {
    Ok(sqlx::query_as!(
        Found,
        r#"select v.id, v.display_name, v.state, v.submitted_at, p.company_name,
                  (l.published_version_id is not null and l.published_version_id <> v.id) as "live!"
             from listing_versions v
             join partners p on p.id = v.partner_id
             join listings l on l.partner_id = v.partner_id and l.id = v.listing_id
            where $1::text is null or v.state = $1
            order by case when $4 = 'partner' then p.company_name_folded end,
                     case when $4 = 'newest' then v.submitted_at end desc,
                     v.state <> 'submitted',
                     case when v.state = 'submitted' then v.submitted_at end asc,
                     v.submitted_at desc, v.id
            limit $2 offset $3"#,
        queue::wanted(filter, "submitted"),
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
    let filter = q.filter(VersionState::as_str);
    let sort = q.order();
    let total = count(&state, &filter).await?;
    let (page, pages, offset) = paging(q.page, total, PER_PAGE);
    let rows = search(&state, &filter, sort, PER_PAGE, offset)
        .await?
        .into_iter()
        .map(|r| QueueRow {
            id: r.id,
            company: r.company_name,
            display_name: r.display_name,
            state: r.state.parse().unwrap_or(VersionState::Superseded),
            submitted: When::new(now, r.submitted_at),
            live: r.live,
        })
        .collect();
    Ok(Page(QueuePage {
        layout: Layout::for_visitor(&staff.visitor, "Listings", "admin"),
        rows,
        filter,
        sort,
        states: VersionState::ALL,
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
        &q.filter(VersionState::as_str),
        sort,
        EXPORT_LIMIT,
        0,
    )
    .await?;
    let mut out = String::from("id,listing,partner,state,change_to_live_listing,submitted_at\r\n");
    for r in rows {
        out.push_str(&crate::csv::record(&[
            r.id.to_string(),
            r.display_name,
            r.company_name,
            r.state,
            r.live.to_string(),
            r.submitted_at.to_rfc3339(),
        ]));
    }
    Ok(crate::csv::download("listings.csv", out))
}
