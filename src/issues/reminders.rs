//! Which deadline reminder is due for an issue, and when the next one will be.
//!
//! Reminders go at 50 % and 80 % of the window and 24 hours before the
//! deadline; the escalation goes when the deadline passes. Each is sent at most
//! once per issue, and an issue that arrives late gets only the latest that
//! applies, never a burst of stale ones.

use chrono::{DateTime, Duration, Utc};

use super::clock::four_fifths;

/// A reminder threshold, in the order they fall due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reminder {
    Half,
    FourFifths,
    DayBefore,
    Escalation,
}

impl Reminder {
    pub const ALL: [Reminder; 4] = [
        Reminder::Half,
        Reminder::FourFifths,
        Reminder::DayBefore,
        Reminder::Escalation,
    ];

    /// When this reminder falls due for a window from `start` to `deadline`.
    ///
    /// The 24-hours-before reminder never falls before the 80 % one, so in
    /// windows shorter than five days the two coincide and only the later
    /// one is sent.
    pub fn threshold(self, start: DateTime<Utc>, deadline: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::Half => start + (deadline - start) / 2,
            Self::FourFifths => four_fifths(start, deadline),
            Self::DayBefore => (deadline - Duration::hours(24)).max(four_fifths(start, deadline)),
            Self::Escalation => deadline,
        }
    }

    /// The stable name stored with "this reminder was sent".
    pub fn key(self) -> &'static str {
        match self {
            Self::Half => "half",
            Self::FourFifths => "four_fifths",
            Self::DayBefore => "day_before",
            Self::Escalation => "escalation",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }
}

/// The one reminder to send now, if any: the latest threshold that `now` has
/// reached and that comes after the last one sent.
pub fn due_reminder(
    start: DateTime<Utc>,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    last_sent: Option<Reminder>,
) -> Option<Reminder> {
    Reminder::ALL
        .into_iter()
        .rev()
        .find(|r| now >= r.threshold(start, deadline))
        .filter(|latest| last_sent.is_none_or(|sent| *latest > sent))
}

/// When the next reminder after `last_sent` falls due, so a scheduler can
/// look only at issues whose time has come. `None` once the escalation went.
pub fn next_threshold_at(
    start: DateTime<Utc>,
    deadline: DateTime<Utc>,
    last_sent: Option<Reminder>,
) -> Option<DateTime<Utc>> {
    Reminder::ALL
        .into_iter()
        .find(|r| last_sent.is_none_or(|sent| *r > sent))
        .map(|r| r.threshold(start, deadline))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issues::clock::deadline;
    use crate::issues::severity::{Severity, SlaTable};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
    }

    /// Start and deadline of an issue of `severity` that started `ago` before now.
    fn window(severity: Severity, ago: Duration) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = now() - ago;
        (start, deadline(start, severity, &SlaTable::default()))
    }

    #[test]
    fn s2_created_16_days_ago_gets_the_half_reminder_only() {
        let (start, due) = window(Severity::S2, Duration::days(16));
        assert_eq!(due_reminder(start, due, now(), None), Some(Reminder::Half));
    }

    #[test]
    fn s2_arriving_29_and_a_half_days_late_gets_one_reminder_not_a_burst() {
        let (start, due) = window(Severity::S2, Duration::hours(29 * 24 + 12));
        assert_eq!(
            due_reminder(start, due, now(), None),
            Some(Reminder::DayBefore)
        );
        // Once it is recorded, nothing else is due until the deadline passes.
        assert_eq!(
            due_reminder(start, due, now(), Some(Reminder::DayBefore)),
            None
        );
        assert_eq!(
            next_threshold_at(start, due, Some(Reminder::DayBefore)),
            Some(due)
        );
    }

    #[test]
    fn issue_arriving_after_its_deadline_gets_the_escalation_only() {
        let (start, due) = window(Severity::S1, Duration::days(9));
        assert_eq!(
            due_reminder(start, due, now(), None),
            Some(Reminder::Escalation)
        );
        assert_eq!(
            due_reminder(start, due, now(), Some(Reminder::Escalation)),
            None
        );
        assert_eq!(
            next_threshold_at(start, due, Some(Reminder::Escalation)),
            None
        );
    }

    #[test]
    fn no_reminder_is_sent_twice() {
        let (start, due) = window(Severity::S2, Duration::days(16));
        assert_eq!(due_reminder(start, due, now(), Some(Reminder::Half)), None);
    }

    #[test]
    fn each_threshold_falls_due_exactly_at_its_time() {
        // S2: 30 days. Half at day 15, 80 % at day 24, day before at day 29.
        let start = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let due = deadline(start, Severity::S2, &SlaTable::default());
        let second = Duration::seconds(1);
        for (reminder, at, before) in [
            (Reminder::Half, start + Duration::days(15), None),
            (
                Reminder::FourFifths,
                start + Duration::days(24),
                Some(Reminder::Half),
            ),
            (
                Reminder::DayBefore,
                start + Duration::days(29),
                Some(Reminder::FourFifths),
            ),
            (Reminder::Escalation, due, Some(Reminder::DayBefore)),
        ] {
            assert_eq!(reminder.threshold(start, due), at, "{reminder:?}");
            assert_eq!(
                due_reminder(start, due, at - second, before),
                None,
                "{reminder:?} a second early"
            );
            assert_eq!(
                due_reminder(start, due, at, before),
                Some(reminder),
                "{reminder:?} on time"
            );
            assert_eq!(next_threshold_at(start, due, before), Some(at));
        }
    }

    #[test]
    fn nothing_is_due_in_the_first_half() {
        let (start, due) = window(Severity::S4, Duration::days(29));
        assert_eq!(due_reminder(start, due, now(), None), None);
        assert_eq!(
            next_threshold_at(start, due, None),
            Some(start + Duration::days(30))
        );
    }

    #[test]
    fn downgrade_moves_the_next_reminder_to_the_new_window() {
        // S1 for 4 days (the half reminder went at 3.5 days), then S4.
        let start = now() - Duration::days(4);
        let table = SlaTable::default();
        let s1 = deadline(start, Severity::S1, &table);
        assert_eq!(due_reminder(start, s1, now(), None), Some(Reminder::Half));
        let s4 = deadline(start, Severity::S4, &table);
        assert_eq!(due_reminder(start, s4, now(), Some(Reminder::Half)), None);
        assert_eq!(
            next_threshold_at(start, s4, Some(Reminder::Half)),
            Some(start + Duration::hours(48 * 24))
        );
    }

    #[test]
    fn in_short_windows_the_day_before_reminder_waits_for_80_percent() {
        let start = now();
        let due = start + Duration::days(2);
        let fourth_fifth = start + Duration::minutes(2 * 24 * 60 * 4 / 5);
        assert_eq!(Reminder::DayBefore.threshold(start, due), fourth_fifth);
        assert_eq!(
            due_reminder(start, due, start + Duration::hours(25), None),
            Some(Reminder::Half)
        );
        assert_eq!(
            due_reminder(start, due, fourth_fifth, Some(Reminder::Half)),
            Some(Reminder::DayBefore)
        );
    }

    #[test]
    fn keys_round_trip() {
        for reminder in Reminder::ALL {
            assert_eq!(Reminder::from_key(reminder.key()), Some(reminder));
        }
        assert_eq!(Reminder::from_key("weekly"), None);
    }
}
