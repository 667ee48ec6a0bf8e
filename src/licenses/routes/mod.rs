//! The license pages: partners request, read and renew at `/licenses`; staff
//! decide and audit under `/admin/licenses`.

mod admin_export;
mod admin_license;
mod admin_list;
mod partner_index;
mod partner_license;
mod view;

use axum::{
    Router,
    routing::{get, post},
};

use crate::state::AppState;

pub use admin_list::pending_count;

pub fn partner_router() -> Router<AppState> {
    Router::new()
        .route(
            "/licenses",
            get(partner_index::show).post(partner_index::request),
        )
        .route("/licenses/{id}", get(partner_license::show))
        .route("/licenses/{id}/renew", post(partner_license::renew))
}

pub fn staff_router() -> Router<AppState> {
    Router::new()
        .route("/admin/licenses", get(admin_list::show))
        .route("/admin/licenses.csv", get(admin_export::export))
        .route("/admin/licenses/{id}", get(admin_license::show))
        .route("/admin/licenses/{id}/approve", post(admin_license::approve))
        .route("/admin/licenses/{id}/reject", post(admin_license::reject))
        .route("/admin/licenses/{id}/reduce", post(admin_license::reduce))
        .route("/admin/licenses/{id}/revoke", post(admin_license::revoke))
}
