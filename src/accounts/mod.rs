//! People and how they prove who they are: addresses, passwords, staff
//! accounts.

pub mod csrf;
pub mod email;
pub mod emails;
pub mod gitlab_flow;
pub mod guard;
pub mod identity;
pub mod password;
pub mod remembered;
pub mod routes;
pub mod session;
pub mod staff;
pub mod throttle;
pub mod tokens;
pub mod totp;

/// Failed sign-in attempts (or second-factor codes) within `WINDOW` after
/// which further attempts are refused for a while.
pub mod login_limits {
    use chrono::Duration;

    pub const MAX_FAILURES: i64 = 10;
    pub const WINDOW: Duration = Duration::minutes(15);
}

pub use email::EmailAddress;
pub use password::{NewPassword, Passwords};
