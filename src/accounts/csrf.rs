//! CSRF protection for every state-changing request: the origin must be this
//! site, and the body must carry the `csrf_token` of the visitor's session
//! (or, before sign-in, of their CSRF cookie). Applied to the whole router,
//! so a new form cannot forget it. Requests that prove themselves otherwise
//! (the tracker's webhook, with its secret) are the only exception.

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use url::Url;

use super::{session::Visitor, tokens};
use crate::{error::AppError, http::MAX_BODY_BYTES, state::AppState};

/// Paths that authenticate by a secret instead of a session: the tracker's
/// webhook, and the partner API (a bearer token; it never reads cookies).
const EXEMPT_PREFIXES: &[&str] = &["/webhooks/", "/api/v1/partner/"];

pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || EXEMPT_PREFIXES
            .iter()
            .any(|p| req.uri().path().starts_with(p))
    {
        return next.run(req).await;
    }
    if let Err(why) = check_origin(req.headers(), &state.config.public_url) {
        tracing::warn!(reason = why, "refused a cross-site request");
        return AppError::Forbidden(why).into_response();
    }
    let Some(expected) = req
        .extensions()
        .get::<Visitor>()
        .and_then(Visitor::expected_csrf)
    else {
        return AppError::Forbidden("no CSRF token for this visitor").into_response();
    };

    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(e) if is_too_large(&e) => {
            return crate::views::ErrorPage::for_status(StatusCode::PAYLOAD_TOO_LARGE)
                .into_response();
        }
        Err(_) => return AppError::BadRequest("unreadable body".into()).into_response(),
    };
    let submitted = match header_token(&parts.headers) {
        Some(t) => Some(t),
        None => body_token(&parts.headers, &bytes).await,
    };
    match submitted {
        Some(token) if tokens::same(&token, &expected) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => {
            tracing::warn!("refused a request without a valid CSRF token");
            AppError::Forbidden("missing or wrong CSRF token").into_response()
        }
    }
}

fn is_too_large(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// The request must come from a page of this site when the browser says
/// where it comes from (`Origin`, `Sec-Fetch-Site`).
fn check_origin(headers: &HeaderMap, public_url: &Url) -> Result<(), &'static str> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err("cross-site request (Sec-Fetch-Site)");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let expected = public_url.origin().ascii_serialization();
    let host_origin = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|host| format!("{}://{host}", public_url.scheme()));
    if origin == expected || Some(origin) == host_origin.as_deref() {
        Ok(())
    } else {
        Err("request from another origin")
    }
}

fn header_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn body_token(headers: &HeaderMap, body: &Bytes) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return url::form_urlencoded::parse(body)
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.into_owned());
    }
    if content_type.starts_with("multipart/form-data") {
        let boundary = multer::parse_boundary(content_type).ok()?;
        let stream =
            futures_util::stream::once(std::future::ready(Ok::<_, std::io::Error>(body.clone())));
        let mut multipart = multer::Multipart::new(stream, boundary);
        while let Ok(Some(field)) = multipart.next_field().await {
            if field.name() == Some("csrf_token") {
                return field.text().await.ok();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origin_must_be_this_site() {
        let url = Url::parse("https://partners.example.com").unwrap();
        assert!(check_origin(&headers(&[]), &url).is_ok());
        assert!(
            check_origin(
                &headers(&[("origin", "https://partners.example.com")]),
                &url
            )
            .is_ok()
        );
        assert!(check_origin(&headers(&[("origin", "https://evil.example")]), &url).is_err());
        assert!(check_origin(&headers(&[("sec-fetch-site", "cross-site")]), &url).is_err());
        assert!(check_origin(&headers(&[("sec-fetch-site", "same-site")]), &url).is_err());
        assert!(check_origin(&headers(&[("sec-fetch-site", "same-origin")]), &url).is_ok());
    }
}
