//! Namespaces: the GitLab groups where partners publish CI/CD Catalog
//! components, and the components listed under them.

pub mod component;
pub mod url;

pub use component::{Component, ComponentInput, FieldProblems};
pub use url::{NamespaceUrl, NamespaceUrlProblem, PathSegmentProblem};
