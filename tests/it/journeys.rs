//! Browser journeys: a person with headless Chromium on the real portal.
//! Each main page is screenshotted at 1280 and 390 px (into `screenshots/`)
//! and checked with axe-core: no serious or critical violations.

use partner_portal::accounts::{staff::StaffRole, totp};

use crate::{
    browser::Browser,
    helpers::{PASSWORD, spawn_app},
};

#[tokio::test]
async fn landing_page_in_a_browser() {
    let app = spawn_app().await;
    let browser = Browser::launch(&app.address).await;

    browser.goto("/").await;
    browser
        .assert_text_contains("Build your integration with the DevSecOps platform")
        .await;
    browser
        .assert_text_contains("Four steps from application to promotion")
        .await;
    browser.screenshot("landing").await;
    browser.assert_accessible("landing").await;

    browser.click_link("Browse the partner directory").await;
    browser.assert_path("/partners").await;
}

#[tokio::test]
async fn not_found_page_in_a_browser() {
    let app = spawn_app().await;
    let browser = Browser::launch(&app.address).await;

    browser.goto("/no/such/page").await;
    browser.assert_text_contains("Page not found").await;
    browser.screenshot("not-found").await;
    browser.assert_accessible("not-found").await;

    browser.click_link("Go to the home page").await;
    browser.assert_path("/").await;
}

/// Signs in through the pages; staff also enter their current code.
async fn sign_in(
    browser: &Browser,
    email: &str,
    totp_secret: Option<(&str, &crate::helpers::TestApp)>,
) {
    browser.goto("/login").await;
    browser.fill("Email address", email).await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Sign in").await;
    if let Some((secret, app)) = totp_secret {
        // A code can be used once: move to the next 30-second step.
        app.clock.advance(chrono::Duration::seconds(31));
        let code = totp::current_code(secret, app.clock.now()).unwrap();
        browser.fill("Code", &code).await;
        browser.click_button("Sign in").await;
        browser.assert_path("/admin").await;
    } else {
        browser.assert_path("/dashboard").await;
    }
}

