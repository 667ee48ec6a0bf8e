//! A renewal as the partner asks for it: by default the same number of users
//! and the justification given before; the same approval rule as a new
//! request (more than 10 users waits for staff, with a justification).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{
    LicenseState, UserCount,
    request::{FieldErrors, MAX_JUSTIFICATION_CHARS, MIN_JUSTIFICATION_CHARS},
    rules::{can_renew, needs_staff_review},
};

/// `POST /licenses/{id}/renew`; every field may be left out.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RenewalForm {
    pub users: String,
    pub justification: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renewal {
    pub users: UserCount,
    pub justification: Option<String>,
}

impl Renewal {
    pub fn needs_review(&self) -> bool {
        needs_staff_review(self.users)
    }

    /// `current_users` when the form leaves users empty; the license's
    /// `previous` justification when more than 10 users are renewed without
    /// a new one.
    pub fn parse(
        form: &RenewalForm,
        current_users: i32,
        previous: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let users = if form.users.trim().is_empty() {
            u32::try_from(current_users)
                .ok()
                .and_then(|n| UserCount::try_from(n).ok())
        } else {
            UserCount::parse(&form.users)
                .map_err(|problem| errors.insert("users", problem.to_string()))
                .ok()
        };
        let typed = form.justification.trim();
        let length = typed.chars().count();
        let justification = match (typed.is_empty(), previous) {
            (true, Some(previous)) => Some(previous.to_owned()),
            (true, None) => None,
            (false, _) => Some(typed.to_owned()),
        };
        let needs_review = users.is_some_and(needs_staff_review);
        if length > MAX_JUSTIFICATION_CHARS {
            errors.insert(
                "justification",
                "Keep the justification to 2000 characters or fewer.",
            );
        } else if needs_review
            && (justification.is_none() || (length > 0 && length < MIN_JUSTIFICATION_CHARS))
        {
            errors.insert(
                "justification",
                "More than 10 users needs a staff review: tell us in at least 20 characters why your team needs them.",
            );
        }
        match users {
            Some(users) if errors.is_empty() => Ok(Self {
                users,
                justification,
            }),
            _ => {
                if users.is_none() && errors.get("users").is_none() {
                    errors.insert("users", "Enter the number of users.");
                }
                Err(errors)
            }
        }
    }
}

/// Why this license cannot be renewed now, in the words shown to the partner.
pub fn renewal_refusal(
    state: LicenseState,
    expires_at: Option<DateTime<Utc>>,
    renewal_pending: bool,
    now: DateTime<Utc>,
) -> Option<String> {
    match (state, expires_at) {
        (LicenseState::Active, Some(_)) if renewal_pending => {
            Some("A renewal of this license is already waiting for review.".to_owned())
        }
        (LicenseState::Active, Some(expires_at)) => {
            can_renew(expires_at, now).err().map(|p| p.to_string())
        }
        (LicenseState::Pending, _) => {
            Some("This request is still waiting for a decision.".to_owned())
        }
        (LicenseState::Suspended, _) => Some(
            "This license is suspended with your partnership; it can be renewed once the partnership is reinstated."
                .to_owned(),
        ),
        _ => Some("Only an active license can be renewed; request a new one.".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;

    fn form(users: &str, justification: &str) -> RenewalForm {
        RenewalForm {
            users: users.into(),
            justification: justification.into(),
        }
    }

    #[test]
    fn an_empty_form_renews_the_same_users() {
        let r = Renewal::parse(&form("", ""), 5, None).unwrap();
        assert_eq!(r.users.get(), 5);
        assert!(!r.needs_review());
    }

    #[test]
    fn more_than_ten_users_keeps_the_previous_justification_or_takes_a_new_one() {
        let before = "Forty engineers run our integration suite.";
        let r = Renewal::parse(&form("", ""), 15, Some(before)).unwrap();
        assert!(r.needs_review());
        assert_eq!(r.justification.as_deref(), Some(before));

        let r = Renewal::parse(
            &form("12", "  Our demo team grew to twelve people.  "),
            5,
            None,
        )
        .unwrap();
        assert_eq!(
            r.justification.as_deref(),
            Some("Our demo team grew to twelve people.")
        );
    }

    #[test]
    fn more_than_ten_users_without_any_justification_is_refused() {
        let errors = Renewal::parse(&form("11", ""), 5, None).unwrap_err();
        assert!(errors.get("justification").is_some());
        let errors =
            Renewal::parse(&form("11", "too short"), 5, Some("x".repeat(30).as_str())).unwrap_err();
        assert!(errors.get("justification").is_some());
    }

    #[test]
    fn a_bad_user_count_is_refused() {
        let errors = Renewal::parse(&form("0", ""), 5, None).unwrap_err();
        assert_eq!(errors.get("users"), Some("Enter at least 1 user."));
    }

    #[test]
    fn refusals_say_why() {
        let expiry = Utc.with_ymd_and_hms(2027, 4, 2, 9, 0, 0).unwrap();
        let d = TimeDelta::days;
        let active = LicenseState::Active;
        assert_eq!(
            renewal_refusal(active, Some(expiry), false, expiry - d(60)),
            None
        );
        assert!(renewal_refusal(active, Some(expiry), false, expiry - d(61)).is_some());
        assert!(renewal_refusal(active, Some(expiry), true, expiry - d(10)).is_some());
        assert!(renewal_refusal(LicenseState::Revoked, Some(expiry), false, expiry).is_some());
        // Inside the renewal window, but suspended with the partner.
        let suspended = renewal_refusal(LicenseState::Suspended, Some(expiry), false, expiry);
        assert!(suspended.unwrap().contains("suspended"));
        assert!(renewal_refusal(LicenseState::Pending, None, false, expiry).is_some());
    }
}
