//! The HTTP surface: one router made of public, partner and staff groups,
//! wrapped in the layers every response goes through.

mod assets;
pub mod client_addr;
mod health;
mod layers;
mod pages;

use std::time::Duration;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::StatusCode,
    middleware::{from_fn, from_fn_with_state},
};
use tower::{ServiceBuilder, util::MapResponseLayer};
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};

use tracing::Level;

use crate::{
    accounts::{self, csrf, guard, session},
    applications, audit, calls, insights, integrations, issues, licenses, listings, namespaces,
    organizations,
    state::AppState,
    views::ErrorPage,
};

pub use assets::asset_url;

/// The largest request body accepted (a listing form with a 512 KiB logo fits).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Every route of the portal, with `extra` merged in (tests add routes there).
pub fn build_router(state: AppState, extra: Router<AppState>) -> Router {
    let timeout = state.config.request_timeout;
    let hsts = state.config.is_https();

    // A remembered session is confirmed by a partner page's own
    // transaction; every other page confirms it first (`accounts::remembered`).
    let confirm_first = || from_fn_with_state(state.clone(), session::confirm_first);
    Router::new()
        .merge(public_routes().route_layer(confirm_first()))
        .merge(signed_in_routes().route_layer(confirm_first()))
        .merge(partner_routes())
        .merge(staff_routes().route_layer(confirm_first()))
        .merge(crate::api::router(&state))
        .merge(if extra.has_routes() {
            extra.route_layer(confirm_first())
        } else {
            extra
        })
        .fallback(not_found)
        // After the CSRF check: text no handler may see is refused here.
        .layer(from_fn(crate::input::screen))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::protect,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::load,
        ))
        // Counts by route template, so it runs after routing.
        .layer(from_fn_with_state(state.clone(), crate::metrics::track))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(layers::make_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CompressionLayer::new())
                .layer(MapResponseLayer::new(move |res| {
                    layers::security_headers(res, hsts)
                }))
                .layer(MapResponseLayer::new(layers::friendly_error_pages))
                .layer(CatchPanicLayer::custom(layers::panic_page))
                .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    timeout,
                ))
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
}

/// Pages anyone may see: landing, health, static assets, signing in.
fn public_routes() -> Router<AppState> {
    Router::new()
        .merge(pages::router())
        .merge(health::router())
        .merge(assets::router())
        .merge(accounts::routes::public_router())
        .merge(organizations::routes::public_router())
        .merge(issues::routes::public_router())
        .merge(listings::routes::public_router())
        .merge(namespaces::routes::public_router())
}

/// Pages of anyone signed in, staff or partner: their account.
fn signed_in_routes() -> Router<AppState> {
    accounts::routes::signed_in_router().route_layer(from_fn(guard::require_signed_in))
}

/// Routes of a signed-in partner user; each area adds its own.
fn partner_routes() -> Router<AppState> {
    Router::new()
        .merge(organizations::routes::partner_router())
        .merge(applications::routes::partner_router())
        .merge(licenses::routes::partner_router())
        .merge(audit::routes::partner_router())
        .merge(issues::routes::partner_router())
        .merge(integrations::routes::partner_router())
        .merge(namespaces::routes::partner_router())
        .merge(listings::routes::partner_router())
        .merge(insights::routes::partner_router())
        .route_layer(from_fn(guard::require_partner))
}

/// The staff UI under `/admin`.
fn staff_routes() -> Router<AppState> {
    Router::new()
        .merge(accounts::routes::staff_router())
        .merge(applications::routes::staff_router())
        .merge(licenses::routes::staff_router())
        .merge(audit::routes::staff_router())
        .merge(issues::routes::staff_router())
        .merge(namespaces::routes::staff_router())
        .merge(listings::routes::staff_router())
        .merge(calls::routes::staff_router())
        .merge(insights::routes::staff_router())
        .route_layer(from_fn(guard::require_staff))
}

async fn not_found() -> ErrorPage {
    ErrorPage::for_status(StatusCode::NOT_FOUND)
}

/// How long in-flight requests get to finish once shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
