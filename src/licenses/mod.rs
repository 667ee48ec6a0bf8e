//! Not-for-resale (NFR) licenses: what a partner may request, how long a
//! license runs, renewal, reductions by staff, keys and expiry reminders.
//! Pure rules; time is always a parameter.

pub mod choices;
pub mod key;
pub mod reminders;
pub mod request;
pub mod rules;
pub mod users;

pub use choices::{Product, Purpose};
pub use key::generate_key;
pub use reminders::{ExpiryReminder, due_expiry_reminder};
pub use request::{FieldErrors, LicenseRequest, LicenseRequestForm};
pub use rules::{
    AUTO_APPROVE_MAX_USERS, ReduceProblem, RenewalProblem, can_renew, needs_staff_review,
    reduced_users, renewal_term, renewal_window, term_end,
};
pub use users::{UserCount, UserCountProblem};
