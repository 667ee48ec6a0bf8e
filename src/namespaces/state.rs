//! The life of a namespace registration (PRODUCT.md §4):
//! `pending → verified | rejected`, and `revoked` while its partner is
//! suspended (verified again on reinstatement).

use std::{fmt, str::FromStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceState {
    Pending,
    Verified,
    Rejected,
    Revoked,
}

impl NamespaceState {
    pub const ALL: [NamespaceState; 4] = [
        NamespaceState::Pending,
        NamespaceState::Verified,
        NamespaceState::Rejected,
        NamespaceState::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NamespaceState::Pending => "pending",
            NamespaceState::Verified => "verified",
            NamespaceState::Rejected => "rejected",
            NamespaceState::Revoked => "revoked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            NamespaceState::Pending => "Waiting for verification",
            NamespaceState::Verified => "Verified",
            NamespaceState::Rejected => "Rejected",
            NamespaceState::Revoked => "Revoked",
        }
    }

    /// The CSS class of its status pill (shared with applications).
    pub fn css(self) -> &'static str {
        match self {
            NamespaceState::Pending => "state state-submitted",
            NamespaceState::Verified => "state state-approved",
            NamespaceState::Rejected | NamespaceState::Revoked => "state state-rejected",
        }
    }

    /// Staff may still verify or reject it.
    pub fn is_decidable(self) -> bool {
        self == NamespaceState::Pending
    }

    /// Components may be listed under it.
    pub fn takes_components(self) -> bool {
        self == NamespaceState::Verified
    }
}

impl fmt::Display for NamespaceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown namespace state {0:?}")]
pub struct UnknownState(String);

impl FromStr for NamespaceState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_stored_names() {
        for state in NamespaceState::ALL {
            assert_eq!(state.as_str().parse::<NamespaceState>(), Ok(state));
        }
        assert!("approved".parse::<NamespaceState>().is_err());
    }

    #[test]
    fn only_pending_registrations_are_decided_and_only_verified_ones_take_components() {
        use NamespaceState::*;
        let decidable: Vec<_> = NamespaceState::ALL
            .into_iter()
            .filter(|s| s.is_decidable())
            .collect();
        assert_eq!(decidable, [Pending]);
        let open: Vec<_> = NamespaceState::ALL
            .into_iter()
            .filter(|s| s.takes_components())
            .collect();
        assert_eq!(open, [Verified]);
    }
}
