//! NFR licenses over the next 90 days: how many stay active at the end of
//! each day, and how many expire that day, if none is renewed (PRODUCT.md
//! §5). Read from the active licenses counted by expiry day.

use chrono::{DateTime, Days, NaiveDate, Utc};
use sqlx::PgConnection;

use super::{
    applications::csv_href,
    chart::{Columns, Mark, Panel, Series, colour},
    figure::{Figure, Legend},
    numbers::thousands,
    period::{Period, day_name, day_tick},
    table::{Cell, Table},
};

pub const DAYS_AHEAD: u64 = 90;

/// Each of the next [`DAYS_AHEAD`] days from today: licenses expiring that
/// day, and active at its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outlook {
    pub days: Vec<NaiveDate>,
    pub active_now: i64,
    pub expiring: Vec<i64>,
    pub active_after: Vec<i64>,
}

impl Outlook {
    /// From active licenses counted by expiry day (today and later), less
    /// those of today that expired already.
    pub fn from_counts(today: NaiveDate, by_day: &[(NaiveDate, i64)], expired_today: i64) -> Self {
        let days: Vec<NaiveDate> = (0..DAYS_AHEAD).map(|d| today + Days::new(d)).collect();
        let on = |day: NaiveDate| -> i64 {
            by_day
                .iter()
                .filter(|(d, _)| *d == day)
                .map(|(_, n)| n)
                .sum()
        };
        let later = |day: NaiveDate| -> i64 {
            by_day
                .iter()
                .filter(|(d, _)| *d > day)
                .map(|(_, n)| n)
                .sum()
        };
        let expiring: Vec<i64> = days
            .iter()
            .map(|d| on(*d) - if *d == today { expired_today } else { 0 })
            .collect();
        Self {
            active_now: later(today) + expiring[0],
            active_after: days.iter().map(|d| later(*d)).collect(),
            expiring,
            days,
        }
    }
}

pub async fn outlook(
    conn: &mut PgConnection,
    period: Period,
    now: DateTime<Utc>,
) -> Result<Figure, sqlx::Error> {
    let today = now.date_naive();
    let midnight = today
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    let rows = sqlx::query!(
        r#"select day, licenses::bigint as "licenses!"
             from insight_license_expiry
            where day >= $1 and licenses <> 0"#,
        today
    )
    .fetch_all(&mut *conn)
    .await?;
    let expired_today = sqlx::query_scalar!(
        r#"select count(*) as "n!" from licenses
            where state = 'active' and expires_at >= $1 and expires_at <= $2"#,
        midnight,
        now
    )
    .fetch_one(&mut *conn)
    .await?;
    let by_day: Vec<(NaiveDate, i64)> = rows.into_iter().map(|r| (r.day, r.licenses)).collect();
    Ok(outlook_figure(
        period,
        &Outlook::from_counts(today, &by_day, expired_today),
    ))
}

pub fn outlook_figure(period: Period, o: &Outlook) -> Figure {
    let total: i64 = o.expiring.iter().sum();
    let last = o.days.len() - 1;
    let busiest = o
        .expiring
        .iter()
        .enumerate()
        .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))
        .filter(|(_, n)| **n > 0);
    let summary = match busiest {
        None => format!(
            "{} licenses are active now, and none expires in the next {DAYS_AHEAD} days.",
            thousands(o.active_now)
        ),
        Some((i, n)) => format!(
            "{} licenses are active now. {} expire in the next {DAYS_AHEAD} days, the most on {} ({}); without renewals, {} are still active at the end of {}.",
            thousands(o.active_now),
            thousands(total),
            day_name(o.days[i]),
            thousands(*n),
            thousands(o.active_after[last]),
            day_name(o.days[last]),
        ),
    };
    let mut active = Panel::new(
        "Active",
        vec![Series::counts(
            "Active at the end of the day",
            colour::PURPLE,
            Mark::Line,
            &o.active_after,
        )],
    );
    active.height = 150;
    let mut expiring = Panel::new(
        "Expiring",
        vec![Series::counts(
            "Expiring that day",
            colour::ORANGE,
            Mark::Bar,
            &o.expiring,
        )],
    );
    expiring.height = 150;
    let mut legend = Legend::of(&active.series);
    legend.extend(Legend::of(&expiring.series));
    Figure {
        id: "licenses",
        title: format!("Licenses in the next {DAYS_AHEAD} days"),
        summary,
        note: "Active NFR licenses as they stand, if none is renewed: the top panel counts those still active at the end of each day, the bottom one those expiring that day.".into(),
        kind: "line chart above a bar chart",
        legend,
        drawing: Columns {
            from_last: false,
            ticks: o.days.iter().map(|d| day_tick(*d)).collect(),
            x_label: "Day".into(),
            panels: vec![active, expiring],
        }
        .draw(),
        table: Table {
            caption: format!("Licenses in the next {DAYS_AHEAD} days"),
            head: ["Day", "Expiring that day", "Active at the end of the day"]
                .map(String::from)
                .to_vec(),
            rows: o
                .days
                .iter()
                .zip(o.expiring.iter().zip(&o.active_after))
                .map(|(d, (e, a))| vec![Cell::text(day_name(*d)), Cell::Count(*e), Cell::Count(*a)])
                .collect(),
        },
        csv_href: csv_href("licenses", period),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licenses_leave_the_active_count_on_their_expiry_day() {
        let today = NaiveDate::from_ymd_opt(2027, 3, 10).unwrap();
        let day = |n: u64| today + Days::new(n);
        // Two expire today (one of them already did), one tomorrow, three
        // in 89 days (the last day shown), four after the 90 days.
        let o = Outlook::from_counts(
            today,
            &[(day(0), 2), (day(1), 1), (day(89), 3), (day(200), 4)],
            1,
        );
        assert_eq!(o.days.len(), 90);
        assert_eq!(o.active_now, 9);
        assert_eq!(o.expiring[0], 1);
        assert_eq!(o.expiring[1], 1);
        assert_eq!(o.expiring[89], 3);
        assert_eq!(o.active_after[0], 8);
        assert_eq!(o.active_after[1], 7);
        assert_eq!(o.active_after[88], 7);
        assert_eq!(o.active_after[89], 4);
        let f = outlook_figure(Period::default(), &o);
        assert!(
            f.summary.starts_with("9 licenses are active now. 5 expire"),
            "{}",
            f.summary
        );
    }
}
