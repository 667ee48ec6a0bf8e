//! Pages of the namespaces area, and the public feed.

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
    staff::router().merge(staff_queue::router())
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

/// Pages of `per_page` rows: (page shown, number of pages, offset).
pub fn paging(requested: Option<i64>, total: i64, per_page: i64) -> (i64, i64, i64) {
    let pages = ((total + per_page - 1) / per_page).max(1);
    let page = requested.unwrap_or(1).clamp(1, pages);
    (page, pages, (page - 1) * per_page)
}

#[cfg(test)]
mod tests {
    use super::paging;

    #[test]
    fn paging_clamps_to_the_pages_there_are() {
        assert_eq!(paging(None, 0, 20), (1, 1, 0));
        assert_eq!(paging(Some(2), 45, 20), (2, 3, 20));
        assert_eq!(paging(Some(9), 45, 20), (3, 3, 40));
        assert_eq!(paging(Some(-1), 45, 20), (1, 3, 0));
    }
}
