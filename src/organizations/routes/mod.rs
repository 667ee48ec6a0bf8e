//! Pages of the organisations area.

mod dashboard;
mod new;

use axum::Router;

use crate::state::AppState;

pub use dashboard::Progress;

/// Partner pages: creating the organisation, the dashboard.
pub fn partner_router() -> Router<AppState> {
    Router::new()
        .merge(new::router())
        .merge(dashboard::router())
}
