//! The insights in a browser: a partner reads its 12-month trend on its
//! dashboard, and the alliance team opens the program insights from the
//! staff console and chooses another period. Each page is screenshotted
//! at 1280 and 390 px and checked with axe-core.

use partner_portal::accounts::staff::StaffRole;

use crate::{browser::Browser, helpers::PASSWORD, listings::journey::sign_in_staff};

#[tokio::test]
async fn a_partner_reads_its_trend_and_staff_read_the_program_in_charts() {
    let p = super::deadlines::program().await;
    let app = &p.app;

    let b = Browser::launch(&app.address).await;
    b.goto("/login").await;
    b.fill("Email address", "ada@acme.test").await;
    b.fill("Password", PASSWORD).await;
    b.click_button("Sign in").await;
    b.assert_path("/dashboard").await;
    b.assert_text_contains("Your deadlines, month by month")
        .await;
    b.assert_text_contains("you met 3 deadlines and missed 3")
        .await;
    b.screenshot("dashboard-trend").await;
    b.assert_accessible("dashboard with the deadline trend")
        .await;
    b.click_text("The numbers behind this chart").await;
    b.screenshot("dashboard-trend-table").await;
    b.assert_accessible("dashboard with the trend's table open")
        .await;
    drop(b);

    let s = Browser::launch(&app.address).await;
    sign_in_staff(app, &s, "sam@portal.test", StaffRole::Admin).await;
    s.assert_text_contains("Program insights").await;
    s.goto("/admin/insights").await;
    s.assert_text_contains("Applications, month by month").await;
    s.assert_text_contains("Deadlines met and missed, by severity")
        .await;
    s.assert_text_contains("Licenses in the next 90 days").await;
    s.assert_text_contains("Partners by DevSecOps stage").await;
    s.screenshot("staff-insights").await;
    s.assert_accessible("program insights").await;
    s.fill("Period", "Last 6 months").await;
    s.click_button("Show").await;
    s.assert_text_contains("the last 6 months").await;
    s.click_text("The numbers behind this chart").await;
    s.screenshot("staff-insights-6-months").await;
    s.assert_accessible("program insights over 6 months, a table open")
        .await;
}
