//! Another organisation's listing is not reachable by any route.

use reqwest::StatusCode;

use super::{fields, latest_version, ready_partner, submit, tiny_png};
use crate::helpers::spawn_app;

#[tokio::test]
async fn another_partners_listing_and_logo_are_never_shown() {
    let app = spawn_app().await;
    let (ada, acme, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    let (bo, _, _) = ready_partner(
        &app,
        "Beta Systems",
        "bo@beta.test",
        "https://gitlab.com/beta",
    )
    .await;
    submit(
        &ada,
        &fields("Acme Secret Product"),
        &[("logo", "a.png", "image/png", tiny_png())],
    )
    .await
    .assert_redirect("/listing");
    let version = latest_version(&app, acme).await;

    let page = bo.get("/listing").await;
    assert!(!page.body.contains("Acme Secret Product"));
    assert!(!page.body.contains("/listing/logo"), "Beta has no logo");
    assert_eq!(bo.get("/listing/logo").await.status, StatusCode::NOT_FOUND);
    for path in [
        format!("/admin/listings/{version}"),
        format!("/admin/listings/{version}/logo"),
        "/admin/listings".to_owned(),
    ] {
        assert_eq!(bo.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    for path in [
        format!("/admin/listings/{version}/approve"),
        format!("/admin/listings/{version}/reject"),
    ] {
        assert_eq!(
            bo.post(&path, &[("reason", "mine now")]).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let state: String = sqlx::query_scalar("select state from listing_versions where id = $1")
        .bind(version)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(state, "submitted");
    assert_eq!(app.get("/partners").await.status(), StatusCode::OK);
    assert!(
        !app.get("/partners")
            .await
            .text()
            .await
            .unwrap()
            .contains("Acme Secret Product"),
        "not public before approval"
    );
}
