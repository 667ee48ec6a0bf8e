//! Journey 4 in a browser: an approved partner registers a namespace, staff
//! verify it, the partner lists a component and requests the directory
//! listing, staff approve it, and a visitor finds the partner, its badged
//! component and its namespace in the public directory. Every page is
//! screenshotted and checked with axe-core.

use partner_portal::accounts::{staff::StaffRole, totp};

use crate::{
    browser::Browser,
    fixtures::approved_partner,
    helpers::{PASSWORD, TestApp, spawn_app},
};

const OWNER: &str = "ada@acme.test";
const NAMESPACE: &str = "https://gitlab.com/acme-corp";

async fn sign_in(b: &Browser, email: &str) {
    b.goto("/login").await;
    b.fill("Email address", email).await;
    b.fill("Password", PASSWORD).await;
    b.click_button("Sign in").await;
}

/// A staff member enrolled in two-factor sign-in, signed in with a fresh code.
pub async fn sign_in_staff(app: &TestApp, b: &Browser, email: &str, role: StaffRole) {
    app.staff_user(email, role).await;
    let secret = app.totp_secret_of(email).await;
    sign_in(b, email).await;
    // A code can be used once: move to the next 30-second step.
    app.clock.advance(chrono::Duration::seconds(31));
    let code = totp::current_code(&secret, app.clock.now()).unwrap();
    b.fill("Code", &code).await;
    b.click_button("Sign in").await;
    b.assert_path("/admin").await;
}

#[tokio::test]
async fn a_namespace_is_verified_and_the_partner_is_listed_in_a_browser() {
    let app = spawn_app().await;
    approved_partner(&app, "Acme Corp", OWNER).await;

    // The partner registers its namespace.
    {
        let b = Browser::launch(&app.address).await;
        sign_in(&b, OWNER).await;
        b.click_link("Namespaces and components").await;
        b.assert_path("/namespaces").await;
        b.assert_text_contains("No namespace registered yet. Register the address")
            .await;
        b.screenshot("namespaces-empty").await;
        b.assert_accessible("namespaces, none yet").await;
        b.fill("Namespace address", "https://GitLab.com/Acme-Corp/")
            .await;
        b.click_button("Register").await;
        b.assert_text_contains(&format!("{NAMESPACE} is registered."))
            .await;
        b.assert_text_contains("Waiting for verification").await;
        b.screenshot("namespaces").await;
        b.assert_accessible("namespaces with one pending").await;
    }

    // Staff verify it.
    {
        let b = Browser::launch(&app.address).await;
        sign_in_staff(&app, &b, "rita@portal.test", StaffRole::Reviewer).await;
        b.goto("/admin/namespaces").await;
        b.assert_text_contains("1 namespace waiting, oldest first.")
            .await;
        b.screenshot("staff-namespaces").await;
        b.assert_accessible("staff namespaces queue").await;
        b.click_link(NAMESPACE).await;
        b.screenshot("staff-namespace").await;
        b.assert_accessible("staff namespace decision").await;
        b.click_button(&format!("Verify {NAMESPACE}")).await;
        b.assert_text_contains(&format!(
            "{NAMESPACE} is verified. The partner's admins were emailed."
        ))
        .await;
    }
    assert!(
        app.last_email_to(OWNER).await.subject.contains("verified"),
        "the partner is told"
    );

    // The partner lists a component under it and requests the listing.
    {
        let b = Browser::launch(&app.address).await;
        sign_in(&b, OWNER).await;
        b.goto("/namespaces").await;
        b.click_link(NAMESPACE).await;
        b.assert_text_contains("No component listed yet.").await;
        b.fill("Project path", "acme-corp/components/sast").await;
        b.fill("Name", "Acme SAST").await;
        b.fill(
            "Description (optional)",
            "Scans every merge request for vulnerabilities.",
        )
        .await;
        b.fill("Latest version (optional)", "1.4.0").await;
        b.click_button("List the component").await;
        b.assert_text_contains("Acme SAST is listed with the partner badge.")
            .await;
        b.screenshot("namespace").await;
        b.assert_accessible("namespace with a component").await;

        b.goto("/listing").await;
        b.assert_text_contains("You are not listed in the directory yet.")
            .await;
        b.screenshot("listing-form").await;
        b.assert_accessible("listing form").await;
        b.fill("Name in the directory", "Acme Corp").await;
        b.fill(
            "Short description",
            "Acme scans merge requests for vulnerabilities.",
        )
        .await;
        b.fill(
            "Description",
            "Runs in every pipeline.\n\nFindings appear in the merge request.",
        )
        .await;
        b.tick("Verify").await;
        b.tick("Secure").await;
        b.fill("Company website", "https://acme.example.com").await;
        b.fill(
            "Public documentation of the integration",
            "https://docs.acme.example.com/gitlab",
        )
        .await;
        b.fill("Benefits", "Ship safer code without leaving the platform.")
            .await;
        b.fill(
            "Use cases",
            "Business: audit readiness. Technical: SAST in CI.",
        )
        .await;
        b.click_button("Request the listing").await;
        b.assert_text_contains("Your listing was sent for review.")
            .await;
        b.screenshot("listing-pending").await;
        b.assert_accessible("listing waiting for review").await;
    }

    // Staff approve the listing.
    {
        let b = Browser::launch(&app.address).await;
        sign_in_staff(&app, &b, "sam@portal.test", StaffRole::Reviewer).await;
        b.goto("/admin/listings").await;
        b.assert_text_contains("1 submission waiting, oldest first.")
            .await;
        b.screenshot("staff-listings").await;
        b.assert_accessible("staff listings queue").await;
        b.click_link("Acme Corp").await;
        b.screenshot("staff-listing").await;
        b.assert_accessible("staff listing review").await;
        b.click_button("Approve and publish").await;
        b.assert_text_contains("The listing of Acme Corp is approved.")
            .await;
    }

    // Anyone finds Acme in the directory, with its badged component.
    let b = Browser::launch(&app.address).await;
    b.goto("/partners").await;
    // The directory is a snapshot refreshed on change: the text arrives.
    b.assert_text_contains("Acme scans merge requests for vulnerabilities.")
        .await;
    b.assert_text_contains("1 partner component").await;
    b.screenshot("directory").await;
    b.assert_accessible("directory").await;
    b.click_link("Acme Corp").await;
    b.assert_text_contains("Acme SAST").await;
    b.assert_text_contains("acme-corp/components/sast · version 1.4.0")
        .await;
    b.assert_text_contains(NAMESPACE).await;
    b.screenshot("directory-partner").await;
    b.assert_accessible("partner page in the directory").await;
}
