//! How every page shows time: dates people read ("12 March 2027"), how far
//! away they are ("in 47 days"), and business days for staff clocks. Instants
//! are stored and shown in UTC; `now` is always a parameter.

use chrono::{DateTime, Datelike, SecondsFormat, TimeDelta, Timelike, Utc};

/// "12 March 2027". Written out rather than through chrono's `format`,
/// which parses its pattern on every call: a thread of 200 comments shows
/// hundreds of dates, and the parsing was 6 % of that page's CPU.
pub fn long_date(dt: DateTime<Utc>) -> String {
    format!(
        "{} {} {}",
        dt.day(),
        MONTHS[dt.month0() as usize],
        dt.year()
    )
}

/// "12 March 2027, 14:05 UTC".
pub fn date_time(dt: DateTime<Utc>) -> String {
    format!(
        "{} {} {}, {:02}:{:02} UTC",
        dt.day(),
        MONTHS[dt.month0() as usize],
        dt.year(),
        dt.hour(),
        dt.minute()
    )
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// RFC 3339 in UTC, for `<time datetime="…">`: "2027-03-12T14:05:00Z".
pub fn iso(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// How far `dt` is from `now`, in words. Under a day away it counts minutes
/// or hours ("in 5 hours", "just now"); beyond that it counts calendar days
/// ("tomorrow", "3 days ago"), then months from 60 days ("in 2 months"), then
/// years from two years ("in 3 years"). Days and months are approximate by
/// design: the exact date belongs beside it.
pub fn relative(now: DateTime<Utc>, dt: DateTime<Utc>) -> String {
    let delta = dt - now;
    let future = delta > TimeDelta::zero();
    let abs = delta.abs();
    if abs < TimeDelta::minutes(1) {
        return "just now".to_owned();
    }
    if abs < TimeDelta::hours(1) {
        return phrase(abs.num_minutes(), "minute", future);
    }
    if abs < TimeDelta::days(1) {
        return phrase(abs.num_hours(), "hour", future);
    }
    // A day or more apart, so the calendar dates differ by at least one.
    let days = (dt.date_naive() - now.date_naive()).num_days().abs();
    if days <= 1 {
        if future { "tomorrow" } else { "yesterday" }.to_owned()
    } else if days < 60 {
        phrase(days, "day", future)
    } else if days < 730 {
        phrase(days / 30, "month", future)
    } else {
        phrase(days / 365, "year", future)
    }
}

fn phrase(n: i64, unit: &str, future: bool) -> String {
    let s = if n == 1 { "" } else { "s" };
    if future {
        format!("in {n} {unit}{s}")
    } else {
        format!("{n} {unit}{s} ago")
    }
}

/// "expires 12 March 2027, in 47 days" or "expired 3 January 2027, 12 days
/// ago".
pub fn expires_phrase(now: DateTime<Utc>, expires_at: DateTime<Utc>) -> String {
    let verb = if expires_at > now {
        "expires"
    } else {
        "expired"
    };
    format!(
        "{verb} {}, {}",
        long_date(expires_at),
        relative(now, expires_at)
    )
}

/// A moment ready for a template:
/// `<time datetime="{{ w.iso }}" title="{{ w.exact }}">{{ w.relative }}</time>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    pub iso: String,
    pub exact: String,
    pub relative: String,
}

impl When {
    pub fn new(now: DateTime<Utc>, dt: DateTime<Utc>) -> Self {
        Self {
            iso: iso(dt),
            exact: date_time(dt),
            relative: relative(now, dt),
        }
    }
}

const DAY_US: i64 = 86_400_000_000;
/// Monday 5 January 1970, 00:00 UTC, in microseconds since the epoch.
const A_MONDAY_US: i64 = 4 * DAY_US;

/// Weekday time (Monday to Friday, UTC) from a fixed Monday to `t`, in
/// microseconds; it stands still over weekends.
fn business_us(t: DateTime<Utc>) -> i64 {
    let since = t.timestamp_micros() - A_MONDAY_US;
    let weeks = since.div_euclid(7 * DAY_US);
    let into_week = since.rem_euclid(7 * DAY_US);
    weeks * 5 * DAY_US + into_week.min(5 * DAY_US)
}

/// The moment `n` whole business days (Monday to Friday, UTC) of time have
/// passed since `start`. Weekends do not count: Friday 10:00 plus one is
/// Monday 10:00, and a clock started on Saturday starts on Monday 00:00, so
/// Saturday plus one is Tuesday 00:00. A deadline ending with a Friday ends
/// at Saturday 00:00.
pub fn add_business_days(start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
    if n == 0 {
        return start;
    }
    let target = business_us(start) + i64::from(n) * DAY_US;
    let weeks = target.div_euclid(5 * DAY_US);
    let into_week = target.rem_euclid(5 * DAY_US);
    // The earliest moment with that much weekday time behind it.
    let since = if into_week == 0 {
        (weeks - 1) * 7 * DAY_US + 5 * DAY_US
    } else {
        weeks * 7 * DAY_US + into_week
    };
    DateTime::from_timestamp_micros(A_MONDAY_US + since).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whole business days of time from `a` to `b` (negative when `b` is
/// earlier); the inverse of [`add_business_days`].
pub fn business_days_between(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    (business_us(b) - business_us(a)) / DAY_US
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, NaiveTime, TimeZone, Weekday};

    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn dates_read_as_people_write_them() {
        assert_eq!(long_date(at(2027, 3, 12, 14, 5)), "12 March 2027");
        assert_eq!(long_date(at(2027, 1, 3, 0, 0)), "3 January 2027");
        assert_eq!(
            date_time(at(2027, 3, 12, 14, 5)),
            "12 March 2027, 14:05 UTC"
        );
        assert_eq!(
            date_time(at(2027, 2, 1, 9, 7)),
            "1 February 2027, 09:07 UTC"
        );
        assert_eq!(
            date_time(at(2026, 12, 31, 23, 59)),
            "31 December 2026, 23:59 UTC"
        );
        // Every month by its name, as chrono's %B writes it.
        for m in 1..=12 {
            let day = at(2027, m, 28, 0, 0);
            assert_eq!(long_date(day), day.format("%-d %B %Y").to_string());
        }
    }

    #[test]
    fn iso_is_rfc3339_in_utc() {
        assert_eq!(iso(at(2027, 3, 12, 14, 5)), "2027-03-12T14:05:00Z");
    }

    #[test]
    fn relative_phrases() {
        let now = at(2027, 1, 24, 14, 0);
        let s = TimeDelta::seconds;
        let m = TimeDelta::minutes;
        let h = TimeDelta::hours;
        let d = TimeDelta::days;
        for (offset, expected) in [
            (s(0), "just now"),
            (s(59), "just now"),
            (s(-59), "just now"),
            (m(1), "in 1 minute"),
            (m(-45), "45 minutes ago"),
            (h(1), "in 1 hour"),
            (h(-1), "1 hour ago"),
            (h(5), "in 5 hours"),
            (h(24) - s(1), "in 23 hours"),
            (h(24), "tomorrow"),
            (h(-24), "yesterday"),
            (h(34), "in 2 days"),
            (h(-38), "yesterday"),
            (h(-39), "2 days ago"),
            (d(12), "in 12 days"),
            (d(-3), "3 days ago"),
            (d(59), "in 59 days"),
            (d(60), "in 2 months"),
            (d(-90), "3 months ago"),
            (d(365), "in 12 months"),
            (d(729), "in 24 months"),
            (d(730), "in 2 years"),
            (d(-800), "2 years ago"),
        ] {
            assert_eq!(relative(now, now + offset), expected, "{offset:?}");
        }
    }

    #[test]
    fn relative_days_count_calendar_days_not_periods_of_24_hours() {
        // 22:00 to 10:00 two days later is 36 hours, but the day after tomorrow.
        assert_eq!(
            relative(at(2027, 1, 24, 22, 0), at(2027, 1, 26, 10, 0)),
            "in 2 days"
        );
        assert_eq!(
            relative(at(2027, 1, 24, 1, 0), at(2027, 1, 25, 23, 0)),
            "tomorrow"
        );
    }

    #[test]
    fn expiry_phrases() {
        let expiry = at(2027, 3, 12, 12, 0);
        assert_eq!(
            expires_phrase(at(2027, 1, 24, 12, 0), expiry),
            "expires 12 March 2027, in 47 days"
        );
        assert_eq!(
            expires_phrase(at(2027, 1, 15, 9, 0), at(2027, 1, 3, 12, 0)),
            "expired 3 January 2027, 12 days ago"
        );
        assert_eq!(
            expires_phrase(expiry, expiry),
            "expired 12 March 2027, just now"
        );
    }

    #[test]
    fn when_carries_all_three_forms() {
        let w = When::new(at(2027, 3, 12, 9, 5), at(2027, 3, 12, 14, 5));
        assert_eq!(
            w,
            When {
                iso: "2027-03-12T14:05:00Z".to_owned(),
                exact: "12 March 2027, 14:05 UTC".to_owned(),
                relative: "in 5 hours".to_owned(),
            }
        );
    }

    // 8 March 2027 is a Monday.
    #[test]
    fn adding_business_days_skips_weekends() {
        for (start, n, expected) in [
            (at(2027, 3, 10, 10, 0), 2, at(2027, 3, 12, 10, 0)), // Wed to Fri
            (at(2027, 3, 12, 10, 0), 1, at(2027, 3, 15, 10, 0)), // Fri to Mon
            (at(2027, 3, 8, 10, 0), 5, at(2027, 3, 15, 10, 0)),  // a full week
            (at(2027, 3, 12, 10, 0), 10, at(2027, 3, 26, 10, 0)), // two weeks
            (at(2027, 3, 11, 0, 0), 2, at(2027, 3, 13, 0, 0)),   // ends with Friday
            (at(2027, 3, 13, 10, 0), 1, at(2027, 3, 16, 0, 0)),  // Sat: starts Mon
            (at(2027, 3, 14, 23, 0), 1, at(2027, 3, 16, 0, 0)),  // Sun: starts Mon
            (at(2027, 3, 14, 23, 0), 0, at(2027, 3, 14, 23, 0)), // nothing to add
        ] {
            assert_eq!(add_business_days(start, n), expected, "{start} + {n}");
        }
    }

    #[test]
    fn counting_business_days_between() {
        let friday = at(2027, 3, 12, 10, 0);
        for (b, expected) in [
            (at(2027, 3, 15, 9, 59), 0),
            (at(2027, 3, 15, 10, 0), 1),
            (at(2027, 3, 19, 10, 0), 5),
            (at(2027, 3, 11, 10, 0), -1),
            (at(2027, 3, 11, 10, 1), 0),
        ] {
            assert_eq!(business_days_between(friday, b), expected, "to {b}");
        }
        assert_eq!(
            business_days_between(at(2027, 3, 13, 0, 0), at(2027, 3, 14, 23, 0)),
            0
        );
    }

    #[test]
    fn adding_then_counting_gives_back_n_at_the_earliest_moment() {
        let first = at(2027, 3, 5, 0, 30);
        for hour in 0..(14 * 24) {
            let start = first + TimeDelta::hours(hour);
            for n in 0..=12 {
                let due = add_business_days(start, n);
                assert_eq!(business_days_between(start, due), i64::from(n));
                if n > 0 {
                    let just_before = due - TimeDelta::microseconds(1);
                    assert_eq!(business_days_between(start, just_before), i64::from(n) - 1);
                    let weekend = matches!(due.weekday(), Weekday::Sat | Weekday::Sun);
                    let end_of_friday =
                        due.weekday() == Weekday::Sat && due.time() == NaiveTime::MIN;
                    assert!(!weekend || end_of_friday, "{start} + {n} = {due}");
                }
            }
        }
    }
}
