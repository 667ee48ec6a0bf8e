//! Another organisation's license is not found, by any route.

use reqwest::StatusCode;

use super::*;
use crate::{fixtures::approved_partner, helpers::spawn_app};

#[tokio::test]
async fn another_tenants_license_is_a_404_everywhere() {
    let app = spawn_app().await;
    let (acme, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let (globex, _) = approved_partner(&app, "Globex", "hank@globex.test").await;
    let id = requested(&acme, "saas", 5).await;
    let key = license(&app, id).await.license_key.unwrap();
    // Inside the renewal window, so only tenancy can refuse it.
    sqlx::query("update licenses set expires_at = $2 + interval '10 days' where id = $1")
        .bind(id)
        .bind(app.clock.now())
        .execute(&app.pool)
        .await
        .unwrap();

    assert_eq!(
        globex.get(&format!("/licenses/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    globex.get("/licenses").await;
    let renew = globex
        .post(&format!("/licenses/{id}/renew"), &[("users", "5")])
        .await;
    assert_eq!(renew.status, StatusCode::NOT_FOUND);
    let list = globex.get("/licenses").await;
    assert!(!list.body.contains(&format!("/licenses/{id}\"")) && !list.body.contains(&key));
    let dashboard = globex.get("/dashboard").await;
    assert!(dashboard.body.contains("No active license"));

    assert!(license(&app, id).await.expires_at.unwrap() - app.clock.now() < days(11));
    let terms: i64 = sqlx::query_scalar("select count(*) from license_terms where license_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(terms, 1);
    assert!(subjects(&app, "hank@globex.test", "NFR").await.is_empty());
}

#[tokio::test]
async fn unknown_licenses_are_a_404() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    assert_eq!(
        agent.get("/licenses/999999").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        agent.get("/licenses/not-a-number").await.status,
        StatusCode::BAD_REQUEST
    );
    let staff = staff(&app).await;
    assert_eq!(
        staff.get("/admin/licenses/999999").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_dashboard_shows_active_licenses_and_the_nearest_expiry() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "saas", 5).await;
    requested(&agent, "self_managed", 20).await;
    let expires = license(&app, id).await.expires_at.unwrap();

    let page = agent.get("/dashboard").await;

    let expected = format!(
        "1 active · 1 waiting for review · next {}",
        partner_portal::dates::expires_phrase(app.clock.now(), expires)
    );
    assert!(page.body.contains(&expected), "{}", page.snippet());
}
