//! Approved partners by type and by DevSecOps stage, each bar split into
//! those approved before the period and those approved during it: what
//! the program is made of, and what grows.

use std::collections::HashMap;

use chrono::NaiveDate;
use sqlx::PgConnection;

use super::{
    applications::csv_href,
    chart::{Bars, Mark, Series, colour},
    figure::{Figure, Legend},
    numbers::thousands,
    period::{Period, month_name},
    table::{Cell, Table},
};
use crate::applications::form::{PARTNER_TYPES, STAGES};

/// Approved partners now, and how many of them were approved since the
/// start of the period, by type or by stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mix {
    pub now: i64,
    pub since: i64,
}

pub type Mixes = HashMap<(String, String), Mix>;

pub async fn load(
    conn: &mut PgConnection,
    period: Period,
    today: NaiveDate,
) -> Result<Mixes, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select dimension, value, sum(partners)::bigint as "now!",
                  coalesce(sum(partners) filter (where month >= $1), 0)::bigint as "since!"
             from insight_partner_mix
            group by dimension, value"#,
        period.start(today)
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                (r.dimension, r.value),
                Mix {
                    now: r.now,
                    since: r.since,
                },
            )
        })
        .collect())
}

/// Short names for the chart; the table has the full ones.
const TYPE_NAMES: [(&str, &str); 3] = [
    ("cloud", "Cloud"),
    ("platform", "Platform"),
    ("technology", "Technology (ISV)"),
];

pub fn types_figure(period: Period, today: NaiveDate, mixes: &Mixes) -> Figure {
    let rows: Vec<(&str, &str, Mix)> = PARTNER_TYPES
        .iter()
        .zip(TYPE_NAMES)
        .map(|((value, label), (_, short))| (*label, short, mix_of(mixes, "type", value)))
        .collect();
    figure(
        "partner-types",
        "Partners by type",
        "Type",
        "A partner counts under the type of its approved application.",
        period,
        today,
        &rows,
    )
}

pub fn stages_figure(period: Period, today: NaiveDate, mixes: &Mixes) -> Figure {
    let rows: Vec<(&str, &str, Mix)> = STAGES
        .iter()
        .map(|(value, label)| (*label, *label, mix_of(mixes, "stage", value)))
        .collect();
    figure(
        "partner-stages",
        "Partners by DevSecOps stage",
        "Stage",
        "A partner counts under every stage its integration touches, so the stages add up to more than the partners.",
        period,
        today,
        &rows,
    )
}

fn mix_of(mixes: &Mixes, dimension: &str, value: &str) -> Mix {
    mixes
        .get(&(dimension.to_owned(), value.to_owned()))
        .cloned()
        .unwrap_or_default()
}

fn figure(
    id: &'static str,
    title: &str,
    what: &str,
    note: &str,
    period: Period,
    today: NaiveDate,
    rows: &[(&str, &str, Mix)],
) -> Figure {
    let start = month_name(period.start(today));
    let series = vec![
        Series::counts(
            format!("Approved before {start}"),
            colour::PURPLE,
            Mark::Bar,
            &rows
                .iter()
                .map(|(_, _, m)| m.now - m.since)
                .collect::<Vec<_>>(),
        ),
        Series::counts(
            format!("Approved since {start}"),
            colour::ORANGE,
            Mark::Bar,
            &rows.iter().map(|(_, _, m)| m.since).collect::<Vec<_>>(),
        ),
    ];
    let parts: Vec<String> = rows
        .iter()
        .map(|(label, _, m)| format!("{label} {} ({} new)", thousands(m.now), thousands(m.since)))
        .collect();
    let summary = format!(
        "Approved partners now, with those approved in {}: {}.",
        period.words(today),
        parts.join("; ")
    );
    Figure {
        id,
        title: title.to_owned(),
        summary,
        note: note.to_owned(),
        kind: "bar chart",
        legend: Legend::of(&series),
        drawing: Bars {
            categories: rows
                .iter()
                .map(|(_, short, _)| (*short).to_owned())
                .collect(),
            x_label: "Approved partners".into(),
            series,
        }
        .draw(),
        table: Table {
            caption: title.to_owned(),
            head: vec![
                what.to_owned(),
                "Approved partners".to_owned(),
                format!("Approved since {start}"),
            ],
            rows: rows
                .iter()
                .map(|(label, _, m)| {
                    vec![Cell::text(*label), Cell::Count(m.now), Cell::Count(m.since)]
                })
                .collect(),
        },
        csv_href: csv_href(id, period),
    }
}
