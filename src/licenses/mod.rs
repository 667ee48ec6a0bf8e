//! Not-for-resale (NFR) licenses (PRODUCT.md §5): what a partner may
//! request, how long a license runs, renewal, staff decisions, keys and
//! expiry reminders.
//!
//! Pure rules (`choices`, `users`, `request`, `renewal`, `rules`, `reminders`,
//! `key`, `state`, `terms`) take time as a parameter; `store` reads,
//! `lifecycle` and `decisions` write (history, audit and emails in the same
//! transaction); `reminder_job` is the scheduler's job; `routes` the pages.

pub mod choices;
pub mod decisions;
pub mod emails;
pub mod key;
pub mod lifecycle;
pub mod reminder_job;
pub mod reminders;
pub mod renewal;
pub mod request;
pub mod requesting;
pub mod routes;
pub mod rules;
pub mod state;
pub mod store;
pub mod suspension;
pub mod terms;
pub mod users;

pub use choices::{Product, Purpose};
pub use key::generate_key;
pub use reminders::{ExpiryReminder, due_expiry_reminder};
pub use request::{FieldErrors, LicenseRequest, LicenseRequestForm};
pub use rules::{
    AUTO_APPROVE_MAX_USERS, ReduceProblem, RenewalProblem, can_renew, needs_staff_review,
    reduced_users, renewal_term, renewal_window, term_end,
};
pub use state::{LicenseState, Status};
pub use users::{UserCount, UserCountProblem};
