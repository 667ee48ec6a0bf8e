//! An iCalendar (RFC 5545) feed a partner can subscribe to: issue deadlines and
//! license expiries as events.
//!
//! Only what a published, read-only feed needs: one `VCALENDAR` of `VEVENT`s,
//! CRLF line endings, lines folded at 75 octets without splitting a character,
//! and TEXT values escaped.

use chrono::{DateTime, Duration, Utc};

/// The maximum length of one physical line, in octets, without its CRLF.
const MAX_LINE_OCTETS: usize = 75;

/// One event in the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Globally unique and stable across fetches, so calendars update the
    /// event instead of adding a copy (e.g. `issue-42@portal.example.com`).
    pub uid: String,
    pub summary: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub at: DateTime<Utc>,
    /// A whole-day event on `at`'s UTC date (a license expiry) rather than an
    /// instant (an issue deadline).
    pub all_day: bool,
}

/// The feed as the text of a `text/calendar` response. `now` stamps every
/// event (`DTSTAMP`).
pub fn to_ics(calendar_name: &str, events: &[CalendarEvent], now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let mut line = |content: &str| push_folded(&mut out, content);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Partner Portal//Partner Portal//EN");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("X-WR-CALNAME:{}", escape_text(calendar_name)));
    line(&format!("NAME:{}", escape_text(calendar_name)));
    line("REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    line("X-PUBLISHED-TTL:PT1H");
    let stamp = utc_date_time(now);
    for event in events {
        line("BEGIN:VEVENT");
        line(&format!("UID:{}", escape_text(&event.uid)));
        line(&format!("DTSTAMP:{stamp}"));
        if event.all_day {
            let day = event.at.date_naive();
            line(&format!("DTSTART;VALUE=DATE:{}", day.format("%Y%m%d")));
            let next = day + Duration::days(1);
            line(&format!("DTEND;VALUE=DATE:{}", next.format("%Y%m%d")));
        } else {
            line(&format!("DTSTART:{}", utc_date_time(event.at)));
        }
        line(&format!("SUMMARY:{}", escape_text(&event.summary)));
        if let Some(description) = &event.description {
            line(&format!("DESCRIPTION:{}", escape_text(description)));
        }
        if let Some(url) = &event.url {
            line(&format!("URL:{}", strip_controls(url)));
        }
        line("TRANSP:TRANSPARENT");
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

/// The UTC "form #2" date-time: `20261108T101500Z`.
fn utc_date_time(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and
/// line breaks; other control characters are not allowed and are dropped.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn strip_controls(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// Appends one content line, folded so no physical line is longer than 75
/// octets: a continuation line starts with one space, which counts.
fn push_folded(out: &mut String, content: &str) {
    let mut used = 0;
    for c in content.chars() {
        let width = c.len_utf8();
        if used + width > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += width;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use icalendar::parser::{read_calendar, unfold};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 8, 30, 0).unwrap()
    }

    fn deadline_event() -> CalendarEvent {
        CalendarEvent {
            uid: "issue-42@portal.example.com".to_owned(),
            summary: "Deadline: #17 Runner registration fails behind an HTTP proxy".to_owned(),
            description: Some("Severity 2; due in 30 days.\nOpen the issue, then reply".to_owned()),
            url: Some("https://portal.example.com/issues/42".to_owned()),
            at: Utc.with_ymd_and_hms(2026, 12, 8, 10, 15, 0).unwrap(),
            all_day: false,
        }
    }

    fn expiry_event() -> CalendarEvent {
        CalendarEvent {
            uid: "license-7@portal.example.com".to_owned(),
            summary: "License expires: Self-managed, 25 users".to_owned(),
            description: None,
            url: None,
            at: Utc.with_ymd_and_hms(2027, 3, 31, 0, 0, 0).unwrap(),
            all_day: true,
        }
    }

    #[test]
    fn text_values_are_escaped() {
        for (input, expected) in [
            ("plain", "plain"),
            ("a;b,c", "a\\;b\\,c"),
            ("back\\slash", "back\\\\slash"),
            ("two\nlines", "two\\nlines"),
            ("windows\r\nbreak", "windows\\nbreak"),
            ("old\rmac", "old\\nmac"),
            ("bell\u{7}gone", "bellgone"),
            ("tab\tkept", "tab\tkept"),
            ("Zoë: ünïcode", "Zoë: ünïcode"),
        ] {
            assert_eq!(escape_text(input), expected, "{input:?}");
        }
    }

    #[test]
    fn long_lines_fold_at_75_octets() {
        let mut out = String::new();
        let content = format!("SUMMARY:{}", "x".repeat(200));
        push_folded(&mut out, &content);
        let lines: Vec<&str> = out.split_terminator("\r\n").collect();
        assert_eq!(lines[0].len(), 75);
        assert!(
            lines[1..]
                .iter()
                .all(|l| l.starts_with(' ') && l.len() <= 75)
        );
        assert_eq!(lines.len(), 3);
        assert_eq!(unfold(&out), format!("{content}\r\n"));
    }

    #[test]
    fn folding_never_splits_a_character() {
        // "é" is two octets and "🦀" four: put them across the 75-octet edge.
        for prefix in 60..75 {
            let content = format!("{}{}", "a".repeat(prefix), "é🦀".repeat(20));
            let mut out = String::new();
            push_folded(&mut out, &content);
            for line in out.split_terminator("\r\n") {
                assert!(line.len() <= 75, "line of {} octets", line.len());
            }
            assert_eq!(unfold(&out), format!("{content}\r\n"));
        }
    }

    #[test]
    fn every_line_ends_in_crlf() {
        let ics = to_ics("Acme", &[deadline_event(), expiry_event()], now());
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'));
        assert!(!ics.replace("\r\n", "").contains('\r'));
    }

    #[test]
    fn the_feed_carries_header_and_times_in_utc_and_date_form() {
        let ics = unfold(&to_ics(
            "Acme, Inc.",
            &[deadline_event(), expiry_event()],
            now(),
        ));
        for expected in [
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Partner Portal//Partner Portal//EN\r\n",
            "X-WR-CALNAME:Acme\\, Inc.\r\n",
            "DTSTAMP:20261120T083000Z\r\n",
            "DTSTART:20261208T101500Z\r\n",
            "DTSTART;VALUE=DATE:20270331\r\nDTEND;VALUE=DATE:20270401\r\n",
            "DESCRIPTION:Severity 2\\; due in 30 days.\\nOpen the issue\\, then reply\r\n",
        ] {
            assert!(ics.contains(expected), "missing {expected:?} in\n{ics}");
        }
    }

    #[test]
    fn the_feed_parses_with_an_independent_reader() {
        let mut long = deadline_event();
        long.summary = format!("Deadline: {}", "Zoë’s integration, part; ".repeat(8));
        let ics = to_ics(
            "Acme partner deadlines",
            &[long.clone(), expiry_event()],
            now(),
        );
        let unfolded = unfold(&ics);
        let calendar = read_calendar(&unfolded).expect("the feed parses");

        let name = calendar
            .properties
            .iter()
            .find(|p| p.name == "X-WR-CALNAME")
            .expect("calendar name");
        assert_eq!(name.val.as_str(), "Acme partner deadlines");
        assert_eq!(calendar.components.len(), 2);

        let first = &calendar.components[0];
        assert_eq!(first.name, "VEVENT");
        let text = |component: &icalendar::parser::Component<'_>, key: &str| {
            component
                .find_prop(key)
                .map(|p| p.val.clone().unescape_text().as_str().to_owned())
        };
        assert_eq!(text(first, "SUMMARY"), Some(long.summary.clone()));
        assert_eq!(text(first, "DESCRIPTION"), long.description.clone());
        assert_eq!(
            text(first, "UID").as_deref(),
            Some("issue-42@portal.example.com")
        );
        assert_eq!(
            text(first, "URL").as_deref(),
            Some("https://portal.example.com/issues/42")
        );

        let second = &calendar.components[1];
        let start = second.find_prop("DTSTART").expect("DTSTART");
        assert_eq!(start.val.as_str(), "20270331");
        assert!(
            start
                .params
                .iter()
                .any(|p| p.key == "VALUE" && p.val.as_ref().is_some_and(|v| v == &"DATE"))
        );
        assert_eq!(second.find_prop("DESCRIPTION"), None);
    }

    #[test]
    fn the_typed_reader_sees_the_events_and_their_times() {
        use icalendar::{Component, DatePerhapsTime};
        let ics = to_ics("Acme", &[deadline_event(), expiry_event()], now());
        let calendar: icalendar::Calendar = ics.parse().expect("the feed parses");
        let events: Vec<_> = calendar
            .components
            .iter()
            .filter_map(|c| c.as_event())
            .collect();
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[0].get_summary(),
            Some("Deadline: #17 Runner registration fails behind an HTTP proxy")
        );
        assert_eq!(
            events[0].get_start(),
            Some(DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(
                deadline_event().at
            )))
        );
        assert_eq!(
            events[1].get_start(),
            Some(DatePerhapsTime::Date(
                chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap()
            ))
        );
    }

    #[test]
    fn an_empty_feed_is_still_a_calendar() {
        let ics = to_ics("Acme", &[], now());
        let unfolded = unfold(&ics);
        let calendar = read_calendar(&unfolded).expect("the feed parses");
        assert!(calendar.components.is_empty());
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"));
    }
}
