//! The licenses journey in a browser: an approved partner requests SaaS for
//! 5 users (issued at once) and Self-Managed for 25 (waiting); staff approve
//! it, then reduce it to 15 after an audit; the partner renews SaaS inside
//! the renewal window. Every step's email arrives; every page is
//! screenshotted and checked with axe-core.

use partner_portal::accounts::{staff::StaffRole, totp};

use super::*;
use crate::{
    browser::Browser,
    fixtures::approved_partner,
    helpers::{PASSWORD, spawn_app},
};

const TERMS: &str = "I have read the NFR terms: the licenses are for the purposes above only, never in a customer environment, for managed services or in production.";

async fn sign_in(b: &Browser, email: &str) {
    b.goto("/login").await;
    b.fill("Email address", email).await;
    b.fill("Password", PASSWORD).await;
    b.click_button("Sign in").await;
}

async fn latest(app: &TestApp, subject: &str) -> String {
    let email = app.last_email_to(OWNER).await;
    assert!(
        email.subject.contains(subject),
        "expected {subject:?}, got {:?}",
        email.subject
    );
    email.text
}

#[tokio::test]
async fn a_partner_requests_staff_decide_and_the_partner_renews_in_a_browser() {
    let app = spawn_app().await;
    approved_partner(&app, "Acme Corp", OWNER).await;
    let saas_id;
    {
        let b = Browser::launch(&app.address).await;
        sign_in(&b, OWNER).await;
        b.assert_path("/dashboard").await;
        b.click_link("NFR licenses No active license").await;
        b.assert_path("/licenses").await;
        b.screenshot("licenses").await;
        b.assert_accessible("licenses and request form").await;

        b.click_button("Request licenses").await;
        b.assert_text_contains("Please correct these").await;
        b.screenshot("licenses-errors").await;
        b.assert_accessible("request form with errors").await;

        b.tick("SaaS").await;
        b.fill("Number of users", "5").await;
        b.tick("Integration testing").await;
        b.tick(TERMS).await;
        b.click_button("Request licenses").await;
        b.assert_text_contains("Your SaaS license is issued.").await;
        b.assert_text_contains("NFR-").await;
        b.screenshot("license-issued").await;
        b.assert_accessible("issued license").await;
        latest(&app, "Your SaaS NFR license is ready").await;
        saas_id = licenses(&app).await[0].id;

        b.goto("/licenses").await;
        b.tick("Self-Managed").await;
        b.fill("Number of users", "25").await;
        b.tick("Internal training").await;
        b.tick("Product demonstrations to prospects").await;
        b.fill("Justification (for more than 10 users)", JUSTIFICATION)
            .await;
        b.tick(TERMS).await;
        b.click_button("Request licenses").await;
        b.assert_text_contains("waiting for a decision by the alliance team")
            .await;
        b.screenshot("license-pending").await;
        b.assert_accessible("license waiting for review").await;
        latest(
            &app,
            "Your Self-Managed NFR license request is waiting for review",
        )
        .await;
    }

    // Enrolled in two-factor sign-in already (the accounts journey shows how).
    app.staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;
    let secret = app.totp_secret_of("rita@portal.test").await;
    {
        let b = Browser::launch(&app.address).await;
        sign_in(&b, "rita@portal.test").await;
        app.clock.advance(Duration::seconds(31));
        b.fill(
            "Code",
            &totp::current_code(&secret, app.clock.now()).unwrap(),
        )
        .await;
        b.click_button("Sign in").await;
        b.assert_path("/admin").await;
        b.assert_text_contains("1 request is waiting for a decision.")
            .await;
        b.goto("/admin/licenses").await;
        b.screenshot("staff-licenses").await;
        b.assert_accessible("staff licenses").await;
        b.click_link("Acme Corp").await;
        b.assert_text_contains(JUSTIFICATION).await;
        b.screenshot("staff-license-pending").await;
        b.assert_accessible("staff license decision").await;
        b.click_button("Approve for 25 users").await;
        b.assert_text_contains("license approved until").await;
        latest(&app, "Your Self-Managed NFR license is ready").await;

        b.fill("New number of users", "15").await;
        b.fill("#reduce-reason", "Audit found 15 active users.")
            .await;
        b.click_button("Reduce users").await;
        b.assert_text_contains("Reduced to 15 users").await;
        b.screenshot("staff-license").await;
        b.assert_accessible("staff license after reduction").await;
        let text = latest(&app, "Your Self-Managed NFR license now has 15 users").await;
        assert!(text.contains("Audit found 15 active users."));
    }

    let expires = license(&app, saas_id).await.expires_at.unwrap();
    app.clock.advance(expires - days(30) - app.clock.now());
    {
        let b = Browser::launch(&app.address).await;
        sign_in(&b, OWNER).await;
        b.goto(&format!("/licenses/{saas_id}")).await;
        b.assert_text_contains("The new term runs from").await;
        b.screenshot("license-renewal").await;
        b.assert_accessible("license renewal").await;
        b.click_button("Renew for 12 months").await;
        b.assert_text_contains("Renewed for 12 more months.").await;
        latest(&app, "Your SaaS NFR license is renewed until").await;
    }
    assert_eq!(
        license(&app, saas_id).await.expires_at,
        expires.checked_add_months(chrono::Months::new(12))
    );
}
