//! People and how they prove who they are: addresses, passwords, staff
//! accounts.

pub mod email;
pub mod password;
pub mod staff;

pub use email::EmailAddress;
pub use password::{NewPassword, Passwords};
