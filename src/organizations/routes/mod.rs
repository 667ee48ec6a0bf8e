//! Pages of the organisations area.

mod accept;
mod dashboard;
mod new;
mod team;
mod team_invitations;
mod team_members;

use axum::Router;

use crate::state::AppState;

pub use dashboard::Progress;

/// Partner pages: creating the organisation, the dashboard, the team.
pub fn partner_router() -> Router<AppState> {
    Router::new()
        .merge(new::router())
        .merge(dashboard::router())
        .merge(team::router())
}

/// Pages anyone may open: the end of an emailed team invitation.
pub fn public_router() -> Router<AppState> {
    accept::router()
}
