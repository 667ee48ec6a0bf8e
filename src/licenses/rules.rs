//! The life of a license: who decides, how long a term runs, when it may be
//! renewed and for how long, and how far staff may reduce its users.

use chrono::{DateTime, Months, TimeDelta, Utc};

use super::users::{UserCount, UserCountProblem};
use crate::dates::long_date;

/// Up to this many users per product, a request (or renewal) is issued at
/// once; more waits for a staff decision.
pub const AUTO_APPROVE_MAX_USERS: u32 = 10;
pub const TERM_MONTHS: u32 = 12;
pub const RENEWAL_OPENS_DAYS_BEFORE: i64 = 60;
pub const RENEWAL_CLOSES_DAYS_AFTER: i64 = 30;

/// Whether a request or renewal for this many users waits for staff.
pub fn needs_staff_review(users: UserCount) -> bool {
    users.get() > AUTO_APPROVE_MAX_USERS
}

/// The end of a term starting at `start`: 12 calendar months later, at the
/// same time of day. A term from 29 February ends on 28 February.
pub fn term_end(start: DateTime<Utc>) -> DateTime<Utc> {
    start
        .checked_add_months(Months::new(TERM_MONTHS))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When renewal opens and closes for a license, both moments included.
pub fn renewal_window(expires_at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        expires_at - TimeDelta::days(RENEWAL_OPENS_DAYS_BEFORE),
        expires_at + TimeDelta::days(RENEWAL_CLOSES_DAYS_AFTER),
    )
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenewalProblem {
    #[error(
        "Renewal opens on {}, 60 days before the license expires.",
        long_date(*opens)
    )]
    NotYetOpen { opens: DateTime<Utc> },
    #[error("This license expired more than 30 days ago; request a new one.")]
    Closed,
}

/// Whether the license expiring at `expires_at` may be renewed at `now`.
pub fn can_renew(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), RenewalProblem> {
    let (opens, closes) = renewal_window(expires_at);
    if now < opens {
        Err(RenewalProblem::NotYetOpen { opens })
    } else if now > closes {
        Err(RenewalProblem::Closed)
    } else {
        Ok(())
    }
}

