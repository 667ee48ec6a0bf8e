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
pub mod totp_secrets;

/// Failed sign-in attempts (or second-factor codes) within `WINDOW` after
/// which further attempts are refused for a while.
pub mod login_limits {
    use chrono::Duration;

    /// Per account (and per staff member's second factor): what stops
    /// guessing one password. The tenth failure emails the owner.
    pub const MAX_FAILURES: i64 = 10;
    /// Per client address. It only slows one address trying a few
    /// passwords on many accounts, which the per-account limit cannot
    /// see; guessing one account is stopped at 10 whatever the address.
    /// One office behind NAT, or a university, shares an address: 100 is
    /// ten people each using up their own account's limit in the same
    /// quarter of an hour, far more than typos make, while an address
    /// spraying accounts gets 400 tries an hour (against argon2id and
    /// passwords that zxcvbn judged strong).
    pub const MAX_FAILURES_PER_ADDRESS: i64 = 100;
    pub const WINDOW: Duration = Duration::minutes(15);
}

pub use email::EmailAddress;
pub use password::{NewPassword, Passwords};
