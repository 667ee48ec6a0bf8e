//! Partner organisations, the tenants: who belongs to which, with what role,
//! and the transaction that PostgreSQL confines to one organisation.

pub mod acceptance;
pub mod emails;
pub mod invitations;
pub mod members;
pub mod roles;
pub mod routes;
pub mod standing;
pub mod tenant;

pub use roles::MemberRole;
pub use standing::{GateProblem, Standing};
pub use tenant::{Tenant, begin_tenant};
