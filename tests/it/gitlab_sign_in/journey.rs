//! In a browser: an approved partner's owner who linked GitLab signs in
//! with it, registers the group she owns on GitLab and sees it verified at
//! once; then someone with her address but another GitLab account is
//! turned away. Every page is screenshotted and checked with axe-core.

use partner_portal::accounts::staff::StaffRole;

use super::*;
use crate::{browser::Browser, fixtures, listings::journey::sign_in_staff};

#[tokio::test]
async fn sign_in_with_gitlab_and_register_a_namespace_that_is_verified_at_once() {
    let (double, app) = setup().await;
    let (agent, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    double.sign_in_as(Some(&ada()));
    via_gitlab(&agent, "/auth/gitlab").await;
    agent.get("/account").await;
    agent.post("/logout", &[]).await;

    let b = Browser::launch(&app.address).await;
    b.goto("/signup").await;
    b.assert_text_contains("Sign up with GitLab").await;
    b.screenshot("gitlab-signup").await;
    b.assert_accessible("sign-up with the GitLab button").await;
    b.goto("/login").await;
    b.screenshot("gitlab-login").await;
    b.assert_accessible("sign-in with the GitLab button").await;

    b.click_link("Sign in with GitLab").await;
    b.assert_path("/dashboard").await;
    b.screenshot("gitlab-dashboard").await;
    b.assert_accessible("dashboard after signing in with GitLab")
        .await;

    b.goto("/namespaces").await;
    b.fill("Namespace address", "https://gitlab.com/acme-corp")
        .await;
    b.click_button("Register").await;
    b.assert_path("/namespaces").await;
    b.assert_text_contains("is verified: @ada is an Owner of the group")
        .await;
    b.assert_text_contains("ownership proven by @ada on").await;
    b.screenshot("gitlab-namespace-proven").await;
    b.assert_accessible("namespace verified by proof").await;

    b.goto("/account").await;
    b.assert_text_contains("Linked to the GitLab account @ada")
        .await;
    b.screenshot("gitlab-account").await;
    b.assert_accessible("account with GitLab linked").await;
    b.click_button("Sign out").await;

    // Someone else's GitLab account with Ada's address opens nothing.
    double.sign_in_as(Some(&GitLabUser::new(666, "mallory", "ada@acme.test")));
    b.goto("/login").await;
    b.click_link("Sign in with GitLab").await;
    b.assert_text_contains("An account with this email address already exists")
        .await;
    b.screenshot("gitlab-takeover-refused").await;
    b.assert_accessible("takeover refused").await;
    b.goto("/dashboard").await;
    b.assert_path("/login").await;
    drop(b);

    // The alliance team sees the proof, and how to take it back.
    let s = Browser::launch(&app.address).await;
    sign_in_staff(&app, &s, "sam@portal.test", StaffRole::Reviewer).await;
    let id = crate::namespaces::namespace_id(&app, "https://gitlab.com/acme-corp").await;
    s.goto(&format!("/admin/namespaces/{id}")).await;
    s.assert_text_contains("Ownership proven by @ada (GitLab user 4242)")
        .await;
    s.assert_text_contains("Revoke the verification").await;
    s.screenshot("gitlab-staff-proof").await;
    s.assert_accessible("staff view of a proven namespace")
        .await;
}
