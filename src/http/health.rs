//! `GET /healthz` (the process answers) and `GET /readyz` (and its database does).

use std::time::Duration;

use axum::{Router, extract::State, http::StatusCode, http::header, routing::get};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

const NO_STORE: [(header::HeaderName, &str); 1] = [(header::CACHE_CONTROL, "no-store")];

async fn healthz() -> ([(header::HeaderName, &'static str); 1], &'static str) {
    (NO_STORE, "ok\n")
}

async fn readyz(
    State(state): State<AppState>,
) -> (
    StatusCode,
    [(header::HeaderName, &'static str); 1],
    &'static str,
) {
    let check = sqlx::query_scalar!("select 1 as \"one!\"").fetch_one(&state.pool);
    match tokio::time::timeout(Duration::from_secs(2), check).await {
        Ok(Ok(_)) => (StatusCode::OK, NO_STORE, "ready\n"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check: database error");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                NO_STORE,
                "database unavailable\n",
            )
        }
        Err(_) => {
            tracing::warn!("readiness check: database timed out");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                NO_STORE,
                "database unavailable\n",
            )
        }
    }
}
