//! Journey 6 in a browser: an issue arrives by webhook, the partner reads
//! it, posts an update, and the deadline state shows.

use super::support::*;
use crate::{browser::Browser, helpers::PASSWORD};

#[tokio::test]
async fn an_issue_arrives_by_webhook_and_the_partner_answers_in_a_browser() {
    let app = spawn().await;
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
        "Reproduced with a proxy; a fix ships in 2.3.1 on Friday.",
    )
    .await;
    b.click_button("Post update").await;
    b.assert_text_contains("Reproduced with a proxy; a fix ships in 2.3.1 on Friday.")
        .await;
    b.screenshot("issue-updated").await;
    b.assert_accessible("issue with an update").await;
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
}
