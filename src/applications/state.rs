//! The life of an application (PRODUCT.md §2):
//! `draft → submitted → (changes_requested → submitted)* → approved | rejected`,
//! a submitted application can be `withdrawn` by the partner (and edited and
//! submitted again), an approved partner can be `suspended` and reinstated.

use std::{fmt, str::FromStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationState {
    Draft,
    Submitted,
    ChangesRequested,
    Approved,
    Rejected,
    Withdrawn,
    Suspended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Submit,
    Withdraw,
    Approve,
    Reject,
    RequestChanges,
    Suspend,
    Reinstate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("An application that is {} cannot be {}.", from.label().to_lowercase(), action.past_tense())]
pub struct NotAllowed {
    pub from: ApplicationState,
    pub action: Transition,
}

impl ApplicationState {
    pub const ALL: [ApplicationState; 7] = [
        ApplicationState::Draft,
        ApplicationState::Submitted,
        ApplicationState::ChangesRequested,
        ApplicationState::Approved,
        ApplicationState::Rejected,
        ApplicationState::Withdrawn,
        ApplicationState::Suspended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationState::Draft => "draft",
            ApplicationState::Submitted => "submitted",
            ApplicationState::ChangesRequested => "changes_requested",
            ApplicationState::Approved => "approved",
            ApplicationState::Rejected => "rejected",
            ApplicationState::Withdrawn => "withdrawn",
            ApplicationState::Suspended => "suspended",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ApplicationState::Draft => "Draft",
            ApplicationState::Submitted => "Submitted",
            ApplicationState::ChangesRequested => "Changes requested",
            ApplicationState::Approved => "Approved",
            ApplicationState::Rejected => "Rejected",
            ApplicationState::Withdrawn => "Withdrawn",
            ApplicationState::Suspended => "Suspended",
        }
    }

    /// The partner may change the answers.
    pub fn is_editable(self) -> bool {
        matches!(
            self,
            ApplicationState::Draft
                | ApplicationState::ChangesRequested
                | ApplicationState::Withdrawn
        )
    }

    /// The state after `action`, if it is allowed from this one.
    pub fn apply(self, action: Transition) -> Result<ApplicationState, NotAllowed> {
        use ApplicationState as S;
        use Transition as T;
        let to = match (self, action) {
            (S::Draft | S::ChangesRequested | S::Withdrawn, T::Submit) => S::Submitted,
            (S::Submitted, T::Withdraw) => S::Withdrawn,
            (S::Submitted, T::Approve) => S::Approved,
            (S::Submitted, T::Reject) => S::Rejected,
            (S::Submitted, T::RequestChanges) => S::ChangesRequested,
            (S::Approved, T::Suspend) => S::Suspended,
            (S::Suspended, T::Reinstate) => S::Approved,
            (from, action) => return Err(NotAllowed { from, action }),
        };
        Ok(to)
    }
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Submit => "submitted",
            Transition::Withdraw => "withdrawn",
            Transition::Approve => "approved",
            Transition::Reject => "rejected",
            Transition::RequestChanges => "changes_requested",
            Transition::Suspend => "suspended",
            Transition::Reinstate => "reinstated",
        }
    }

    fn past_tense(self) -> &'static str {
        match self {
            Transition::Submit => "submitted",
            Transition::Withdraw => "withdrawn",
            Transition::Approve => "approved",
            Transition::Reject => "rejected",
            Transition::RequestChanges => "sent back for changes",
            Transition::Suspend => "suspended",
            Transition::Reinstate => "reinstated",
        }
    }
}

impl FromStr for ApplicationState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApplicationState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown application state {s:?}"))
    }
}

impl fmt::Display for ApplicationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::{ApplicationState as S, Transition as T};

    #[test]
    fn every_allowed_transition() {
        let allowed = [
            (S::Draft, T::Submit, S::Submitted),
            (S::ChangesRequested, T::Submit, S::Submitted),
            (S::Withdrawn, T::Submit, S::Submitted),
            (S::Submitted, T::Withdraw, S::Withdrawn),
            (S::Submitted, T::Approve, S::Approved),
            (S::Submitted, T::Reject, S::Rejected),
            (S::Submitted, T::RequestChanges, S::ChangesRequested),
            (S::Approved, T::Suspend, S::Suspended),
            (S::Suspended, T::Reinstate, S::Approved),
        ];
        for (from, action, to) in allowed {
            assert_eq!(from.apply(action), Ok(to), "{from:?} {action:?}");
        }
    }

    #[test]
    fn everything_else_is_refused() {
        let actions = [
            T::Submit,
            T::Withdraw,
            T::Approve,
            T::Reject,
            T::RequestChanges,
            T::Suspend,
            T::Reinstate,
        ];
        let mut refused = 0;
        for from in S::ALL {
            for action in actions {
                if from.apply(action).is_err() {
                    refused += 1;
                }
            }
        }
        assert_eq!(refused, 7 * 7 - 9);
        assert_eq!(
            S::Draft.apply(T::Approve).unwrap_err().to_string(),
            "An application that is draft cannot be approved."
        );
        assert!(
            S::Approved.apply(T::Submit).is_err(),
            "no re-submitting an approved application"
        );
        assert!(S::Rejected.apply(T::Submit).is_err());
    }
}
