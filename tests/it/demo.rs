//! `demo-data` at a small scale: the data is consistent enough that people
//! sign in with the printed details and every page and job works on it.

use partner_portal::demo::{self, Scale};
use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn demo_data_fills_a_database_people_can_sign_in_to() {
    let app = spawn_app().await;

    let summary = demo::run(&app.pool, &app.state.secrets, Scale(0.02), app.clock.now())
        .await
        .unwrap();

    let count = |label: &str| summary.counts.iter().find(|(l, _)| *l == label).unwrap().1;
    assert_eq!(count("partner organisations"), 200);
    assert_eq!(count("partner users"), 600);
    assert!(count("application history") >= 1000);
    assert_eq!(count("NFR licenses"), 400);
    assert_eq!(count("component issues"), 20_000);
    let agent = app.agent();
    agent.get("/login").await;
    let res = agent
        .post(
            "/login",
            &[
                ("email", &summary.partner_admin),
                ("password", demo::DEMO_PASSWORD),
            ],
        )
        .await;
    res.assert_redirect("/dashboard");
    let dashboard = agent.get("/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.body.contains("Registration"));
    partner_portal::jobs::run_at(&app.state, app.clock.now())
        .await
        .unwrap();
    // A second run refuses rather than doubling the data.
    assert!(
        demo::run(&app.pool, &app.state.secrets, Scale(0.02), app.clock.now())
            .await
            .is_err()
    );
}