/// Journeys 1 and 2: a visitor signs up, follows the emailed link, creates
/// an organisation, fills and submits the application; a staff member signs
/// in with the second factor and requests changes with a reason; the partner
/// fixes and resubmits; staff approve.
#[tokio::test]
async fn a_visitor_applies_and_staff_review_in_a_browser() {
    let app = spawn_app().await;
    {
        let b = Browser::launch(&app.address).await;
        b.goto("/").await;
        b.click_link("Apply to become a partner").await;
        b.screenshot("signup").await;
        b.assert_accessible("signup").await;
        b.click_button("Create account").await;
        b.assert_text_contains("Enter your email address.").await;
        b.screenshot("signup-errors").await;
        b.assert_accessible("signup with errors").await;
        b.fill("Your name", "Ada Lovelace").await;
        b.fill("Work email address", "ada@acme.example").await;
        b.fill("Password", PASSWORD).await;
        b.click_button("Create account").await;
        b.assert_text_contains("Check your email").await;
        b.screenshot("check-email").await;
        b.assert_accessible("check your email").await;

        let link = app
            .last_email_to("ada@acme.example")
            .await
            .link("/verify-email");
        b.goto(&link).await;
        b.assert_text_contains("Your email address is confirmed")
            .await;
        b.screenshot("login").await;
        b.assert_accessible("sign in").await;
        b.fill("Email address", "ada@acme.example").await;
        b.fill("Password", PASSWORD).await;
        b.click_button("Sign in").await;
        b.assert_path("/dashboard").await;
        b.screenshot("dashboard-start").await;
        b.assert_accessible("dashboard before an organisation")
            .await;

        b.click_link("Create your organisation").await;
        b.screenshot("organization-new").await;
        b.assert_accessible("create an organisation").await;
        b.fill("Company name", "Acme Corp").await;
        b.click_button("Create organisation").await;
        b.assert_path("/application").await;
        b.assert_text_contains("Acme Corp is set up").await;
        b.screenshot("application-form").await;
        b.assert_accessible("application form").await;

        b.click_button("Submit application").await;
        b.assert_text_contains("Please correct these").await;
        b.screenshot("application-errors").await;
        b.assert_accessible("application with errors").await;

        b.fill("Website", "acme.example").await;
        b.fill("Headquarters country", "Germany").await;
        b.tick("Technology (ISV) Partner").await;
        b.fill(
            "Short description of the planned integration",
            "A dependency scanner that reports findings into merge requests.",
        )
        .await;
        b.tick("Verify").await;
        b.tick("SaaS").await;
        b.fill("#technical_contact_name", "Linus").await;
        b.fill("#technical_contact_email", "linus@acme.example")
            .await;
        b.tick("I have read and accept the Technology Partner Agreement on behalf of my company")
            .await;
        b.click_button("Submit application").await;
        b.assert_text_contains("Application submitted — we'll email you")
            .await;
        b.screenshot("application-submitted").await;
        b.assert_accessible("submitted application").await;
    }

    let secret = app
        .staff_account("rita@portal.test", StaffRole::Reviewer)
        .await;
    {
        let b = Browser::launch(&app.address).await;
        b.goto("/login").await;
        b.fill("Email address", "rita@portal.test").await;
        b.fill("Password", PASSWORD).await;
        b.click_button("Sign in").await;
        b.assert_text_contains("Set up two-factor sign-in").await;
        b.screenshot("second-factor-enrol").await;
        b.assert_accessible("second factor enrolment").await;
        let code = totp::current_code(&secret, app.clock.now()).unwrap();
        b.fill("6-digit code", &code).await;
        b.click_button("Turn on two-factor sign-in").await;
        b.assert_text_contains("Save your recovery codes").await;
        b.screenshot("recovery-codes").await;
        b.assert_accessible("recovery codes").await;
        b.click_link("I have saved them — continue").await;
        b.assert_path("/admin").await;
        b.screenshot("staff-home").await;
        b.assert_accessible("staff home").await;

        b.goto("/admin/agreements").await;
        b.screenshot("staff-agreements").await;
        b.assert_accessible("agreement versions").await;
        b.goto("/admin/applications").await;
        b.screenshot("staff-applications").await;
        b.assert_accessible("application queue").await;
        b.click_link("Acme Corp").await;
        b.screenshot("staff-application").await;
        b.assert_accessible("application review").await;
        b.click_text("Request changes or reject").await;
        b.fill(
            "What should change",
            "Please say which data the scanner sends.",
        )
        .await;
        b.click_button("Request changes").await;
        b.assert_text_contains("Acme Corp is now changes requested")
            .await;
    }
    assert!(
        app.last_email_to("ada@acme.example")
            .await
            .text
            .contains("Please say which data the scanner sends.")
    );

    {
        let b = Browser::launch(&app.address).await;
        sign_in(&b, "ada@acme.example", None).await;
        b.goto("/application").await;
        b.assert_text_contains("Please say which data the scanner sends.")
            .await;
        b.fill(
            "Short description of the planned integration",
            "A dependency scanner; it sends package names and versions, never source code.",
        )
        .await;
        b.tick("I have read and accept the Technology Partner Agreement on behalf of my company")
            .await;
        b.click_button("Submit application").await;
        b.assert_text_contains("Application submitted").await;
    }
    {
        let b = Browser::launch(&app.address).await;
        sign_in(&b, "rita@portal.test", Some((&secret, &app))).await;
        b.goto("/admin/applications").await;
        b.click_link("Acme Corp").await;
        b.fill("Note to the partner", "Welcome to the program!")
            .await;
        b.click_button("Approve").await;
        b.assert_text_contains("Acme Corp is now approved").await;
    }
    {
        let b = Browser::launch(&app.address).await;
        sign_in(&b, "ada@acme.example", None).await;
        b.assert_text_contains("1 of 4 steps done").await;
        b.screenshot("dashboard-approved").await;
        b.assert_accessible("dashboard of an approved partner")
            .await;
        b.goto("/agreement").await;
        b.screenshot("agreement").await;
        b.assert_accessible("the agreement").await;
        b.goto("/account").await;
        b.screenshot("account").await;
        b.assert_accessible("account and sessions").await;
    }
}
