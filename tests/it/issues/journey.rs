//! Journey 6 in a browser: an issue arrives by webhook, the partner reads
//! it, previews and posts an update, which reaches GitLab as a note; the
//! customer answers on GitLab and the comment shows in the thread; then
//! the alliance team finds it in the staff list by the partner's name,
//! raises its severity, and walks the other issue pages. Every page is
//! screenshotted and checked with axe-core.

use partner_portal::accounts::staff::StaffRole;
use serde_json::json;

use super::support::*;
use crate::{
    browser::Browser,
    gitlab::{API_TOKEN, GitLabDouble},
    helpers::{PASSWORD, Spawn, spawn_app_with},
    listings::journey::sign_in_staff,
};

#[tokio::test]
async fn an_issue_arrives_by_webhook_and_the_partner_answers_in_a_browser() {
    let double = GitLabDouble::start().await;
    let app = spawn_app_with(Spawn {
        overrides: &[
            ("PORTAL_GITLAB_WEBHOOK_TOKEN", TOKEN),
            ("PORTAL_GITLAB_URL", &double.url),
            ("PORTAL_GITLAB_API_TOKEN", API_TOKEN),
        ],
        ..Spawn::default()
    })
    .await;
    partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    assert!(
        app.last_email_to("ada@acme.test")
            .await
            .text
            .contains(&format!("/issues/{issue}"))
    );

    let b = Browser::launch(&app.address).await;
    b.goto("/login").await;
    b.fill("Email address", "ada@acme.test").await;
    b.fill("Password", PASSWORD).await;
    b.click_button("Sign in").await;
    b.assert_path("/dashboard").await;
    b.goto("/issues").await;
    b.assert_text_contains("Runner registration fails behind an HTTP proxy")
        .await;
    b.assert_text_contains("On track").await;
    b.screenshot("issues").await;
    b.assert_accessible("issues list").await;

    b.click_link("Runner registration fails behind an HTTP proxy")
        .await;
    b.assert_path(&format!("/issues/{issue}")).await;
    b.assert_text_contains("Post an update").await;
    b.screenshot("issue").await;
    b.assert_accessible("issue detail").await;
    b.fill(
        "Your update",
        "Reproduced with a proxy; a fix ships in **2.3.1** on Friday.\n\n| Runner | Status |\n|---|---|\n| 17.5 | fixed |",
    )
    .await;
    b.click_button("Preview").await;
    b.assert_text_contains("Preview").await;
    b.screenshot("issue-update-preview").await;
    b.assert_accessible("update preview").await;
    b.click_button("Post update").await;
    b.assert_text_contains("Reproduced with a proxy; a fix ships in 2.3.1 on Friday.")
        .await;
    b.assert_text_contains("Waiting to be posted to GitLab")
        .await;
    // The worker posts it; the customer answers on GitLab.
    partner_portal::calls::worker(&app.state)
        .deliver_once()
        .await
        .unwrap();
    let notes = double.notes("acme-corp/integrations/runner-component", 17);
    assert_eq!(notes.len(), 1);
    let answer = with(
        with(
            with(
                fixture("note_event"),
                "/object_attributes/note",
                json!(
                    "Thanks! I can confirm `2.3.1-rc1` works behind our proxy:\n\n```\nRegistering runner... succeeded\n```\n\n- [x] registration\n- [ ] jobs"
                ),
            ),
            "/object_attributes/created_at",
            gitlab_time(whole_seconds(app.clock.now())),
        ),
        "/object_attributes/id",
        json!(2_208_431_999_i64),
    );
    let res = app
        .client
        .post(app.url("/webhooks/gitlab"))
        .header("X-Gitlab-Token", TOKEN)
        .header("X-Gitlab-Event", "Note Hook")
        .json(&answer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::ACCEPTED);
    apply(&app).await;
    b.goto(&format!("/issues/{issue}")).await;
    b.assert_text_contains("Posted to GitLab").await;
    b.assert_text_contains("I can confirm").await;
    b.assert_text_contains("commented on GitLab").await;
    b.screenshot("issue-updated").await;
    b.assert_accessible("issue with an update and a comment")
        .await;
    b.goto("/integrations").await;
    b.screenshot("integrations").await;
    b.assert_accessible("integrations").await;
    let first_response: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select first_response_at from issues where id = $1")
            .bind(issue)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(
        first_response.is_some(),
        "the first update stops the awaiting-response clock"
    );
    b.goto("/issues").await;
    b.click_link("Subscribe to your deadlines in a calendar app")
        .await;
    b.assert_path("/issues/calendar").await;
    b.screenshot("issues-calendar").await;
    b.assert_accessible("calendar feed").await;

    // The alliance team: an admin, who also sees the staff accounts.
    let s = Browser::launch(&app.address).await;
    sign_in_staff(&app, &s, "sam@portal.test", StaffRole::Admin).await;
    s.goto("/admin/issues").await;
    s.fill("Partner", "acme").await;
    s.click_button("Show").await;
    s.assert_text_contains("Runner registration fails behind an HTTP proxy")
        .await;
    s.screenshot("staff-issues").await;
    s.assert_accessible("staff issue list").await;
    s.click_link("Runner registration fails behind an HTTP proxy")
        .await;
    s.assert_path(&format!("/admin/issues/{issue}")).await;
    s.assert_text_contains("Reproduced with a proxy").await;
    s.assert_text_contains("Shared with the partner").await;
    s.screenshot("staff-issue").await;
    s.assert_accessible("staff issue").await;
    s.goto("/admin/issues").await;
    for (link, path, name, shot) in [
        (
            "Triage queue",
            "/admin/issues/triage",
            "triage queue",
            "staff-triage",
        ),
        (
            "Scorecards",
            "/admin/issues/scorecards",
            "partner scorecards",
            "staff-scorecards",
        ),
        (
            "Resolution windows",
            "/admin/settings/sla",
            "resolution windows",
            "staff-sla",
        ),
        (
            "Enter an issue",
            "/admin/issues/new",
            "enter an issue",
            "staff-issue-new",
        ),
    ] {
        s.click_link(link).await;
        s.assert_path(path).await;
        s.screenshot(shot).await;
        s.assert_accessible(name).await;
    }
    // A partner the program does not have is explained next to the field,
    // and what was typed stays.
    s.fill("Title", "Scanner crashes on empty reports").await;
    s.fill("Partner (optional)", "Umbrella").await;
    s.click_button("Enter the issue").await;
    s.assert_text_contains("No approved partner is called or numbered")
        .await;
    assert_eq!(s.field_value("Partner (optional)").await, "Umbrella");
    s.screenshot("staff-issue-new-errors").await;
    s.assert_accessible("enter an issue with errors").await;
    s.fill("Partner (optional)", "Acme Corp").await;
    s.click_button("Enter the issue").await;
    s.assert_text_contains("The issue is entered.").await;
    s.goto("/admin/staff").await;
    s.screenshot("staff-accounts").await;
    s.assert_accessible("staff accounts").await;
    s.goto("/admin/gitlab").await;
    s.assert_text_contains("Every call went through.").await;
    s.screenshot("staff-gitlab-calls").await;
    s.assert_accessible("calls to GitLab").await;
    s.goto("/admin/catalog").await;
    s.screenshot("staff-catalog").await;
    s.assert_accessible("catalog badges").await;
}
