//! Pages of the applications area.

pub mod agreement;
pub mod partner;
pub mod staff;

use axum::Router;

use crate::state::AppState;

pub fn partner_router() -> Router<AppState> {
    Router::new()
        .merge(partner::router())
        .merge(agreement::partner_router())
}

pub fn staff_router() -> Router<AppState> {
    Router::new()
        .merge(staff::router())
        .merge(agreement::staff_router())
}
