//! Staff lists: every issue with filters and a chosen order (`/admin/issues`,
//! exported as CSV at `/admin/issues.csv`), the triage queue
//! (`/admin/issues/triage`) and the partners' scorecards
//! (`/admin/issues/scorecards`).

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    response::Response,
    routing::get,
};
use serde::Deserialize;
use url::form_urlencoded;

use super::view::{self, IssueLine, Pager};
use crate::{
    accounts::guard::StaffUser,
    error::AppResult,
    issues::{
        export::{self, EXPORT_LIMIT},
        lists::{self, StaffFilter, StaffOrder},
        scorecard::{self, PartnerScore},
    },
    state::AppState,
    views::{Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/issues", get(list))
        .route("/admin/issues.csv", get(export))
        .route("/admin/issues/triage", get(triage))
        .route("/admin/issues/scorecards", get(scorecards))
}

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    partner: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    sort: String,
    page: Option<String>,
}

impl ListQuery {
    /// Unknown values are read as "any", so a hand-edited address still
    /// shows a list.
    fn filter(&self) -> StaffFilter {
        // A number is a partner's ID (links from other pages); anything else
        // a part of its company name.
        let partner = self.partner.trim().trim_start_matches('#');
        let partner_id = partner.parse().ok();
        StaffFilter {
            partner_id,
            partner_name: (partner_id.is_none() && !partner.is_empty()).then(|| partner.to_owned()),
            severity: match self.severity.trim() {
                "none" => Some(0),
                s => s.parse().ok().filter(|n| (1..=4).contains(n)),
            },
            // Open issues unless asked otherwise.
            state: match self.state.as_str() {
                "" => Some("open".to_owned()),
                "all" => None,
                s @ ("open" | "closed" | "triage") => Some(s.to_owned()),
                _ => None,
            },
            overdue: self.overdue == "on",
            order: StaffOrder::parse(&self.sort),
        }
    }

    /// The filters and order as a query string, with a page or without.
    fn query(&self, page: Option<i64>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("partner", &self.partner)
            .append_pair("severity", &self.severity)
            .append_pair("state", &self.state)
            .append_pair("overdue", &self.overdue)
            .append_pair("sort", StaffOrder::parse(&self.sort).as_str());
        if let Some(page) = page {
            q.append_pair("page", &page.to_string());
        }
        q.finish()
    }
}

#[derive(Template)]
#[template(path = "admin/issues/list.html")]
pub struct StaffIssuesPage {
    pub layout: Layout,
    pub lines: Vec<IssueLine>,
    pub pager: Pager,
    pub partner: String,
    pub severity: String,
    pub state: String,
    pub overdue: bool,
    /// The order: empty (soonest deadline), `severity` or `newest`.
    pub sort: &'static str,
    /// The export of these filters in this order.
    pub csv_href: String,
    /// [`EXPORT_LIMIT`] in words: "100,000".
    pub export_limit: String,
}

async fn list(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Query(query): Query<ListQuery>,
) -> AppResult<Page<StaffIssuesPage>> {
    let now = state.clock.now();
    let page = view::page_number(query.page.as_deref());
    let mut conn = state.pool.acquire().await?;
    let filter = query.filter();
    let mut rows = lists::for_staff(
        &mut conn,
        &filter,
        now,
        view::PER_PAGE + 1,
        view::offset(page),
    )
    .await?;
    let pager = Pager::new(&mut rows, page, |p| {
        format!("/admin/issues?{}", query.query(Some(p)))
    });
    Ok(Page(StaffIssuesPage {
        layout: Layout::for_visitor(&staff.visitor, "Issues", "admin"),
        lines: rows.into_iter().map(|r| IssueLine::new(r, now)).collect(),
        pager,
        partner: query.partner.trim().to_owned(),
        severity: query.severity.clone(),
        state: filter.state.unwrap_or_else(|| "all".to_owned()),
        overdue: filter.overdue,
        sort: filter.order.as_str(),
        csv_href: format!("/admin/issues.csv?{}", query.query(None)),
        export_limit: crate::listings::form::thousands(EXPORT_LIMIT as usize),
    }))
}

async fn export(
    State(state): State<AppState>,
    StaffUser(_staff): StaffUser,
    Query(query): Query<ListQuery>,
) -> Response {
    let now = state.clock.now();
    crate::csv::download(
        "issues.csv",
        export::body(state.pool.clone(), query.filter(), now),
    )
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    page: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/issues/triage.html")]
pub struct TriagePage {
    pub layout: Layout,
    pub lines: Vec<IssueLine>,
    pub pager: Pager,
}

async fn triage(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Query(query): Query<PageQuery>,
) -> AppResult<Page<TriagePage>> {
    let now = state.clock.now();
    let page = view::page_number(query.page.as_deref());
    let mut conn = state.pool.acquire().await?;
    let mut rows = lists::triage_queue(&mut conn, view::PER_PAGE + 1, view::offset(page)).await?;
    let pager = Pager::new(&mut rows, page, |p| {
        format!("/admin/issues/triage?page={p}")
    });
    Ok(Page(TriagePage {
        layout: Layout::for_visitor(&staff.visitor, "Triage queue", "admin"),
        lines: rows.into_iter().map(|r| IssueLine::new(r, now)).collect(),
        pager,
    }))
}

#[derive(Template)]
#[template(path = "admin/issues/scorecards.html")]
pub struct ScorecardsPage {
    pub layout: Layout,
    pub scores: Vec<PartnerScore>,
    pub pager: Pager,
    pub window_days: i64,
}

async fn scorecards(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Query(query): Query<PageQuery>,
) -> AppResult<Page<ScorecardsPage>> {
    let now = state.clock.now();
    let page = view::page_number(query.page.as_deref());
    let mut conn = state.pool.acquire().await?;
    let mut scores =
        scorecard::per_partner(&mut conn, now, view::PER_PAGE + 1, view::offset(page)).await?;
    let pager = Pager::new(&mut scores, page, |p| {
        format!("/admin/issues/scorecards?page={p}")
    });
    Ok(Page(ScorecardsPage {
        layout: Layout::for_visitor(&staff.visitor, "Partner scorecards", "admin"),
        scores,
        pager,
        window_days: scorecard::WINDOW_DAYS,
    }))
}
