//! Pages and endpoints of the issues area.

mod calendar;
mod partner;
mod settings;
mod staff;
mod staff_issue;
mod staff_new;
pub mod thread;
pub mod view;
pub mod webhook;

use axum::Router;

use crate::state::AppState;

/// The tracker's webhook and the calendar feed: no session, a secret each.
pub fn public_router() -> Router<AppState> {
    Router::new()
        .merge(webhook::router())
        .merge(calendar::public_router())
}

/// `/issues…` for signed-in partner users.
pub fn partner_router() -> Router<AppState> {
    Router::new()
        .merge(partner::router())
        .merge(calendar::partner_router())
}

/// `/admin/issues…` and the SLA setting.
pub fn staff_router() -> Router<AppState> {
    Router::new()
        .merge(staff::router())
        .merge(staff_new::router())
        .merge(staff_issue::router())
        .merge(settings::router())
}
