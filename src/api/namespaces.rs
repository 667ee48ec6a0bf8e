//! `/api/v1/partner/namespaces`: the organisation's namespaces with their
//! state and where their badge stands in the CI/CD Catalog.

use axum::{
    extract::{Query, State},
    response::Response,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    auth::ApiTenant,
    licenses::PageQuery,
    paging,
    problem::{Problem, ProblemDetails},
};
use crate::{
    namespaces::catalog::{CatalogFacts, CatalogState},
    state::AppState,
};

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 3, "url": "https://gitlab.com/acme-corp", "state": "verified",
    "registered_at": "2027-01-02T08:00:00Z", "verified_at": "2027-01-03T10:00:00Z",
    "components": 4, "catalog": "Badge published on 3 January 2027, 10:01 UTC"
}))]
pub struct NamespaceSummary {
    pub id: i64,
    pub url: String,
    /// `pending`, `verified`, `rejected` or `revoked`.
    pub state: String,
    pub registered_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub components: i64,
    /// Where the partner badge stands in the CI/CD Catalog, in words.
    pub catalog: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NamespacePage {
    pub items: Vec<NamespaceSummary>,
    pub next_cursor: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    url: String,
    host: String,
    state: String,
    created_at: DateTime<Utc>,
    verified_at: Option<DateTime<Utc>>,
    components: i64,
    catalog_wish: Option<String>,
    catalog_level: Option<String>,
    catalog_published_at: Option<DateTime<Utc>>,
    catalog_error: Option<String>,
    catalog_waiting: bool,
}

#[utoipa::path(
    get,
    path = "/namespaces",
    tag = "namespaces",
    params(PageQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "A page of the organisation's namespaces, newest first", body = NamespacePage),
        (status = 401, description = "No valid token", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    mut tenant: ApiTenant,
    Query(query): Query<PageQuery>,
) -> Result<Response, Problem> {
    let limit = paging::limit(query.limit.as_deref())?;
    let after: Option<(DateTime<Utc>, i64)> = paging::after("namespaces", query.cursor.as_deref())?;
    let mut rows: Vec<Row> = sqlx::query_as(
        "select n.id, n.url, n.host, n.state, n.created_at, n.verified_at,
                (select count(*) from components c where c.partner_id = n.partner_id and c.namespace_id = n.id) as components,
                n.catalog_wish, n.catalog_level, n.catalog_published_at, n.catalog_error,
                exists (select 1 from gitlab_calls g
                         where g.kind = 'catalog' and g.namespace_id = n.id and g.status = 'pending') as catalog_waiting
           from namespaces n
          where $1::timestamptz is null or (n.created_at, n.id) < ($1, $2)
          order by n.created_at desc, n.id desc
          limit $3",
    )
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit + 1)
    .fetch_all(&mut *tenant.tx)
    .await?;
    crate::organizations::tenant::finish_reading(tenant.tx);
    let next_cursor = paging::cut("namespaces", &mut rows, limit, |r| (r.created_at, r.id));
    let items = rows
        .into_iter()
        .map(|r| {
            let facts = CatalogFacts {
                host: r.host,
                wish: r.catalog_wish,
                level: r.catalog_level,
                published_at: r.catalog_published_at,
                error: r.catalog_error,
                waiting: r.catalog_waiting,
            };
            NamespaceSummary {
                catalog: CatalogState::of(&state.config.gitlab, &facts).words().1,
                id: r.id,
                url: r.url,
                state: r.state,
                registered_at: r.created_at,
                verified_at: r.verified_at,
                components: r.components,
            }
        })
        .collect();
    let next = |cursor: &str| {
        state.config.link(&format!(
            "/api/v1/partner/namespaces?limit={limit}&cursor={cursor}"
        ))
    };
    let cursor = next_cursor.clone();
    Ok(paging::respond(
        NamespacePage { items, next_cursor },
        cursor.as_deref(),
        next,
    ))
}
