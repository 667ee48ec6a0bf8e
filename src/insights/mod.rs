//! Program insights (PRODUCT.md §11): the program in charts for alliance
//! staff (`/admin/insights`) and each partner's own scorecard trend on its
//! dashboard.

pub mod applications;
pub mod chart;
pub mod decisions;
pub mod figure;
pub mod issues;
pub mod licenses;
pub mod numbers;
pub mod partners;
pub mod period;
pub mod routes;
pub mod table;
pub mod trend;
