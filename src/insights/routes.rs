//! `GET /admin/insights` (staff): the program in charts over a chosen
//! period, each chart's numbers at `/admin/insights/{chart}.csv`; and the
//! partner's own trend as CSV at `/dashboard/scorecard.csv`.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    response::Response,
    routing::get,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::PgConnection;

use super::{
    applications, decisions,
    figure::Figure,
    issues, licenses, partners,
    period::{CHOICES, Period},
    trend::{self, Trend},
};
use crate::{
    accounts::guard::StaffUser,
    dates,
    error::{AppError, AppResult},
    organizations::{Tenant, tenant::finish_reading},
    state::AppState,
    views::{Layout, Page},
};

pub fn staff_router() -> Router<AppState> {
    Router::new()
        .route("/admin/insights", get(page))
        .route("/admin/insights/{file}", get(csv))
}

pub fn partner_router() -> Router<AppState> {
    Router::new().route(trend::CSV_PATH, get(partner_csv))
}

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    months: Option<String>,
}

/// The charts of the page, in the order shown; each one's CSV is named
/// after it.
pub const CHARTS: [&str; 7] = [
    "applications",
    "decisions",
    "deadlines",
    "issues",
    "licenses",
    "partner-types",
    "partner-stages",
];

/// The figures named in `ids`, drawn from the counts at `now`.
pub async fn figures(
    conn: &mut PgConnection,
    ids: &[&str],
    period: Period,
    now: DateTime<Utc>,
) -> Result<Vec<Figure>, sqlx::Error> {
    let today = now.date_naive();
    let mut out = Vec::with_capacity(ids.len());
    let mut mixes = None;
    for id in ids {
        out.push(match *id {
            "applications" => applications::funnel(conn, period, today).await?,
            "decisions" => decisions::decisions(conn, period, today).await?,
            "deadlines" => issues::deadlines(conn, period, now).await?,
            "issues" => issues::flow(conn, period, today).await?,
            "licenses" => licenses::outlook(conn, period, now).await?,
            "partner-types" | "partner-stages" => {
                if mixes.is_none() {
                    mixes = Some(partners::load(conn, period, today).await?);
                }
                let mixes = mixes.as_ref().expect("loaded just now");
                if *id == "partner-types" {
                    partners::types_figure(period, today, mixes)
                } else {
                    partners::stages_figure(period, today, mixes)
                }
            }
            _ => continue,
        });
    }
    Ok(out)
}

pub struct Choice {
    pub months: u32,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "admin/insights.html")]
pub struct InsightsPage {
    pub layout: Layout,
    pub choices: Vec<Choice>,
    /// The period asked for was not one of the choices.
    pub period_error: Option<String>,
    pub period_words: String,
    /// "3 December 2026, 14:05 UTC".
    pub as_of: String,
    pub figures: Vec<Figure>,
}

async fn page(
    State(state): State<AppState>,
    StaffUser(staff): StaffUser,
    Query(query): Query<PeriodQuery>,
) -> AppResult<Page<InsightsPage>> {
    let now = state.clock.now();
    // A period not offered shows the default one, saying so at the chooser.
    let (period, period_error) = match Period::parse(query.months.as_deref()) {
        Ok(p) => (p, None),
        Err(e) => (Period::default(), Some(e.to_string())),
    };
    let mut conn = state.pool.acquire().await?;
    let figures = figures(&mut conn, &CHARTS, period, now).await?;
    drop(conn);
    Ok(Page(InsightsPage {
        layout: Layout::for_visitor(&staff.visitor, "Program insights", "admin"),
        choices: CHOICES
            .iter()
            .map(|m| Choice {
                months: *m,
                label: format!("Last {m} months"),
                selected: *m == period.months(),
            })
            .collect(),
        period_error,
        period_words: period.words(now.date_naive()),
        as_of: dates::date_time(now),
        figures,
    }))
}

/// `applications.csv` and the like: the table under that chart.
async fn csv(
    State(state): State<AppState>,
    StaffUser(_): StaffUser,
    Path(file): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> AppResult<Response> {
    let id = file
        .strip_suffix(".csv")
        .and_then(|id| CHARTS.iter().find(|c| **c == id))
        .ok_or(AppError::NotFound)?;
    let period =
        Period::parse(query.months.as_deref()).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let now = state.clock.now();
    let mut conn = state.pool.acquire().await?;
    let figure = figures(&mut conn, &[id], period, now)
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    Ok(crate::csv::download(
        &format!(
            "{id}-{}-months-{}.csv",
            period.months(),
            now.format("%Y-%m-%d")
        ),
        figure.table.csv(),
    ))
}

async fn partner_csv(State(state): State<AppState>, mut tenant: Tenant) -> AppResult<Response> {
    let now = state.clock.now();
    let trend = Trend::load(&mut tenant.tx, tenant.partner_id, now).await?;
    finish_reading(tenant.tx);
    Ok(crate::csv::download(
        &format!("deadlines-{}.csv", now.format("%Y-%m-%d")),
        trend.figure().table.csv(),
    ))
}
