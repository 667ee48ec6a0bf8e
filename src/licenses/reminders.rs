//! Expiry reminders: 30 days and 7 days before a license expires, and on
//! expiry; each sent at most once per term, and only the latest one due when
//! several fell due while nobody was sending.

use chrono::{DateTime, TimeDelta, Utc};

/// In the order they fall due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExpiryReminder {
    ThirtyDays,
    SevenDays,
    Expired,
}

impl ExpiryReminder {
    pub const ALL: [ExpiryReminder; 3] = [
        ExpiryReminder::ThirtyDays,
        ExpiryReminder::SevenDays,
        ExpiryReminder::Expired,
    ];

    pub fn due_at(self, expires_at: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            ExpiryReminder::ThirtyDays => expires_at - TimeDelta::days(30),
            ExpiryReminder::SevenDays => expires_at - TimeDelta::days(7),
            ExpiryReminder::Expired => expires_at,
        }
    }

    /// The stored name, e.g. part of the "sent once" key.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryReminder::ThirtyDays => "thirty_days",
            ExpiryReminder::SevenDays => "seven_days",
            ExpiryReminder::Expired => "expired",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == stored)
    }
}

/// The reminder to send now for a term ending at `expires_at`, given the last
/// one already sent for that same term: the latest one due, if it comes after
/// `last_sent`. A portal that was down across several due dates sends only
/// the latest, so a license that expired meanwhile gets its expiry notice
/// and not stale countdowns.
pub fn due_expiry_reminder(
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
    last_sent: Option<ExpiryReminder>,
) -> Option<ExpiryReminder> {
    let latest = ExpiryReminder::ALL
        .into_iter()
        .rev()
        .find(|r| r.due_at(expires_at) <= now)?;
    match last_sent {
        Some(sent) if sent >= latest => None,
        _ => Some(latest),
    }
}

/// When the next reminder of a term ending at `expires_at` falls due, after
/// `last_sent` (or from the start of the term); `None` once the expiry
/// notice is sent.
pub fn next_reminder_at(
    expires_at: DateTime<Utc>,
    last_sent: Option<ExpiryReminder>,
) -> Option<DateTime<Utc>> {
    ExpiryReminder::ALL
        .into_iter()
        .find(|r| last_sent.is_none_or(|sent| *r > sent))
        .map(|r| r.due_at(expires_at))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use ExpiryReminder::*;

    fn expiry() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 12, 9, 30, 0).unwrap()
    }

    #[test]
    fn due_dates() {
        let e = expiry();
        assert_eq!(
            ThirtyDays.due_at(e),
            Utc.with_ymd_and_hms(2027, 2, 10, 9, 30, 0).unwrap()
        );
        assert_eq!(
            SevenDays.due_at(e),
            Utc.with_ymd_and_hms(2027, 3, 5, 9, 30, 0).unwrap()
        );
        assert_eq!(Expired.due_at(e), e);
    }

    #[test]
    fn each_reminder_falls_due_on_time_and_once() {
        let e = expiry();
        let d = TimeDelta::days;
        let s = TimeDelta::seconds;
        for (now, last_sent, expected) in [
            (e - d(30) - s(1), None, None),
            (e - d(30), None, Some(ThirtyDays)),
            (e - d(20), Some(ThirtyDays), None),
            (e - d(7) - s(1), Some(ThirtyDays), None),
            (e - d(7), Some(ThirtyDays), Some(SevenDays)),
            (e - d(1), Some(SevenDays), None),
            (e - s(1), Some(SevenDays), None),
            (e, Some(SevenDays), Some(Expired)),
            (e + d(3), Some(Expired), None),
        ] {
            assert_eq!(
                due_expiry_reminder(e, now, last_sent),
                expected,
                "at {now} after {last_sent:?}"
            );
        }
    }

    #[test]
    fn a_portal_down_across_due_dates_sends_only_the_latest() {
        let e = expiry();
        assert_eq!(
            due_expiry_reminder(e, e - TimeDelta::days(3), None),
            Some(SevenDays)
        );
        // Down from 40 days before until 10 days after expiry.
        assert_eq!(
            due_expiry_reminder(e, e + TimeDelta::days(10), None),
            Some(Expired)
        );
        assert_eq!(
            due_expiry_reminder(e, e + TimeDelta::days(10), Some(ThirtyDays)),
            Some(Expired)
        );
        assert_eq!(
            due_expiry_reminder(e, e + TimeDelta::days(11), Some(Expired)),
            None
        );
    }

    #[test]
    fn the_next_reminder_follows_the_last_one_sent() {
        let e = expiry();
        assert_eq!(next_reminder_at(e, None), Some(e - TimeDelta::days(30)));
        assert_eq!(
            next_reminder_at(e, Some(ThirtyDays)),
            Some(e - TimeDelta::days(7))
        );
        assert_eq!(next_reminder_at(e, Some(SevenDays)), Some(e));
        assert_eq!(next_reminder_at(e, Some(Expired)), None);
    }

    #[test]
    fn stored_names_round_trip() {
        for r in ExpiryReminder::ALL {
            assert_eq!(ExpiryReminder::parse(r.as_str()), Some(r));
        }
        assert_eq!(ExpiryReminder::parse("30_days"), None);
    }
}
