//! Every kind of response carries the security headers; errors get friendly
//! pages; a panicking handler does not take the server down.

use axum::{
    Router,
    routing::{get, post},
};
use reqwest::{StatusCode, header};

use crate::helpers::{Spawn, TestApp, spawn_app, spawn_app_with};

fn test_routes() -> Router<partner_portal::state::AppState> {
    Router::new().route("/__test/panic", get(panicking)).route(
        "/__test/echo",
        post(|body: String| async move { body.len().to_string() }),
    )
}

async fn panicking() -> &'static str {
    panic!("boom from a test route")
}

async fn app_with_test_routes() -> TestApp {
    spawn_app_with(Spawn {
        extra_routes: test_routes(),
        ..Spawn::default()
    })
    .await
}

fn assert_security_headers(res: &reqwest::Response, what: &str) {
    let h = res.headers();
    let csp = h
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(
        h.get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.as_bytes()),
        Some(&b"nosniff"[..]),
        "{what}"
    );
    assert!(h.get(header::REFERRER_POLICY).is_some(), "{what}");
    assert_eq!(
        h.get(header::X_FRAME_OPTIONS).map(|v| v.as_bytes()),
        Some(&b"DENY"[..]),
        "{what}"
    );
    assert!(h.get("x-request-id").is_some(), "{what}: request id");
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = app_with_test_routes().await;

    let page = app.get("/").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_security_headers(&page, "landing page");
    let html = page.text().await.unwrap();
    let css = html
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|u| u.ends_with(".css")))
        .unwrap();

    let asset = app.get(css).await;
    assert_eq!(asset.status(), StatusCode::OK);
    assert_security_headers(&asset, "static file");
    assert!(
        asset.headers()[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );

    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_security_headers(&missing, "404");
    assert!(missing.text().await.unwrap().contains("Page not found"));

    let panic = app.get("/__test/panic").await;
    assert_eq!(panic.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_security_headers(&panic, "500 from a panic");
    let body = panic.text().await.unwrap();
    assert!(body.contains("Something went wrong on our side"));
    assert!(!body.contains("boom"), "the panic message is not shown");

    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_security_headers(&health, "healthz");

    let agent = app.agent();
    let token = crate::agent::csrf_in(&agent.get("/signup").await.body).unwrap();
    let wrong_method = agent
        .client
        .post(app.url("/healthz"))
        .header("x-csrf-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_security_headers(&wrong_method, "405");
    assert!(
        wrong_method
            .text()
            .await
            .unwrap()
            .contains("not available here")
    );
}

#[tokio::test]
async fn hsts_is_sent_only_when_the_public_url_is_https() {
    let http = spawn_app().await;
    assert!(
        http.get("/")
            .await
            .headers()
            .get(header::STRICT_TRANSPORT_SECURITY)
            .is_none()
    );

    let https = spawn_app_with(Spawn {
        overrides: &[("PORTAL_PUBLIC_URL", "https://partners.example.com")],
        ..Spawn::default()
    })
    .await;
    let res = https.get("/no/such/page").await;
    assert!(
        res.headers()[header::STRICT_TRANSPORT_SECURITY]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
}

#[tokio::test]
async fn the_server_keeps_serving_after_a_handler_panics() {
    let app = app_with_test_routes().await;
    for _ in 0..3 {
        assert_eq!(
            app.get("/__test/panic").await.status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_a_friendly_page() {
    let app = app_with_test_routes().await;
    let agent = app.agent();
    let page = agent.get("/signup").await;
    let token = crate::agent::csrf_in(&page.body).unwrap();
    let small = agent
        .client
        .post(app.url("/__test/echo"))
        .header("x-csrf-token", &token)
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(small.text().await.unwrap(), "5");

    let big = vec![b'x'; partner_portal::http::MAX_BODY_BYTES + 1];
    let res = agent
        .client
        .post(app.url("/__test/echo"))
        .header("x-csrf-token", &token)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_security_headers(&res, "413");
    assert!(res.text().await.unwrap().contains("too large"));
}

#[tokio::test]
async fn readyz_checks_the_database() {
    let app = spawn_app().await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);

    app.pool.close().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn the_landing_page_is_a_complete_accessible_document() {
    let app = spawn_app().await;
    let res = app.get("/").await;
    assert!(
        res.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("<main id=\"main\""));
    assert!(html.contains("<nav class=\"main-nav\" aria-label=\"Main\">"));
    assert!(html.contains("Skip to main content"));
    assert!(!html.contains("<script>"), "no inline script");
    assert!(!html.contains("style=\""), "no inline style under the CSP");
    assert!(!html.contains("https://"), "no external resources");
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()
            .get(header::CONTENT_ENCODING)
            .map(|v| v.as_bytes()),
        Some(&b"gzip"[..])
    );
}

#[tokio::test]
async fn pages_for_a_signed_in_person_are_never_stored() {
    let app = spawn_app().await;
    let cache_control = |page: &crate::agent::Page| {
        page.headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap().to_owned())
    };

    // Anonymous and no cookie handed out: the public feed stays cacheable.
    let feed = app.agent().get("/api/v1/verified-namespaces").await;
    assert!(!feed.headers.contains_key(header::SET_COOKIE));
    assert_eq!(
        cache_control(&feed).as_deref(),
        Some("public, max-age=60, must-revalidate")
    );
    // Handing out a cookie (the anonymous CSRF token of a form): not stored.
    let signup = app.agent().get("/signup").await;
    assert!(signup.headers.contains_key(header::SET_COOKIE));
    assert_eq!(cache_control(&signup).as_deref(), Some("no-store"));

    let partner = app.partner_user("Ada", "ada@acme.test").await;
    for path in ["/dashboard", "/account", "/"] {
        let page = partner.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(cache_control(&page).as_deref(), Some("no-store"), "{path}");
    }
    // A response that chose its own caching keeps it, signed in or not.
    let html = partner.get("/").await.body;
    let css = html
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|u| u.ends_with(".css")))
        .unwrap();
    let asset = partner.get(css).await;
    assert!(cache_control(&asset).unwrap().contains("immutable"));
    // The directory: one shared page for visitors, revalidated by ETag; a
    // signed-in person's copy carries their own navigation.
    let shared = app.agent().get("/partners").await;
    assert_eq!(cache_control(&shared).as_deref(), Some("no-cache"));
    let own = partner.get("/partners").await;
    assert_eq!(cache_control(&own).as_deref(), Some("no-store"));
}
