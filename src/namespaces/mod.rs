//! Namespaces: the GitLab groups where partners publish CI/CD Catalog
//! components, and the components listed under them.

pub mod component;
pub mod owner;
pub mod url;

pub use component::{Component, ComponentInput, FieldProblems};
pub use owner::owner_of_project;
pub use url::{NamespaceUrl, NamespaceUrlProblem, PathSegmentProblem};
