//! The platform's room of its own: every shape GitLab sends or expects
//! (webhook bodies, the notes call, the catalog's GraphQL mutation, OpenID
//! claims) lives here, so the areas ask it in their own words and never
//! build or read GitLab JSON themselves. One HTTP client ([`GitLab`]), built
//! once at start with timeouts, a user agent naming the portal and no
//! redirects.

pub mod catalog;
pub mod client;
pub mod hooks;
pub mod notes;
pub mod oidc;

pub use client::{CallError, GitLab};
pub use oidc::{Authorization, GitLabPerson, OidcError};
