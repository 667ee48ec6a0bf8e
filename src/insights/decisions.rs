//! How long staff took to decide on applications, month by month, against
//! the 5-business-day clock (PRODUCT.md §2): the median and the 90th
//! percentile, read from a histogram of business hours.

use chrono::NaiveDate;
use sqlx::PgConnection;

use super::{
    applications::{csv_href, month_ticks},
    chart::{Columns, Mark, Panel, Scale, Series, colour},
    figure::{Figure, Legend},
    numbers::{percent, share, thousands},
    period::{Period, month_name},
    table::{Cell, Table},
};

/// Staff decide within this many business days.
pub const TARGET_DAYS: i32 = 5;

/// How many decisions took how many business hours (rounded up).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    /// (business hours, decisions), by hours.
    buckets: Vec<(i32, i64)>,
}

impl Histogram {
    pub fn add(&mut self, hours: i32, decisions: i64) {
        match self.buckets.binary_search_by_key(&hours, |(h, _)| *h) {
            Ok(i) => self.buckets[i].1 += decisions,
            Err(i) => self.buckets.insert(i, (hours, decisions)),
        }
    }

    pub fn total(&self) -> i64 {
        self.buckets.iter().map(|(_, n)| n).sum()
    }

    /// The smallest time at least `fraction` of the decisions took no
    /// longer than (nearest rank), in business hours.
    pub fn percentile(&self, fraction: f64) -> Option<i32> {
        let total = self.total();
        if total <= 0 {
            return None;
        }
        let rank = ((fraction * total as f64).ceil() as i64).clamp(1, total);
        let mut seen = 0;
        for (hours, n) in &self.buckets {
            seen += n;
            if seen >= rank {
                return Some(*hours);
            }
        }
        self.buckets.last().map(|(h, _)| *h)
    }

    /// Decisions taken within `hours`.
    pub fn within(&self, hours: i32) -> i64 {
        self.buckets
            .iter()
            .filter(|(h, _)| *h <= hours)
            .map(|(_, n)| n)
            .sum()
    }
}

/// Business hours as business days (24 hours of weekday time each).
pub fn days(hours: Option<i32>) -> Option<f64> {
    hours.map(|h| f64::from(h) / 24.0)
}

pub async fn decisions(
    conn: &mut PgConnection,
    period: Period,
    today: NaiveDate,
) -> Result<Figure, sqlx::Error> {
    let months = period.month_starts(today);
    let rows = sqlx::query!(
        r#"select month, business_hours, decisions
             from insight_decision_hours
            where month >= $1 and month <= $2 and decisions > 0"#,
        months[0],
        today
    )
    .fetch_all(conn)
    .await?;
    let mut histograms = vec![Histogram::default(); months.len()];
    for r in rows {
        if let Some(i) = months.iter().position(|m| *m == r.month) {
            histograms[i].add(r.business_hours, r.decisions.into());
        }
    }
    Ok(decisions_figure(period, today, &months, &histograms))
}

pub fn decisions_figure(
    period: Period,
    today: NaiveDate,
    months: &[NaiveDate],
    histograms: &[Histogram],
) -> Figure {
    let target_hours = TARGET_DAYS * 24;
    let mut all = Histogram::default();
    for h in histograms {
        for (hours, n) in &h.buckets {
            all.add(*hours, *n);
        }
    }
    let median: Vec<Option<f64>> = histograms.iter().map(|h| days(h.percentile(0.5))).collect();
    let p90: Vec<Option<f64>> = histograms.iter().map(|h| days(h.percentile(0.9))).collect();
    let summary = if all.total() == 0 {
        format!("No decision was made in {}.", period.words(today))
    } else {
        format!(
            "{} decisions in {}: half took at most {:.1} business days, nine in ten at most {:.1}; {} were made within the {}-business-day target.",
            thousands(all.total()),
            period.words(today),
            days(all.percentile(0.5)).unwrap_or_default(),
            days(all.percentile(0.9)).unwrap_or_default(),
            percent(all.within(target_hours), all.total()),
            TARGET_DAYS,
        )
    };
    let mut panel = Panel::new(
        "Business days",
        vec![
            Series::new("Median", colour::BLUE, Mark::Line, median.clone()),
            Series::new(
                "90th percentile",
                colour::PURPLE,
                Mark::DashedLine,
                p90.clone(),
            ),
        ],
    );
    panel.scale = Scale::Days;
    panel.target = Some((f64::from(TARGET_DAYS), format!("{TARGET_DAYS}-day target")));
    let table = Table {
        caption: "Time to decision, month by month".into(),
        head: [
            "Month",
            "Decisions",
            "Median (business days)",
            "90th percentile (business days)",
            "Within 5 business days",
            "Share within 5 business days",
        ]
        .map(String::from)
        .to_vec(),
        rows: months
            .iter()
            .zip(histograms)
            .zip(median.iter().zip(&p90))
            .map(|((m, h), (med, p))| {
                vec![
                    Cell::text(month_name(*m)),
                    Cell::Count(h.total()),
                    Cell::Days(*med),
                    Cell::Days(*p),
                    Cell::Count(h.within(target_hours)),
                    Cell::Percent(share(h.within(target_hours), h.total())),
                ]
            })
            .collect(),
    };
    let legend = Legend::of(&panel.series);
    Figure {
        id: "decisions",
        title: "Time to decision, month by month".into(),
        summary,
        note: "From the submission to the decision that answered it (approval, rejection or a request for changes), in business days: Monday to Friday, UTC. A month without decisions has no point.".into(),
        kind: "line chart",
        legend,
        drawing: Columns {
            from_last: true,
            ticks: month_ticks(period, months),
            x_label: "Month of the decision".into(),
            panels: vec![panel],
        }
        .draw(),
        table,
        csv_href: csv_href("decisions", period),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(pairs: &[(i32, i64)]) -> Histogram {
        let mut h = Histogram::default();
        for (hours, n) in pairs {
            h.add(*hours, *n);
        }
        h
    }

    #[test]
    fn percentiles_are_read_by_nearest_rank() {
        // 10 decisions: 1h ×4, 24h ×3, 72h ×2, 200h ×1.
        let h = histogram(&[(24, 3), (1, 4), (200, 1), (72, 2)]);
        assert_eq!(h.total(), 10);
        assert_eq!(h.percentile(0.5), Some(24)); // the 5th
        assert_eq!(h.percentile(0.4), Some(1)); // the 4th
        assert_eq!(h.percentile(0.9), Some(72)); // the 9th
        assert_eq!(h.percentile(1.0), Some(200));
        assert_eq!(h.within(120), 9);
        assert_eq!(Histogram::default().percentile(0.5), None);
        assert_eq!(days(Some(36)), Some(1.5));
    }

    #[test]
    fn an_empty_month_has_no_median_and_says_so() {
        let months = Period::default().month_starts(NaiveDate::from_ymd_opt(2027, 3, 10).unwrap());
        let mut histograms = vec![Histogram::default(); 12];
        histograms[11] = histogram(&[(48, 2)]);
        let f = decisions_figure(
            Period::default(),
            NaiveDate::from_ymd_opt(2027, 3, 10).unwrap(),
            &months,
            &histograms,
        );
        assert_eq!(f.table.rows[0][2], Cell::Days(None));
        assert_eq!(f.table.rows[11][2], Cell::Days(Some(2.0)));
        assert!(
            f.summary.starts_with("2 decisions in the last 12 months"),
            "{}",
            f.summary
        );
        assert!(
            f.summary.contains("100\u{a0}% were made within"),
            "{}",
            f.summary
        );
    }
}
