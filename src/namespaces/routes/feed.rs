//! `GET /api/v1/verified-namespaces`: the badged namespaces as JSON, served
//! from the in-memory snapshot, with an ETag so a catalog polling it gets
//! `304 Not Modified` until something changes.

use axum::{
    Router,
    body::Body,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{
    error::AppResult,
    namespaces::feed::{Coding, accepts},
    state::AppState,
};

/// Catalogs may cache it for a minute; revalidating is cheap (304).
const CACHE_CONTROL: &str = "public, max-age=60, must-revalidate";

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/verified-namespaces", get(feed))
}

async fn feed(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let snapshot = state.directory.snapshot().await?;
    let feed = &snapshot.feed;
    let etag = HeaderValue::from_str(&feed.etag).expect("hex in quotes is a valid header");
    let not_modified = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| feed.matches(v));
    let takes = |coding| {
        headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| accepts(v, coding))
    };
    // The smallest form the client takes: brotli once it is ready, gzip.
    let compressed = match feed.brotli() {
        Some(brotli) if takes(Coding::Brotli) => Some((brotli, "br")),
        _ if takes(Coding::Gzip) => Some((feed.smallest_gzip(), "gzip")),
        _ => None,
    };
    let mut res = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else if let Some((body, coding)) = compressed {
        let mut res = Response::new(Body::from(body.clone()));
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        res
    } else {
        Response::new(Body::from(feed.body.clone()))
    };
    if !not_modified {
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let h = res.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    // Set here because the body may come compressed already.
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    // Public data meant for other sites' catalogs.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    Ok(res)
}
