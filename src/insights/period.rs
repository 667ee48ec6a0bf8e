//! The period the insights cover: the current month and the months before
//! it (UTC calendar months), and the weeks and labels that go with it.

use chrono::{Datelike, Days, Months, NaiveDate};

/// The periods staff can choose, in months.
pub const CHOICES: [u32; 4] = [3, 6, 12, 24];
pub const DEFAULT_MONTHS: u32 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    months: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Choose one of the periods in the list: 3, 6, 12 or 24 months.")]
pub struct NotAPeriod;

impl Default for Period {
    fn default() -> Self {
        Self {
            months: DEFAULT_MONTHS,
        }
    }
}

impl Period {
    /// `?months=`: one of [`CHOICES`]; absent or empty is the default.
    pub fn parse(raw: Option<&str>) -> Result<Self, NotAPeriod> {
        match raw.map(str::trim) {
            None | Some("") => Ok(Self::default()),
            Some(s) => s
                .parse()
                .ok()
                .filter(|m| CHOICES.contains(m))
                .map(|months| Self { months })
                .ok_or(NotAPeriod),
        }
    }

    pub fn months(self) -> u32 {
        self.months
    }

    /// The first day of each month of the period, oldest first, the last
    /// one the month of `today`.
    pub fn month_starts(self, today: NaiveDate) -> Vec<NaiveDate> {
        let this_month = first_of_month(today);
        (0..self.months)
            .rev()
            .map(|back| this_month - Months::new(back))
            .collect()
    }

    /// The first day of the period.
    pub fn start(self, today: NaiveDate) -> NaiveDate {
        first_of_month(today) - Months::new(self.months - 1)
    }

    /// The Monday of each week from the one holding the period's first day
    /// to the one holding `today`.
    pub fn week_starts(self, today: NaiveDate) -> Vec<NaiveDate> {
        let last = monday_of(today);
        let mut week = monday_of(self.start(today));
        let mut weeks = Vec::new();
        while week <= last {
            weeks.push(week);
            week = week + Days::new(7);
        }
        weeks
    }

    /// "the last 12 months (December 2025 to November 2026)".
    pub fn words(self, today: NaiveDate) -> String {
        format!(
            "the last {} months ({} to {})",
            self.months,
            month_name(self.start(today)),
            month_name(today)
        )
    }
}

pub fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).expect("every month has a first day")
}

pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

/// "March 2026".
pub fn month_name(day: NaiveDate) -> String {
    day.format("%B %Y").to_string()
}

/// "Mar", or "Mar 26" where months of two years would read alike.
pub fn month_tick(day: NaiveDate, with_year: bool) -> String {
    if with_year {
        day.format("%b %y").to_string()
    } else {
        day.format("%b").to_string()
    }
}

/// "2 March 2026".
pub fn day_name(day: NaiveDate) -> String {
    day.format("%-d %B %Y").to_string()
}

/// "2 Mar".
pub fn day_tick(day: NaiveDate) -> String {
    day.format("%-d %b").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn only_the_listed_periods_are_read() {
        assert_eq!(Period::parse(None).unwrap().months(), 12);
        assert_eq!(Period::parse(Some("")).unwrap().months(), 12);
        assert_eq!(Period::parse(Some(" 6 ")).unwrap().months(), 6);
        assert_eq!(Period::parse(Some("24")).unwrap().months(), 24);
        for bad in ["0", "5", "-12", "twelve", "1e3", "120"] {
            assert_eq!(Period::parse(Some(bad)), Err(NotAPeriod), "{bad}");
        }
    }

    #[test]
    fn twelve_months_end_with_the_current_one() {
        let months = Period::default().month_starts(d(2027, 1, 31));
        assert_eq!(months.len(), 12);
        assert_eq!(months[0], d(2026, 2, 1));
        assert_eq!(months[11], d(2027, 1, 1));
        assert_eq!(Period::default().start(d(2027, 1, 31)), d(2026, 2, 1));
        // The last day of a leap February, and a 31st after a short month.
        let three = Period::parse(Some("3")).unwrap();
        assert_eq!(
            three.month_starts(d(2028, 2, 29)),
            vec![d(2027, 12, 1), d(2028, 1, 1), d(2028, 2, 1)]
        );
        assert_eq!(three.start(d(2027, 5, 31)), d(2027, 3, 1));
    }

    #[test]
    fn weeks_start_on_mondays_and_cover_the_period() {
        // 1 March 2027 is a Monday; 31 May 2027 too.
        let three = Period::parse(Some("3")).unwrap();
        let weeks = three.week_starts(d(2027, 5, 31));
        assert_eq!(weeks[0], d(2027, 3, 1));
        assert_eq!(*weeks.last().unwrap(), d(2027, 5, 31));
        assert_eq!(weeks.len(), 14);
        // A period starting mid-week (1 June 2027, a Tuesday) starts with that
        // week's Monday.
        let weeks = three.week_starts(d(2027, 8, 15));
        assert_eq!(weeks[0], d(2027, 5, 31));
        assert_eq!(*weeks.last().unwrap(), d(2027, 8, 9));
    }

    #[test]
    fn labels() {
        assert_eq!(month_name(d(2026, 3, 1)), "March 2026");
        assert_eq!(month_tick(d(2026, 3, 1), false), "Mar");
        assert_eq!(month_tick(d(2026, 3, 1), true), "Mar 26");
        assert_eq!(day_name(d(2026, 3, 2)), "2 March 2026");
        assert_eq!(day_tick(d(2026, 3, 2)), "2 Mar");
        assert_eq!(
            Period::default().words(d(2026, 11, 15)),
            "the last 12 months (December 2025 to November 2026)"
        );
    }
}
