//! Pages of the namespaces area, and the public feed.

mod catalog;
mod components;
mod feed;
mod partner;
mod staff;
mod staff_queue;

use axum::Router;

use crate::{organizations::GateProblem, state::AppState};

/// `/namespaces` and the components under each.
pub fn partner_router() -> Router<AppState> {
    Router::new()
        .merge(partner::router())
        .merge(components::router())
}

/// `/admin/namespaces`: the verification queue and its decisions.
pub fn staff_router() -> Router<AppState> {
    staff::router()
        .merge(staff_queue::router())
        .merge(catalog::router())
}

/// `GET /api/v1/verified-namespaces`.
pub fn public_router() -> Router<AppState> {
    feed::router()
}

/// Why a partner cannot change something yet, and where to fix it.
#[derive(Debug, Clone)]
pub struct GateView {
    pub message: String,
    pub href: &'static str,
    pub label: &'static str,
}

impl From<GateProblem> for GateView {
    fn from(problem: GateProblem) -> Self {
        let (href, label) = problem.link();
        Self {
            message: problem.to_string(),
            href,
            label,
        }
    }
}
