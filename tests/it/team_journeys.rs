//! Browser journeys of the team and the audit log: an owner manages the
//! team and reads the organisation's activity, an invitee opens the link
//! signed out, a staff member reads the whole log. Screenshots and axe-core
//! checks as in `journeys`.

use partner_portal::accounts::{staff::StaffRole, totp};

use crate::{
    browser::Browser,
    fixtures,
    helpers::{PASSWORD, TestApp, spawn_app},
};

async fn invitation_link(app: &TestApp, email: &str) -> String {
    app.emails_to(email)
        .await
        .into_iter()
        .rev()
        .find(|e| e.text.contains("/invitations/accept"))
        .expect("an invitation")
        .link("/invitations/accept")
}

async fn sign_in(browser: &Browser, email: &str) {
    browser.goto("/login").await;
    browser.fill("Email address", email).await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Sign in").await;
}

#[tokio::test]
async fn team_and_activity_in_a_browser() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    ada.get("/team").await;
    for (email, role) in [("bob@acme.test", "admin"), ("carl@acme.test", "member")] {
        ada.post("/team/invitations", &[("email", email), ("role", role)])
            .await
            .assert_redirect("/team");
    }
    let link = invitation_link(&app, "bob@acme.test").await;
    let bob = app.partner_user("Bob Builder", "bob@acme.test").await;
    bob.get(&link).await;
    bob.post(
        "/invitations/accept",
        &[("token", link.split_once("token=").unwrap().1)],
    )
    .await
    .assert_redirect("/dashboard");

    let browser = Browser::launch(&app.address).await;
    let carl_link = invitation_link(&app, "carl@acme.test").await;
    browser.goto(&carl_link).await;
    browser.assert_text_contains("Join Acme Corp").await;
    browser.screenshot("invitation-signed-out").await;
    browser.assert_accessible("invitation-signed-out").await;

    sign_in(&browser, "ada@acme.test").await;
    browser.goto("/team").await;
    browser.assert_text_contains("Invitations waiting").await;
    browser.fill("Email address", "dan@acme.test").await;
    browser.click_button("Send invitation").await;
    browser
        .assert_text_contains("Invitation sent to dan@acme.test as a member")
        .await;
    browser.screenshot("team").await;
    browser.assert_accessible("team").await;

    browser.goto("/audit").await;
    browser.assert_text_contains("Activity of Acme Corp").await;
    browser.assert_text_contains("Invitation accepted").await;
    browser.screenshot("audit-partner").await;
    browser.assert_accessible("audit-partner").await;
    browser.click_button("Sign out").await;

    let secret = app
        .staff_account("rita@vendor.test", StaffRole::Reviewer)
        .await;
    sign_in(&browser, "rita@vendor.test").await;
    let code = totp::current_code(&secret, app.clock.now()).unwrap();
    browser.fill("6-digit code", &code).await;
    browser.click_button("Turn on two-factor sign-in").await;
    browser.click_link("I have saved them — continue").await;
    browser.assert_text_contains("Audit log").await;
    browser.goto("/admin/audit").await;
    browser.fill("Organisation", "acme").await;
    browser.click_button("Filter").await;
    browser
        .assert_text_contains("Showing the entries of Acme Corp")
        .await;
    browser.screenshot("admin-audit").await;
    browser.assert_accessible("admin-audit").await;
}
