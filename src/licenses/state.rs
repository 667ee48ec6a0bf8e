//! Where a license stands. Expiry is a matter of time, not of state: an
//! `Active` license whose term has ended reads as expired.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenseState {
    /// Waiting for a staff decision.
    Pending,
    Active,
    Rejected,
    Revoked,
    /// Expired and past its renewal window, replaced by a new request; or
    /// suspended with its partner and ended before the reinstatement.
    Lapsed,
    /// Active until its partner was suspended: no reminders, no renewal,
    /// active again on reinstatement if its term has not ended.
    Suspended,
}

impl LicenseState {
    pub const ALL: [LicenseState; 6] = [
        LicenseState::Pending,
        LicenseState::Active,
        LicenseState::Rejected,
        LicenseState::Revoked,
        LicenseState::Lapsed,
        LicenseState::Suspended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LicenseState::Pending => "pending",
            LicenseState::Active => "active",
            LicenseState::Rejected => "rejected",
            LicenseState::Revoked => "revoked",
            LicenseState::Lapsed => "lapsed",
            LicenseState::Suspended => "suspended",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == stored)
    }
}

/// What the license is now, as people say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Waiting,
    Active,
    Expired,
    Rejected,
    Revoked,
    Suspended,
}

impl Status {
    pub fn of(state: LicenseState, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Self {
        match state {
            LicenseState::Pending => Status::Waiting,
            LicenseState::Active if expires_at.is_some_and(|e| e <= now) => Status::Expired,
            LicenseState::Active => Status::Active,
            LicenseState::Lapsed => Status::Expired,
            LicenseState::Rejected => Status::Rejected,
            LicenseState::Revoked => Status::Revoked,
            LicenseState::Suspended => Status::Suspended,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Waiting => "Waiting for review",
            Status::Active => "Active",
            Status::Expired => "Expired",
            Status::Rejected => "Rejected",
            Status::Revoked => "Revoked",
            Status::Suspended => "Suspended",
        }
    }

    /// Classes of the status pill.
    pub fn class(self) -> &'static str {
        match self {
            Status::Active => "status status-done",
            Status::Waiting => "status status-in-progress",
            Status::Suspended => "status status-expired",
            Status::Expired | Status::Rejected | Status::Revoked => "status status-ended",
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn stored_states_round_trip() {
        for s in LicenseState::ALL {
            assert_eq!(LicenseState::parse(s.as_str()), Some(s));
        }
        assert_eq!(LicenseState::parse("expired"), None);
    }

    #[test]
    fn an_active_license_reads_as_expired_from_its_expiry_on() {
        let now = Utc::now();
        let at = |d| Some(now + TimeDelta::days(d));
        assert_eq!(Status::of(LicenseState::Active, at(1), now), Status::Active);
        assert_eq!(
            Status::of(LicenseState::Active, Some(now), now),
            Status::Expired
        );
        assert_eq!(
            Status::of(LicenseState::Active, at(-3), now),
            Status::Expired
        );
        assert_eq!(
            Status::of(LicenseState::Revoked, at(100), now),
            Status::Revoked
        );
        assert_eq!(
            Status::of(LicenseState::Pending, None, now),
            Status::Waiting
        );
        // Suspended whatever its term says.
        assert_eq!(
            Status::of(LicenseState::Suspended, at(100), now),
            Status::Suspended
        );
        assert_eq!(
            Status::of(LicenseState::Suspended, at(-1), now),
            Status::Suspended
        );
    }
}
