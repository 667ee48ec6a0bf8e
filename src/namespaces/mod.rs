//! Namespaces: the GitLab groups where partners publish CI/CD Catalog
//! components, and the components listed under them (PRODUCT.md §4).

pub mod catalog;
pub mod component;
pub mod decision;
pub mod emails;
pub mod feed;
pub mod owner;
pub mod proof;
pub mod routes;
pub mod state;
pub mod store;
pub mod suspension;
pub mod url;

pub use component::{Component, ComponentInput, FieldProblems};
pub use owner::owner_of_project;
pub use state::NamespaceState;
pub use suspension::{on_partner_reinstated, on_partner_suspended};
pub use url::{NamespaceUrl, NamespaceUrlProblem, PathSegmentProblem};
