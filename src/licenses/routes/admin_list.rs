//! `GET /admin/licenses`: the queue of requests waiting for a decision
//! (oldest first, with their age) and the active licenses, filtered by
//! product, expiry and partner (the export in `admin_export` uses the same
//! filters).

use askama::Template;
use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use sqlx::PgConnection;

use super::view::Pager;
use crate::{
    accounts::guard::StaffUser,
    dates::{When, business_days_between, expires_phrase},
    error::AppResult,
    licenses::{LicenseState, Product, Purpose, Status},
    state::AppState,
    views::{FormErrors, Layout, Page},
};

const QUEUE_PER_PAGE: i64 = 25;
const PER_PAGE: i64 = 50;
/// Staff decide within this many business days (PRODUCT.md §2's default).
const DECIDE_WITHIN_BUSINESS_DAYS: i64 = 5;

/// Requests waiting for staff, anywhere.
pub async fn pending_count(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select count(*) as "n!" from license_terms where state = 'pending'"#)
        .fetch_one(conn)
        .await
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Filters {
    pub product: String,
    pub expiring: String,
    pub partner: String,
    /// The order of active licenses: empty (soonest expiry), `newest`
    /// (latest issued), `partner` (company name) or `users` (most first).
    pub sort: String,
    pub page: String,
    pub queue_page: String,
}

/// The filters as the queries take them; a bad value is reported and ignored.
pub(super) struct Parsed {
    product: Option<Product>,
    expiring_days: Option<i64>,
    partner: Option<String>,
    sort: &'static str,
}

pub(super) fn parse(f: &Filters, errors: &mut FormErrors) -> Parsed {
    let expiring = f.expiring.trim();
    let expiring_days = if expiring.is_empty() {
        None
    } else {
        errors.check(
            "expiring",
            expiring
                .parse::<i64>()
                .ok()
                .filter(|d| (0..=3650).contains(d))
                .ok_or("Enter a number of days from 0 to 3650."),
        )
    };
    Parsed {
        product: Product::parse(&f.product),
        expiring_days,
        partner: Some(f.partner.trim().to_owned()).filter(|p| !p.is_empty()),
        sort: order(&f.sort),
    }
}

/// The orders offered for active licenses; unknown values are the default.
fn order(sort: &str) -> &'static str {
    match sort {
        "newest" => "newest",
        "partner" => "partner",
        "users" => "users",
        _ => "",
    }
}

pub struct QueueRow {
    pub license_id: i64,
    pub company: String,
    pub product: &'static str,
    pub kind: &'static str,
    pub users: i32,
    pub requested: When,
    pub business_days: i64,
    pub overdue: bool,
}

pub struct ActiveRow {
    pub id: i64,
    pub company: String,
    pub product: &'static str,
    pub users: i32,
    pub purposes: String,
    pub license_key: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub expires: String,
    pub days_left: i64,
    /// Active, or suspended with its partner.
    pub status: &'static str,
    pub status_class: &'static str,
}

#[derive(Template)]
#[template(path = "admin/licenses.html")]
pub struct AdminLicensesPage {
    pub layout: Layout,
    pub queue: Vec<QueueRow>,
    pub queue_total: i64,
    pub queue_pager: Pager,
    pub active: Vec<ActiveRow>,
    pub active_total: i64,
    pub pager: Pager,
    pub filters: Filters,
    /// The filters as a query string, for the export and page links.
    pub filter_query: String,
    pub errors: FormErrors,
}

fn label(product: &str) -> &'static str {
    Product::parse(product).map_or("Unknown", Product::label)
}

