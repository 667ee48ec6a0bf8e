//! Issues: partners' deadlines met and missed per month by severity, and
//! issues opened and closed per week (PRODUCT.md §6).
//!
//! A deadline counts as met in the month its issue was resolved before it,
//! and as missed in the month it passed without that: the partner
//! scorecard's rule, month by month. Both read the daily counts the
//! triggers keep; only today's deadlines still to come are looked up in
//! the issues themselves (an index range of one day).

use chrono::{DateTime, Days, NaiveDate, Utc};
use sqlx::PgConnection;

use super::{
    applications::{csv_href, month_ticks},
    chart::{Columns, Mark, Panel, Series, colour},
    figure::{Figure, Legend},
    numbers::{percent, thousands},
    period::{Period, day_name, day_tick},
    table::{Cell, Table},
};

/// Met and missed deadlines of one severity, per month of the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetMissed {
    pub met: Vec<i64>,
    pub missed: Vec<i64>,
}

pub async fn deadlines(
    conn: &mut PgConnection,
    period: Period,
    now: DateTime<Utc>,
) -> Result<Figure, sqlx::Error> {
    let today = now.date_naive();
    let months = period.month_starts(today);
    let tomorrow = (today + Days::new(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    let rows = sqlx::query!(
        r#"select date_trunc('month', day::timestamp)::date as "month!", severity,
                  sum(met)::bigint as "met!",
                  coalesce(sum(due_unmet) filter (where day < $2), 0)::bigint as "missed_before_today!",
                  coalesce(sum(due_unmet) filter (where day = $2), 0)::bigint as "due_today!"
             from insight_issue_days
            where day >= $1 and day <= $2 and severity between 1 and 4
            group by 1, 2"#,
        months[0],
        today
    )
    .fetch_all(&mut *conn)
    .await?;
    // Today's deadlines count as missed once their moment has passed.
    let to_come = sqlx::query!(
        r#"select severity as "severity!", count(*) as "n!"
             from issues
            where state = 'open' and partner_id is not null and deadline_at > $1 and deadline_at < $2
            group by severity"#,
        now,
        tomorrow
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut by_severity = vec![
        MetMissed {
            met: vec![0; months.len()],
            missed: vec![0; months.len()],
        };
        4
    ];
    for r in rows {
        let (Some(i), Some(s)) = (
            months.iter().position(|m| *m == r.month),
            usize::try_from(r.severity - 1).ok().filter(|s| *s < 4),
        ) else {
            continue;
        };
        by_severity[s].met[i] += r.met;
        by_severity[s].missed[i] += r.missed_before_today + r.due_today;
    }
    let current = months.len() - 1;
    for r in to_come {
        if let Some(s) = usize::try_from(r.severity - 1).ok().filter(|s| *s < 4) {
            by_severity[s].missed[current] -= r.n;
        }
    }
    Ok(deadlines_figure(period, today, &months, &by_severity))
}

pub fn deadlines_figure(
    period: Period,
    today: NaiveDate,
    months: &[NaiveDate],
    by_severity: &[MetMissed],
) -> Figure {
    let panels: Vec<Panel> = by_severity
        .iter()
        .enumerate()
        .map(|(s, counts)| {
            let mut panel = Panel::new(
                format!("S{}", s + 1),
                vec![
                    Series::counts("Met", colour::BLUE, Mark::Bar, &counts.met),
                    Series::counts("Missed", colour::ORANGE, Mark::Bar, &counts.missed),
                ],
            );
            panel.height = 110;
            panel
        })
        .collect();
    let met: i64 = by_severity.iter().flat_map(|c| &c.met).sum();
    let missed: i64 = by_severity.iter().flat_map(|c| &c.missed).sum();
    let summary = if met + missed == 0 {
        format!(
            "No partner deadline was met or missed in {}.",
            period.words(today)
        )
    } else {
        let each: Vec<String> = by_severity
            .iter()
            .enumerate()
            .map(|(s, c)| {
                let m: i64 = c.met.iter().sum();
                let x: i64 = c.missed.iter().sum();
                if m + x == 0 {
                    format!("S{} none", s + 1)
                } else {
                    format!("S{} {} met", s + 1, percent(m, m + x))
                }
            })
            .collect();
        format!(
            "In {}, partners met {} deadlines and missed {} ({} met). By severity: {}.",
            period.words(today),
            thousands(met),
            thousands(missed),
            percent(met, met + missed),
            each.join(", ")
        )
    };
    // One line per month and severity: four narrow columns fit a phone.
    let mut rows = Vec::new();
    for (i, m) in months.iter().enumerate() {
        for (s, c) in by_severity.iter().enumerate() {
            rows.push(vec![
                Cell::text(super::period::month_name(*m)),
                Cell::text(format!("S{}", s + 1)),
                Cell::Count(c.met[i]),
                Cell::Count(c.missed[i]),
            ]);
        }
    }
    Figure {
        id: "deadlines",
        title: "Deadlines met and missed, by severity".into(),
        summary,
        note: "One panel per severity. A deadline counts as met in the month its issue was resolved before it, and as missed in the month it passed without that. Reopening an issue takes back the deadline it had met.".into(),
        kind: "bar charts, one per severity",
        legend: Legend::of(&panels[0].series),
        drawing: Columns {
            from_last: true,
            ticks: month_ticks(period, months),
            x_label: "Month".into(),
            panels,
        }
        .draw(),
        table: Table {
            caption: "Deadlines met and missed, by severity".into(),
            head: ["Month", "Severity", "Met", "Missed"].map(String::from).to_vec(),
            rows,
        },
        csv_href: csv_href("deadlines", period),
    }
}

pub async fn flow(
    conn: &mut PgConnection,
    period: Period,
    today: NaiveDate,
) -> Result<Figure, sqlx::Error> {
    let weeks = period.week_starts(today);
    let rows = sqlx::query!(
        r#"select date_trunc('week', day::timestamp)::date as "week!",
                  sum(opened)::bigint as "opened!", sum(closed)::bigint as "closed!"
             from insight_issue_days
            where day >= $1 and day <= $2
            group by 1"#,
        weeks[0],
        today
    )
    .fetch_all(conn)
    .await?;
    let mut opened = vec![0; weeks.len()];
    let mut closed = vec![0; weeks.len()];
    for r in rows {
        if let Some(i) = weeks.iter().position(|w| *w == r.week) {
            opened[i] = r.opened;
            closed[i] = r.closed;
        }
    }
    Ok(flow_figure(period, &weeks, &opened, &closed))
}

pub fn flow_figure(period: Period, weeks: &[NaiveDate], opened: &[i64], closed: &[i64]) -> Figure {
    let series = vec![
        Series::counts("Opened", colour::PURPLE, Mark::Line, opened),
        Series::counts("Closed", colour::GREEN, Mark::DashedLine, closed),
    ];
    let total_opened: i64 = opened.iter().sum();
    let total_closed: i64 = closed.iter().sum();
    let busiest = opened
        .iter()
        .enumerate()
        .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))
        .filter(|(_, n)| **n > 0);
    let summary = match busiest {
        None if total_closed == 0 => format!(
            "No issue was opened or closed in the {} weeks from {}.",
            weeks.len(),
            day_name(weeks[0])
        ),
        _ => format!(
            "In the {} weeks from {} (the last one still running), {} issues were opened and {} closed{}.",
            weeks.len(),
            day_name(weeks[0]),
            thousands(total_opened),
            thousands(total_closed),
            busiest
                .map(|(i, n)| format!(
                    "; the most opened in one week was {} (week of {})",
                    thousands(*n),
                    day_name(weeks[i])
                ))
                .unwrap_or_default()
        ),
    };
    Figure {
        id: "issues",
        title: "Issues opened and closed, week by week".into(),
        summary,
        note: "Weeks start on Monday (UTC). Closed: issues closed now, in the week of their resolution; a reopened issue leaves the week it was closed in.".into(),
        kind: "line chart",
        legend: Legend::of(&series),
        drawing: Columns {
            from_last: true,
            ticks: weeks.iter().map(|w| day_tick(*w)).collect(),
            x_label: "Week starting".into(),
            panels: vec![Panel::new("Issues", series)],
        }
        .draw(),
        table: Table {
            caption: "Issues opened and closed, week by week".into(),
            head: ["Week starting", "Opened", "Closed"].map(String::from).to_vec(),
            rows: weeks
                .iter()
                .zip(opened.iter().zip(closed))
                .map(|(w, (o, c))| vec![Cell::text(day_name(*w)), Cell::Count(*o), Cell::Count(*c)])
                .collect(),
        },
        csv_href: csv_href("issues", period),
    }
}
