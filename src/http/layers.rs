//! Response layers: security headers on every response, friendly pages for
//! bare error statuses, a 500 page for panics, and the request span.

use std::any::Any;

use axum::{
    BoxError,
    body::{Body, Bytes},
    http::{HeaderName, HeaderValue, Request, StatusCode, header},
    response::{IntoResponse, Response},
};
use tracing::Span;

use crate::views::ErrorPage;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the security headers. Applied outside every other layer, so errors,
/// panics, timeouts and static files carry them too.
pub fn security_headers<B>(mut res: Response<B>, hsts: bool) -> Response<B> {
    let headers = res.headers_mut();
    // A response may bring a stricter policy of its own (an SVG logo).
    let own_policy = headers.contains_key(header::CONTENT_SECURITY_POLICY);
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    if !own_policy {
        set(header::CONTENT_SECURITY_POLICY, CSP);
    }
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    // `same-origin` keeps tokens in URLs away from other sites while forms
    // still send an Origin header the CSRF check can read.
    set(header::REFERRER_POLICY, "same-origin");
    set(
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if hsts {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    res
}

/// Error statuses produced by the framework or a layer (405, 408, 413, a
/// rejected form…) come with an empty or plain-text body; people get the
/// friendly page instead. Responses with their own body (JSON) are kept.
pub fn friendly_error_pages<B>(res: Response<B>) -> Response
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let status = res.status();
    let plain = match res.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(v) => v.as_bytes().starts_with(b"text/plain"),
    };
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return res.map(Body::new);
    }
    let (parts, _) = res.into_parts();
    let mut page = ErrorPage::for_status(status).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            page.headers_mut().insert(name, v.clone());
        }
    }
    page
}

/// A handler that panicked: the 500 page, and the server keeps serving.
pub fn panic_page(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "a request handler panicked");
    ErrorPage::for_status(StatusCode::INTERNAL_SERVER_ERROR).into_response()
}

/// The span of one request, carrying its request ID.
pub fn make_span(req: &Request<Body>) -> Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %request_id,
    )
}
