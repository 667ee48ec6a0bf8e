//! Browser journeys: a person with headless Chromium on the real portal.
//! Each main page is screenshotted at 1280 and 390 px (into `screenshots/`)
//! and checked with axe-core: no serious or critical violations.

use crate::{browser::Browser, helpers::spawn_app};

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
    assert_eq!(browser.current_path().await, "/partners");
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
    assert_eq!(browser.current_path().await, "/");
}