/// The renewed term: from the old expiry while the license still runs, so no
/// day is lost, or from `now` once it has expired.
pub fn renewal_term(
    old_expiry: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = old_expiry.max(now);
    (start, term_end(start))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReduceProblem {
    #[error("Enter the new number of users.")]
    Missing,
    #[error("Enter the number of users as a whole number, like 5.")]
    NotANumber,
    #[error("A license keeps at least 1 user; to end it, revoke it instead.")]
    BelowOne,
    #[error("Enter fewer users than the license has now ({current}).")]
    NotFewer { current: u32 },
    #[error("This license has 1 user and cannot be reduced further.")]
    AtMinimum,
}

/// The new user count staff typed to reduce a license of `current` users:
/// at least 1 and fewer than now.
pub fn reduced_users(current: u32, requested: &str) -> Result<u32, ReduceProblem> {
    if current <= 1 {
        return Err(ReduceProblem::AtMinimum);
    }
    let n = UserCount::parse(requested)
        .map_err(|problem| match problem {
            UserCountProblem::Missing => ReduceProblem::Missing,
            UserCountProblem::NotANumber => ReduceProblem::NotANumber,
            UserCountProblem::TooFew => ReduceProblem::BelowOne,
            UserCountProblem::TooMany => ReduceProblem::NotFewer { current },
        })?
        .get();
    if n >= current {
        return Err(ReduceProblem::NotFewer { current });
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 9, 30, 0).unwrap()
    }

    #[test]
    fn ten_users_are_issued_at_once_and_eleven_wait_for_staff() {
        let users = |n| UserCount::try_from(n).unwrap();
        assert!(!needs_staff_review(users(1)));
        assert!(!needs_staff_review(users(10)));
        assert!(needs_staff_review(users(11)));
    }

    #[test]
    fn a_term_is_twelve_calendar_months() {
        for (start, end) in [
            (day(2027, 3, 12), day(2028, 3, 12)),
            (day(2027, 2, 28), day(2028, 2, 28)), // into a leap year: not the 29th
            (day(2028, 2, 29), day(2029, 2, 28)), // from a leap day
            (day(2028, 3, 1), day(2029, 3, 1)),
            (day(2027, 12, 31), day(2028, 12, 31)),
        ] {
            assert_eq!(term_end(start), end, "from {start}");
        }
    }

    #[test]
    fn renewal_window_edges() {
        let expiry = day(2027, 4, 2);
        let d = TimeDelta::days;
        assert_eq!(renewal_window(expiry), (day(2027, 2, 1), day(2027, 5, 2)));
        assert!(matches!(
            can_renew(expiry, expiry - d(61)),
            Err(RenewalProblem::NotYetOpen { .. })
        ));
        assert!(can_renew(expiry, expiry - d(60) - TimeDelta::seconds(1)).is_err());
        assert_eq!(can_renew(expiry, expiry - d(60)), Ok(()));
        assert_eq!(can_renew(expiry, expiry), Ok(()));
        assert_eq!(can_renew(expiry, expiry + d(30)), Ok(()));
        assert_eq!(
            can_renew(expiry, expiry + d(30) + TimeDelta::seconds(1)),
            Err(RenewalProblem::Closed)
        );
        assert_eq!(
            can_renew(expiry, expiry + d(31)),
            Err(RenewalProblem::Closed)
        );
    }

    #[test]
    fn renewal_refusals_say_when_and_what_to_do() {
        let expiry = day(2027, 4, 2);
        let early = can_renew(expiry, day(2027, 1, 10)).unwrap_err();
        assert_eq!(
            early.to_string(),
            "Renewal opens on 1 February 2027, 60 days before the license expires."
        );
        let late = can_renew(expiry, day(2027, 6, 1)).unwrap_err();
        assert_eq!(
            late.to_string(),
            "This license expired more than 30 days ago; request a new one."
        );
    }

    #[test]
    fn renewing_before_expiry_runs_on_from_the_old_expiry() {
        let expiry = day(2027, 4, 2);
        assert_eq!(
            renewal_term(expiry, day(2027, 2, 15)),
            (expiry, day(2028, 4, 2))
        );
    }

    #[test]
    fn renewing_after_expiry_runs_from_now() {
        let expiry = day(2027, 4, 2);
        let now = day(2027, 4, 20);
        assert_eq!(renewal_term(expiry, now), (now, day(2028, 4, 20)));
    }

    #[test]
    fn renewal_terms_across_leap_years() {
        // A license issued on 28 February 2027 expires on 28 February 2028.
        assert_eq!(
            renewal_term(day(2028, 2, 28), day(2028, 1, 5)),
            (day(2028, 2, 28), day(2029, 2, 28))
        );
        // Renewed on the leap day after it expired: ends 28 February 2029.
        assert_eq!(
            renewal_term(day(2028, 2, 20), day(2028, 2, 29)),
            (day(2028, 2, 29), day(2029, 2, 28))
        );
        // Issued on the leap day, renewed before expiry: stays on the 28th.
        let first = term_end(day(2028, 2, 29));
        assert_eq!(
            renewal_term(first, day(2029, 1, 10)),
            (day(2029, 2, 28), day(2030, 2, 28))
        );
    }

    #[test]
    fn reducing_users() {
        use ReduceProblem::*;
        assert_eq!(reduced_users(20, "12"), Ok(12));
        assert_eq!(reduced_users(20, " 1 "), Ok(1));
        assert_eq!(reduced_users(2, "1"), Ok(1));
        for (current, input, problem) in [
            (20, "", Missing),
            (20, "twelve", NotANumber),
            (20, "0", BelowOne),
            (20, "-4", BelowOne),
            (20, "20", NotFewer { current: 20 }),
            (20, "25", NotFewer { current: 20 }),
            (20, "5000", NotFewer { current: 20 }),
            (1, "1", AtMinimum),
            (1, "0", AtMinimum),
        ] {
            assert_eq!(
                reduced_users(current, input),
                Err(problem),
                "{current} → {input:?}"
            );
        }
    }
}
