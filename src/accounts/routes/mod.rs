//! The pages of the accounts area.

mod account;
mod gitlab;
mod gitlab_outcome;
mod login;
mod password;
mod second_factor;
mod signup;
mod staff_admin;
mod verify;

use axum::Router;

use crate::state::AppState;

/// Pages for visitors: sign-up, sign-in (with a password or GitLab),
/// verification, password reset.
pub fn public_router() -> Router<AppState> {
    Router::new()
        .merge(signup::router())
        .merge(login::router())
        .merge(gitlab::router())
        .merge(second_factor::router())
        .merge(verify::router())
        .merge(password::router())
        .merge(staff_admin::invitation_router())
}

/// Pages for anyone signed in: their account and sessions.
pub fn signed_in_router() -> Router<AppState> {
    account::router()
}

/// Staff pages of this area, under `/admin`.
pub fn staff_router() -> Router<AppState> {
    staff_admin::router()
}
