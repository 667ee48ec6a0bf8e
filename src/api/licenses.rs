//! `/api/v1/partner/licenses`: the organisation's NFR licenses, newest
//! request first, as its licenses page shows them.

use axum::{
    extract::{Query, State},
    response::Response,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    auth::ApiTenant,
    paging,
    problem::{Problem, ProblemDetails},
};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 12, "product": "saas", "state": "active", "users": 5,
    "purposes": ["integration_testing"], "license_key": "NFR-SAAS-7G2K-…",
    "requested_at": "2027-01-05T09:00:00Z", "issued_at": "2027-01-05T09:00:00Z",
    "expires_at": "2028-01-05T09:00:00Z",
    "portal_url": "https://partners.example.com/licenses/12"
}))]
pub struct LicenseSummary {
    pub id: i64,
    /// `saas` or `self_managed`.
    pub product: String,
    /// `requested`, `active`, `rejected`, `revoked`, `expired`, …
    pub state: String,
    pub users: i32,
    pub purposes: Vec<String>,
    /// The key, while the license is active.
    pub license_key: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub issued_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub portal_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LicensePage {
    pub items: Vec<LicenseSummary>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 100 (50 by default).
    pub limit: Option<String>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    product: String,
    state: String,
    users: i32,
    purposes: Vec<String>,
    license_key: Option<String>,
    requested_at: DateTime<Utc>,
    issued_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

#[utoipa::path(
    get,
    path = "/licenses",
    tag = "licenses",
    params(PageQuery),
    security(("token" = [])),
    responses(
        (status = 200, description = "A page of the organisation's licenses, newest request first", body = LicensePage),
        (status = 401, description = "No valid token", body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    mut tenant: ApiTenant,
    Query(query): Query<PageQuery>,
) -> Result<Response, Problem> {
    let limit = paging::limit(query.limit.as_deref())?;
    let after: Option<(DateTime<Utc>, i64)> = paging::after("licenses", query.cursor.as_deref())?;
    let mut rows: Vec<Row> = sqlx::query_as(
        "select id, product, state, users, purposes, license_key, requested_at, issued_at, expires_at
           from licenses
          where $1::timestamptz is null or (requested_at, id) < ($1, $2)
          order by requested_at desc, id desc
          limit $3",
    )
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit + 1)
    .fetch_all(&mut *tenant.tx)
    .await?;
    crate::organizations::tenant::finish_reading(tenant.tx);
    let next_cursor = paging::cut("licenses", &mut rows, limit, |r| (r.requested_at, r.id));
    let items = rows
        .into_iter()
        .map(|r| LicenseSummary {
            portal_url: state.config.link(&format!("/licenses/{}", r.id)),
            license_key: r.license_key.filter(|_| r.state == "active"),
            id: r.id,
            product: r.product,
            state: r.state,
            users: r.users,
            purposes: r.purposes,
            requested_at: r.requested_at,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
        })
        .collect();
    let next = |cursor: &str| {
        state.config.link(&format!(
            "/api/v1/partner/licenses?limit={limit}&cursor={cursor}"
        ))
    };
    let cursor = next_cursor.clone();
    Ok(paging::respond(
        LicensePage { items, next_cursor },
        cursor.as_deref(),
        next,
    ))
}
