//! The audit log pages: `GET /audit` for a partner organisation's admins
//! (their entries only), `GET /admin/audit` and `GET /admin/audit.csv` for
//! staff (everything, filtered).

use std::collections::HashSet;

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    response::Response,
    routing::get,
};
use sqlx::PgPool;

use super::{
    csv,
    names::AREAS,
    query::{self, AuditQuery, Cursor, Filters, PER_PAGE, Row},
    view::{self, Audience, EntryView},
};
use crate::{
    accounts::guard::StaffUser,
    error::{AppError, AppResult},
    organizations::Tenant,
    search::{self, PartnerMatch},
    state::AppState,
    views::{FormErrors, Layout, Page},
};

pub fn partner_router() -> Router<AppState> {
    Router::new().route("/audit", get(partner_log))
}

pub fn staff_router() -> Router<AppState> {
    Router::new()
        .route("/admin/audit", get(staff_log))
        .route("/admin/audit.csv", get(staff_csv))
}

#[derive(Template)]
#[template(path = "audit/log.html")]
pub struct AuditPage {
    pub layout: Layout,
    pub staff: bool,
    pub heading: String,
    pub path: &'static str,
    pub q: AuditQuery,
    pub errors: FormErrors,
    pub areas: &'static [(&'static str, &'static str)],
    pub entries: Vec<EntryView>,
    pub older_href: Option<String>,
    pub newest_href: Option<String>,
    pub csv_href: Option<String>,
    /// Staff: what the organisation filter found.
    pub partner_note: Option<String>,
    pub partner_choices: Vec<(String, String)>,
}

fn href(path: &str, params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        return path.to_owned();
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    format!("{path}?{query}")
}

/// Cuts the extra row fetched to know whether an older page exists, and
/// gives that page's link.
fn older_page(rows: &mut Vec<Row>, path: &str, q: &AuditQuery) -> Option<String> {
    if rows.len() as i64 <= PER_PAGE {
        return None;
    }
    rows.truncate(PER_PAGE as usize);
    let cursor = rows.last()?.cursor().encode();
    let mut params = q.filter_params();
    params.push(("after", &cursor));
    Some(href(path, &params))
}

fn page(layout: Layout, staff: bool, path: &'static str, q: AuditQuery) -> AuditPage {
    AuditPage {
        layout,
        staff,
        heading: String::new(),
        path,
        errors: FormErrors::default(),
        areas: AREAS,
        entries: Vec::new(),
        older_href: None,
        newest_href: (!q.after.is_empty()).then(|| href(path, &q.filter_params())),
        csv_href: None,
        partner_note: None,
        partner_choices: Vec::new(),
        q,
    }
}

/// Which of these users are staff (read on the privileged path; the ids
/// come from the organisation's own entries).
async fn staff_among(pool: &PgPool, rows: &[Row]) -> AppResult<HashSet<i64>> {
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.actor_user_id).collect();
    let staff = sqlx::query_scalar!(
        "select id from users where id = any($1) and staff_role is not null",
        &ids
    )
    .fetch_all(pool)
    .await?;
    Ok(staff.into_iter().collect())
}

#[tracing::instrument(skip_all)]
async fn partner_log(
    State(state): State<AppState>,
    mut tenant: Tenant,
    Query(q): Query<AuditQuery>,
) -> AppResult<Page<AuditPage>> {
    tenant.require_admin()?;
    let now = state.clock.now();
    let q = AuditQuery {
        partner: String::new(),
        ..q
    };
    let layout = Layout::for_visitor(&tenant.signed_in.visitor, "Activity", "dashboard");
    let mut page = page(layout, false, "/audit", q);
    let filters = Filters::parse(&page.q, &mut page.errors);
    let after = Cursor::parse(&page.q.after);
    let mut rows = query::page_for_partner(
        &mut tenant.tx,
        tenant.partner_id,
        &filters,
        after,
        PER_PAGE + 1,
    )
    .await?;
    let company = sqlx::query_scalar!("select company_name from partners")
        .fetch_one(&mut *tenant.tx)
        .await?;
    tenant.tx.commit().await?;
    page.older_href = older_page(&mut rows, "/audit", &page.q);
    let staff_ids = staff_among(&state.pool, &rows).await?;
    let audience = Audience::Partner {
        staff_ids: &staff_ids,
    };
    page.entries = rows
        .into_iter()
        .map(|r| view::entry(now, r, &audience))
        .collect();
    page.heading = format!("Activity of {company}");
    Ok(Page(page))
}

