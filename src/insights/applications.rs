//! Applications month by month: the funnel (started, submitted, approved,
//! rejected), PRODUCT.md §2.

use chrono::NaiveDate;
use sqlx::PgConnection;

use super::{
    chart::{Columns, Mark, Panel, Series, colour},
    figure::{Figure, Legend},
    numbers::thousands,
    period::{Period, month_name, month_tick},
    table::{Cell, Table},
};

/// Started, submitted, approved and rejected, per month of the period.
pub async fn funnel(
    conn: &mut PgConnection,
    period: Period,
    today: NaiveDate,
) -> Result<Figure, sqlx::Error> {
    let months = period.month_starts(today);
    let rows = sqlx::query!(
        r#"select month, started, submitted, approved, rejected
             from insight_application_months
            where month >= $1 and month <= $2"#,
        months[0],
        today
    )
    .fetch_all(conn)
    .await?;
    let mut counts = vec![[0i64; 4]; months.len()];
    for r in rows {
        if let Some(i) = months.iter().position(|m| *m == r.month) {
            counts[i] = [
                r.started.into(),
                r.submitted.into(),
                r.approved.into(),
                r.rejected.into(),
            ];
        }
    }
    Ok(funnel_figure(period, today, &months, &counts))
}

const FUNNEL: [(&str, plotters::style::RGBColor); 4] = [
    ("Started", colour::PURPLE),
    ("Submitted", colour::BLUE),
    ("Approved", colour::GREEN),
    ("Rejected", colour::ORANGE),
];

pub fn funnel_figure(
    period: Period,
    today: NaiveDate,
    months: &[NaiveDate],
    counts: &[[i64; 4]],
) -> Figure {
    let series: Vec<Series> = FUNNEL
        .iter()
        .enumerate()
        .map(|(k, (name, c))| {
            Series::counts(
                *name,
                *c,
                Mark::Bar,
                &counts.iter().map(|m| m[k]).collect::<Vec<_>>(),
            )
        })
        .collect();
    let totals: Vec<i64> = (0..4).map(|k| counts.iter().map(|m| m[k]).sum()).collect();
    let summary = if totals.iter().all(|t| *t == 0) {
        format!(
            "No application was started, submitted or decided in {}.",
            period.words(today)
        )
    } else {
        format!(
            "In {}, {} applications were started, {} submitted for the first time, {} approved and {} rejected.",
            period.words(today),
            thousands(totals[0]),
            thousands(totals[1]),
            thousands(totals[2]),
            thousands(totals[3]),
        )
    };
    let table = Table {
        caption: "Applications, month by month".into(),
        head: ["Month", "Started", "Submitted", "Approved", "Rejected"]
            .map(String::from)
            .to_vec(),
        rows: months
            .iter()
            .zip(counts)
            .map(|(m, c)| {
                let mut row = vec![Cell::text(month_name(*m))];
                row.extend(c.iter().map(|n| Cell::Count(*n)));
                row
            })
            .collect(),
    };
    Figure {
        id: "applications",
        title: "Applications, month by month".into(),
        summary,
        note: "Started: applications created. Submitted: applications sent for review for the first time. Approved and rejected: decisions made that month.".into(),
        kind: "bar chart",
        legend: Legend::of(&series),
        drawing: Columns {
            from_last: true,
            ticks: month_ticks(period, months),
            x_label: "Month".into(),
            panels: vec![Panel::new("Applications", series)],
        }
        .draw(),
        table,
        csv_href: csv_href("applications", period),
    }
}

pub fn month_ticks(period: Period, months: &[NaiveDate]) -> Vec<String> {
    months
        .iter()
        .map(|m| month_tick(*m, period.months() > 12))
        .collect()
}

pub fn csv_href(id: &str, period: Period) -> String {
    format!("/admin/insights/{id}.csv?months={}", period.months())
}
