//! A partner's own scorecard over 12 months: its deadlines met and missed
//! per month, on its dashboard and as CSV. Read through
//! `partner_deadline_trend` in the partner's transaction, so row-level
//! security keeps it to the organisation's own issues.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use super::{
    chart::{Columns, Mark, Panel, Series, colour},
    figure::{Figure, Legend},
    numbers::{percent, thousands},
    period::{Period, month_name, month_tick},
    table::{Cell, Table},
};

pub const CSV_PATH: &str = "/dashboard/scorecard.csv";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Trend {
    pub months: Vec<NaiveDate>,
    pub met: Vec<i64>,
    pub missed: Vec<i64>,
}

/// The first month of the trend at `now`: the 12 months end with this one.
pub fn first_month(now: DateTime<Utc>) -> NaiveDate {
    Period::default().start(now.date_naive())
}

impl Trend {
    /// The trend from the function's columns, one value per month from
    /// [`first_month`] to this one.
    pub fn new(now: DateTime<Utc>, met: Vec<i64>, missed: Vec<i64>) -> Self {
        let months = Period::default().month_starts(now.date_naive());
        let fit = |mut v: Vec<i64>| {
            v.resize(months.len(), 0);
            v
        };
        Self {
            met: fit(met),
            missed: fit(missed),
            months,
        }
    }

    pub async fn load(
        conn: &mut PgConnection,
        partner_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Self, sqlx::Error> {
        let r = sqlx::query!(
            r#"select coalesce(array_agg(met order by month), '{}') as "met!",
                      coalesce(array_agg(missed order by month), '{}') as "missed!"
                 from partner_deadline_trend($1, $2, $3)"#,
            partner_id,
            first_month(now),
            now
        )
        .fetch_one(conn)
        .await?;
        Ok(Self::new(now, r.met, r.missed))
    }

    pub fn figure(&self) -> Figure {
        let series = vec![
            Series::counts("Met", colour::BLUE, Mark::Bar, &self.met),
            Series::counts("Missed", colour::ORANGE, Mark::Bar, &self.missed),
        ];
        let met: i64 = self.met.iter().sum();
        let missed: i64 = self.missed.iter().sum();
        let first = self
            .months
            .first()
            .copied()
            .map(month_name)
            .unwrap_or_default();
        let last = self
            .months
            .last()
            .copied()
            .map(month_name)
            .unwrap_or_default();
        let summary = if met + missed == 0 {
            format!("No deadline of yours was met or missed from {first} to {last}.")
        } else {
            format!(
                "From {first} to {last}, you met {} deadlines and missed {} ({} met).",
                thousands(met),
                thousands(missed),
                percent(met, met + missed)
            )
        };
        let mut panel = Panel::new("Deadlines", series);
        panel.height = 170;
        Figure {
            id: "scorecard",
            title: "Your deadlines, month by month".into(),
            summary,
            note: "A deadline counts as met in the month the issue was resolved before it, and as missed in the month it passed without that.".into(),
            kind: "bar chart",
            legend: Legend::of(&panel.series),
            drawing: Columns {
                from_last: true,
                ticks: self.months.iter().map(|m| month_tick(*m, false)).collect(),
                x_label: "Month".into(),
                panels: vec![panel],
            }
            .draw(),
            table: Table {
                caption: "Your deadlines, month by month".into(),
                head: ["Month", "Met", "Missed"].map(String::from).to_vec(),
                rows: self
                    .months
                    .iter()
                    .zip(self.met.iter().zip(&self.missed))
                    .map(|(m, (a, b))| vec![Cell::text(month_name(*m)), Cell::Count(*a), Cell::Count(*b)])
                    .collect(),
            },
            csv_href: CSV_PATH.to_owned(),
        }
    }
}

/// The figure as the dashboard shows it.
#[derive(Template)]
#[template(
    source = "{% import \"insights/figure.html\" as chart %}{% call chart::figure(f) %}{% endcall %}",
    ext = "html"
)]
struct TrendPartial {
    f: Figure,
}

/// Drawn trends by their numbers. A trend changes a few times a month
/// while its dashboard is read far more often, and many partners share
/// one (a new partner's is all zeros), so each is drawn once; the numbers
/// are read fresh on every request and are the key, so nothing here can
/// go stale. Cleared when it grows past [`CACHED_TRENDS`].
static DRAWN: OnceLock<Mutex<HashMap<Trend, Arc<str>>>> = OnceLock::new();
const CACHED_TRENDS: usize = 10_000;

impl Trend {
    /// The figure rendered as HTML (the chart, its legend, table and CSV
    /// link), drawn once per distinct trend.
    pub fn html(&self) -> Result<Arc<str>, askama::Error> {
        let drawn = DRAWN.get_or_init(Mutex::default);
        if let Some(html) = drawn.lock().unwrap_or_else(|e| e.into_inner()).get(self) {
            return Ok(html.clone());
        }
        let html: Arc<str> = TrendPartial { f: self.figure() }.render()?.into();
        let mut drawn = drawn.lock().unwrap_or_else(|e| e.into_inner());
        if drawn.len() >= CACHED_TRENDS {
            drawn.clear();
        }
        drawn.insert(self.clone(), html.clone());
        Ok(html)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trend_is_drawn_once_and_told_apart_by_its_numbers() {
        let now = Utc::now();
        let quiet = Trend::new(now, vec![0; 12], vec![0; 12]);
        let busy = Trend::new(now, vec![1; 12], vec![0; 12]);
        let first = quiet.html().unwrap();
        assert!(Arc::ptr_eq(&first, &quiet.html().unwrap()), "drawn once");
        assert!(first.contains("No deadline of yours was met or missed"));
        let other = busy.html().unwrap();
        assert!(other.contains("you met 12 deadlines and missed 0"));
        assert!(first.contains("role=\"img\""));
    }
}
