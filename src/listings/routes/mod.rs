//! Pages of the listings area: the partner's listing request, the staff
//! review, and the public directory.

mod partner;
mod public;
mod staff;
mod staff_queue;

use axum::{
    Router,
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::state::AppState;

pub fn partner_router() -> Router<AppState> {
    partner::router()
}

pub fn staff_router() -> Router<AppState> {
    staff::router().merge(staff_queue::router())
}

pub fn public_router() -> Router<AppState> {
    public::router()
}

/// An uploaded logo as a response. SVG is only ever shown through `<img>`,
/// but opened directly it must not run anything: its own strict policy.
pub fn logo_response(
    content_type: &str,
    bytes: Vec<u8>,
    etag: &str,
    cache_control: &'static str,
) -> Response {
    let mut res = Response::new(Body::from(bytes));
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    res
}

/// `304 Not Modified` with the validator and caching of the full answer.
pub fn not_modified(etag: &str, cache_control: &'static str) -> Response {
    let mut res = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(v) = HeaderValue::from_str(etag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    res
}

/// Whether `If-None-Match` names `etag` (or `*`).
pub fn etag_matches(headers: &axum::http::HeaderMap, etag: &str) -> bool {
    let bare = etag.trim_start_matches("W/");
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.trim_start_matches("W/") == bare)
}
