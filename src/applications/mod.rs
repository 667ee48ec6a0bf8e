//! The partner application (PRODUCT.md §2): its answers, its states, the
//! Technology Partner Agreement, and the staff review.

pub mod countries;
pub mod form;
pub mod model;
pub mod routes;
pub mod state;