pub(super) async fn active(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    p: &Parsed,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<ActiveRow>> {
    let until = p.expiring_days.map(|d| now + TimeDelta::days(d));
    let rows = sqlx::query!(
        r#"select l.id, p.company_name, l.product, l.users, l.purposes, l.state,
                  l.license_key as "license_key!", l.issued_at as "issued_at!", l.expires_at as "expires_at!"
             from licenses l join partners p on p.id = l.partner_id
            where l.state in ('active', 'suspended') and l.expires_at > $1
              and ($2::text is null or l.product = $2)
              and ($3::timestamptz is null or l.expires_at <= $3)
              and ($4::text is null or strpos(p.company_name_folded, lower($4)) > 0)
            order by case when $7 = 'newest' then l.issued_at end desc,
                     case when $7 = 'partner' then p.company_name_folded end,
                     case when $7 = 'users' then l.users end desc,
                     l.expires_at, l.id
            limit $5 offset $6"#,
        now,
        p.product.map(Product::as_str),
        until,
        p.partner,
        limit,
        offset,
        p.sort
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ActiveRow {
            id: r.id,
            company: r.company_name,
            product: label(&r.product),
            users: r.users,
            purposes: r
                .purposes
                .iter()
                .filter_map(|p| Purpose::parse(p))
                .map(Purpose::label)
                .collect::<Vec<_>>()
                .join("; "),
            license_key: r.license_key,
            issued_at: r.issued_at,
            expires_at: r.expires_at,
            expires: expires_phrase(now, r.expires_at),
            days_left: (r.expires_at - now).num_days(),
            status: row_status(&r.state, r.expires_at, now).label(),
            status_class: row_status(&r.state, r.expires_at, now).class(),
        })
        .collect())
}

fn row_status(state: &str, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Status {
    let state = LicenseState::parse(state).unwrap_or(LicenseState::Active);
    Status::of(state, Some(expires_at), now)
}

async fn active_total(conn: &mut PgConnection, now: DateTime<Utc>, p: &Parsed) -> AppResult<i64> {
    let until = p.expiring_days.map(|d| now + TimeDelta::days(d));
    Ok(sqlx::query_scalar!(
        r#"select count(*) as "n!"
             from licenses l join partners p on p.id = l.partner_id
            where l.state in ('active', 'suspended') and l.expires_at > $1
              and ($2::text is null or l.product = $2)
              and ($3::timestamptz is null or l.expires_at <= $3)
              and ($4::text is null or strpos(p.company_name_folded, lower($4)) > 0)"#,
        now,
        p.product.map(Product::as_str),
        until,
        p.partner
    )
    .fetch_one(conn)
    .await?)
}

async fn queue(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    pager: &mut Pager,
) -> AppResult<Vec<QueueRow>> {
    let rows = sqlx::query!(
        "select t.license_id, t.kind, t.users, t.requested_at, l.product, p.company_name
           from license_terms t
           join licenses l on l.id = t.license_id
           join partners p on p.id = t.partner_id
          where t.state = 'pending'
          order by t.requested_at, t.id
          limit $1 offset $2",
        pager.fetch(),
        pager.offset()
    )
    .fetch_all(conn)
    .await?;
    let mut rows: Vec<QueueRow> = rows
        .into_iter()
        .map(|r| {
            let business_days = business_days_between(r.requested_at, now);
            QueueRow {
                license_id: r.license_id,
                company: r.company_name,
                product: label(&r.product),
                kind: if r.kind == "renewal" {
                    "Renewal"
                } else {
                    "New"
                },
                users: r.users,
                requested: When::new(now, r.requested_at),
                business_days,
                overdue: business_days >= DECIDE_WITHIN_BUSINESS_DAYS,
            }
        })
        .collect();
    pager.keep(&mut rows);
    Ok(rows)
}

fn query_string(f: &Filters) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("product", &f.product)
        .append_pair("expiring", &f.expiring)
        .append_pair("partner", &f.partner)
        .append_pair("sort", order(&f.sort))
        .finish()
}

pub async fn show(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Query(filters): Query<Filters>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let mut errors = FormErrors::default();
    let parsed = parse(&filters, &mut errors);
    let mut conn = state.pool.acquire().await?;
    let mut queue_pager = Pager::new(&filters.queue_page, QUEUE_PER_PAGE);
    let queue = queue(&mut conn, now, &mut queue_pager).await?;
    let queue_total = pending_count(&mut conn).await?;
    let mut pager = Pager::new(&filters.page, PER_PAGE);
    let mut rows = active(&mut conn, now, &parsed, pager.fetch(), pager.offset()).await?;
    pager.keep(&mut rows);
    let active_total = active_total(&mut conn, now, &parsed).await?;
    Ok(Page(AdminLicensesPage {
        layout: Layout::for_visitor(&staff.visitor, "NFR licenses", "admin"),
        queue,
        queue_total,
        queue_pager,
        active: rows,
        active_total,
        pager,
        filter_query: query_string(&filters),
        filters,
        errors,
    })
    .into_response())
}