/// What the staff organisation filter resolves to.
enum PartnerFilter {
    Everyone,
    One(PartnerMatch),
    NoMatch,
    Several(Vec<PartnerMatch>),
}

async fn resolve_partner(pool: &PgPool, input: &str) -> AppResult<PartnerFilter> {
    if input.trim().is_empty() {
        return Ok(PartnerFilter::Everyone);
    }
    let mut conn = pool.acquire().await?;
    let mut found = search::find_partners(&mut conn, input, false, 20).await?;
    Ok(match found.len() {
        0 => PartnerFilter::NoMatch,
        1 => PartnerFilter::One(found.remove(0)),
        _ => PartnerFilter::Several(found),
    })
}

#[tracing::instrument(skip_all)]
async fn staff_log(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Query(q): Query<AuditQuery>,
) -> AppResult<Page<AuditPage>> {
    let now = state.clock.now();
    let layout = Layout::for_visitor(&staff.visitor, "Audit log", "admin");
    let mut page = page(layout, true, "/admin/audit", q);
    page.heading = "Audit log".to_owned();
    let filters = Filters::parse(&page.q, &mut page.errors);
    let after = Cursor::parse(&page.q.after);
    let mut tx = crate::db::begin(&state.pool).await?;
    let mut rows = match resolve_partner(&state.pool, &page.q.partner).await? {
        PartnerFilter::Everyone => query::page_all(&mut tx, &filters, after, PER_PAGE + 1).await?,
        PartnerFilter::One(p) => {
            page.partner_note = Some(format!(
                "Showing the entries of {} (#{}).",
                p.company_name, p.id
            ));
            query::page_for_partner(&mut tx, p.id, &filters, after, PER_PAGE + 1).await?
        }
        PartnerFilter::NoMatch => {
            page.errors
                .add("partner", "No organisation matches this name or ID.");
            Vec::new()
        }
        PartnerFilter::Several(choices) => {
            page.partner_note = Some(format!(
                "{} organisations match. Choose one:",
                choices.len()
            ));
            let mut params = page.q.filter_params();
            params.retain(|(k, _)| *k != "partner");
            page.partner_choices = choices
                .into_iter()
                .map(|c| {
                    let id = c.id.to_string();
                    let mut p = params.clone();
                    p.push(("partner", &id));
                    (
                        href("/admin/audit", &p),
                        format!("{} (#{})", c.company_name, c.id),
                    )
                })
                .collect();
            Vec::new()
        }
    };
    tx.commit().await?;
    page.older_href = older_page(&mut rows, "/admin/audit", &page.q);
    if page.partner_choices.is_empty() && page.errors.get("partner").is_none() {
        page.csv_href = Some(href("/admin/audit.csv", &page.q.filter_params()));
    }
    page.entries = rows
        .into_iter()
        .map(|r| view::entry(now, r, &Audience::Staff))
        .collect();
    Ok(Page(page))
}

#[tracing::instrument(skip_all)]
async fn staff_csv(
    State(state): State<AppState>,
    StaffUser(_staff): StaffUser,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let mut errors = FormErrors::default();
    let filters = Filters::parse(&q, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::BadRequest("invalid audit filters".into()));
    }
    let partner_id = match resolve_partner(&state.pool, &q.partner).await? {
        PartnerFilter::Everyone => None,
        PartnerFilter::One(p) => Some(p.id),
        PartnerFilter::NoMatch | PartnerFilter::Several(_) => {
            return Err(AppError::BadRequest(
                "the organisation filter names no single organisation".into(),
            ));
        }
    };
    let filename = format!("audit-log-{}.csv", state.clock.now().format("%Y-%m-%d"));
    Ok(crate::csv::download(
        &filename,
        csv::body(state.pool.clone(), filters, partner_id),
    ))
}
