//! The harness itself, on pages of its own served by the real portal (so
//! through its security headers and CSP).

use std::collections::HashMap;

use axum::{Form, Router, response::Html, routing::get};
use partner_portal::{accounts::session::Visitor, state::AppState};

use super::Browser;
use crate::helpers::{Spawn, TestApp, spawn_app_with};

const FORM_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><title>Harness form</title></head>
<body>
<main>
  <h1>Harness form</h1>
  <form method="post" action="/__test/form">
    <!-- csrf -->
    <p><label for="name">Your name</label>
       <input id="name" name="name" type="text" value="typed before"></p>
    <p><label>Partner's "type"
       <select name="kind"><option>Cloud</option><option>Technology ISV</option></select></label></p>
    <p><label for="note">Note</label> <input id="note" name="note" type="text"></p>
    <button type="submit" name="via" value="hidden" hidden>Send it</button>
    <button type="submit" name="via" value="visible">Send it</button>
  </form>
  <p><a href="/__test/form?again=1">Start again</a></p>
</main>
<script>document.title = "inline script ran";</script>
</body>
</html>"#;

const INACCESSIBLE_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><title>Inaccessible</title></head>
<body><main><h1>Inaccessible</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<input type="text" name="unlabelled">
</main></body>
</html>"#;

async fn greet(Form(fields): Form<HashMap<String, String>>) -> Html<String> {
    let field = |k: &str| fields.get(k).cloned().unwrap_or_default();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><title>Sent</title></head><body><main>\
         <p>Hello {}, a {} partner ({}; note {:?}; via {})</p></main></body></html>",
        field("name"),
        field("kind"),
        field("name").len(),
        field("note"),
        field("via"),
    ))
}

async fn app() -> TestApp {
    let routes: Router<AppState> = Router::new()
        .route(
            "/__test/form",
            get(|visitor: Visitor| async move {
                // Every form of the portal carries the visitor's CSRF token.
                let field = format!(
                    "<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">",
                    visitor.csrf_token()
                );
                Html(FORM_PAGE.replace("<!-- csrf -->", &field))
            })
            .post(greet),
        )
        .route(
            "/__test/inaccessible",
            get(|| async { Html(INACCESSIBLE_PAGE) }),
        );
    spawn_app_with(Spawn {
        extra_routes: routes,
        ..Spawn::default()
    })
    .await
}

#[tokio::test]
async fn the_harness_types_chooses_and_clicks_as_a_person_does() {
    let app = app().await;
    let browser = Browser::launch(&app.address).await;
    browser.goto("/__test/form").await;

    // The portal's CSP blocks the page's inline script, yet WebDriver's
    // scripts (and so axe-core) still run.
    let title = browser
        .client
        .execute("return document.title;", vec![])
        .await
        .unwrap();
    assert_eq!(title, "Harness form");
    browser.assert_accessible("harness form").await;

    browser.fill("Your name", "Ada Lovelace").await;
    browser.fill(r#"Partner's "type""#, "Technology ISV").await;
    browser.fill("input[name=note]", "by selector").await;
    browser.click_button("Send it").await;

    assert_eq!(browser.current_path().await, "/__test/form");
    browser
        .assert_text_contains(
            "Hello Ada Lovelace, a Technology ISV partner (12; note \"by selector\"; via visible)",
        )
        .await;

    browser.goto("/__test/form").await;
    browser.click_link("Start again").await;
    assert_eq!(browser.current_path().await, "/__test/form");
    browser.assert_text_contains("Harness form").await;
}

#[tokio::test]
async fn serious_accessibility_violations_fail_naming_rule_and_element() {
    let app = app().await;
    let browser = Browser::launch(&app.address).await;
    browser.goto("/__test/inaccessible").await;

    let failure = tokio::spawn(async move { browser.assert_accessible("inaccessible").await })
        .await
        .expect_err("axe finds the unlabelled image and field");
    let message = *failure
        .into_panic()
        .downcast::<String>()
        .expect("a formatted panic message");
    assert!(
        message.starts_with(
            "2 serious or critical accessibility violation(s) on the inaccessible page:"
        ),
        "{message}"
    );
    for expected in [
        "- image-alt (critical): Images must have alternative text",
        "at img",
        "- label (critical): Form elements must have labels",
        "at input",
    ] {
        assert!(message.contains(expected), "{expected:?} in:\n{message}");
    }
}
