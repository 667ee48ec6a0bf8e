//! Browser journeys of the team and the audit log. Journey 3: an admin
//! invites a teammate on the team page; the teammate, new to the portal,
//! opens the emailed link, creates an account, confirms the address, signs
//! in, comes back to the invitation and joins; the admin sees them on the
//! team and in the organisation's activity; a staff member reads the whole
//! log. Screenshots and axe-core checks as in `journeys`.

use partner_portal::accounts::{staff::StaffRole, totp};

use crate::{
    browser::Browser,
    fixtures,
    helpers::{PASSWORD, TestApp, spawn_app},
};

const ADMIN_ROLE: &str = "Admin: also edits the application and listing, manages the team, requests licenses and registers namespaces";

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
async fn a_new_teammate_accepts_an_invitation_in_a_browser() {
    let app = spawn_app().await;
    fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;

    // The owner invites Bob, who has no account yet, as an admin.
    {
        let b = Browser::launch(&app.address).await;
        sign_in(&b, "ada@acme.test").await;
        b.click_link("Team").await;
        b.assert_path("/team").await;
        b.fill("Email address", "bob@acme.test").await;
        b.tick(ADMIN_ROLE).await;
        b.click_button("Send invitation").await;
        b.assert_text_contains("Invitation sent to bob@acme.test as an admin")
            .await;
        b.assert_text_contains("Invitations waiting 1").await;
        b.screenshot("team").await;
        b.assert_accessible("team").await;
    }

    // Bob opens the link from the email, signed out.
    let link = invitation_link(&app, "bob@acme.test").await;
    {
        let b = Browser::launch(&app.address).await;
        b.goto(&link).await;
        b.assert_text_contains("Join Acme Corp").await;
        b.assert_text_contains("The invitation was sent to bob@acme.test")
            .await;
        b.screenshot("invitation-signed-out").await;
        b.assert_accessible("invitation, signed out").await;

        b.click_link("Create an account").await;
        b.assert_path("/signup").await;
        b.assert_text_contains("come back to your invitation").await;
        assert_eq!(
            b.field_value("Work email address").await,
            "bob@acme.test",
            "the invited address is filled in"
        );
        b.screenshot("signup-invited").await;
        b.assert_accessible("sign-up from an invitation").await;
        b.fill("Your name", "Bob Builder").await;
        b.fill("Password", PASSWORD).await;
        b.click_button("Create account").await;
        b.assert_text_contains("Check your email").await;

        let verify = app
            .last_email_to("bob@acme.test")
            .await
            .link("/verify-email");
        b.goto(&verify).await;
        b.assert_path("/login").await;
        b.assert_text_contains("Your email address is confirmed. Sign in to continue.")
            .await;
        assert_eq!(b.field_value("Email address").await, "bob@acme.test");
        b.screenshot("login-confirmed").await;
        b.assert_accessible("sign-in after confirming").await;
        b.fill("Password", PASSWORD).await;
        b.click_button("Sign in").await;

        b.assert_path("/invitations/accept").await;
        b.assert_text_contains(
            "You are invited to join Acme Corp on the Alliance Partner Portal as an admin",
        )
        .await;
        b.screenshot("invitation-ready").await;
        b.assert_accessible("invitation, signed in").await;
        b.click_button("Join Acme Corp").await;
        b.assert_path("/dashboard").await;
        b.assert_text_contains("Welcome to Acme Corp! You joined the team as an admin.")
            .await;
        b.screenshot("dashboard-joined").await;
        b.assert_accessible("dashboard after joining").await;

        // The link is used up.
        b.goto(&link).await;
        b.assert_text_contains("You are already a member of Acme Corp")
            .await;
    }

    // The owner sees Bob on the team and in the activity.
    {
        let b = Browser::launch(&app.address).await;
        sign_in(&b, "ada@acme.test").await;
        b.goto("/team").await;
        b.assert_text_contains("Bob Builder").await;
        b.assert_text_contains("Members 2").await;
        b.assert_text_contains("No invitations are waiting for an answer.")
            .await;
        b.screenshot("team-joined").await;
        b.assert_accessible("team with the new member").await;

        b.goto("/audit").await;
        b.assert_text_contains("Activity of Acme Corp").await;
        b.assert_text_contains("Invitation accepted").await;
        b.screenshot("audit-partner").await;
        b.assert_accessible("audit-partner").await;
    }
    assert!(
        app.last_email_to("ada@acme.test")
            .await
            .text
            .contains("Bob Builder"),
        "the owner is told who joined"
    );

    // A staff member reads the whole log, filtered to the organisation.
    let secret = app
        .staff_account("rita@vendor.test", StaffRole::Reviewer)
        .await;
    let b = Browser::launch(&app.address).await;
    sign_in(&b, "rita@vendor.test").await;
    let code = totp::current_code(&secret, app.clock.now()).unwrap();
    b.fill("6-digit code", &code).await;
    b.click_button("Turn on two-factor sign-in").await;
    b.click_link("I have saved them — continue").await;
    b.assert_text_contains("Audit log").await;
    b.goto("/admin/audit").await;
    b.fill("Organisation", "acme").await;
    b.click_button("Filter").await;
    b.assert_text_contains("Showing the entries of Acme Corp")
        .await;
    b.screenshot("admin-audit").await;
    b.assert_accessible("admin-audit").await;
}
