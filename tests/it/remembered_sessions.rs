//! A partner's session is remembered between requests and confirmed by the
//! database before anything is served from it (by its stamp, which
//! triggers move when the user or their membership changes). Each test lets one request
//! remember the session, changes it the way another instance or a staff
//! member would (straight in the database), and checks that the very next
//! request sees the change.

use chrono::Duration;
use reqwest::StatusCode;

use crate::{
    agent::Agent,
    fixtures,
    helpers::{TestApp, spawn_app},
};

/// An owner of "Acme" whose session the portal has just remembered.
async fn remembered(app: &TestApp) -> (Agent, i64) {
    let (agent, partner_id) = fixtures::organisation(app, "Acme", "ada@acme.test").await;
    assert_eq!(agent.get("/licenses").await.status, StatusCode::OK);
    (agent, partner_id)
}

async fn sql(app: &TestApp, statement: &str) {
    sqlx::query(statement).execute(&app.pool).await.unwrap();
}

#[tokio::test]
async fn a_session_ended_elsewhere_ends_on_the_next_partner_page() {
    let app = spawn_app().await;
    let (agent, _) = remembered(&app).await;
    sql(&app, "delete from sessions").await;

    agent
        .get("/licenses")
        .await
        .assert_redirect("/login?next=%2Flicenses");
    agent
        .get("/dashboard")
        .await
        .assert_redirect("/login?next=%2Fdashboard");
}

#[tokio::test]
async fn other_pages_confirm_the_session_before_they_run() {
    let app = spawn_app().await;
    let (agent, _) = remembered(&app).await;
    assert_eq!(agent.get("/account").await.status, StatusCode::OK);
    sql(&app, "delete from sessions").await;

    agent
        .get("/account")
        .await
        .assert_redirect("/login?next=%2Faccount");
}

#[tokio::test]
async fn a_partner_page_without_a_transaction_is_held_back_until_confirmed() {
    let app = spawn_app().await;
    let (agent, _) = remembered(&app).await;
    let before = agent.get("/organization/new").await;
    sql(&app, "delete from sessions").await;

    // Made from the remembered session, but not sent: the same address is
    // asked for again, and then refused.
    let held = agent.get("/organization/new").await;
    held.assert_redirect("/organization/new");
    assert_ne!(held.location, before.location, "{}", held.snippet());
    agent
        .get("/organization/new")
        .await
        .assert_redirect("/login?next=%2Forganization%2Fnew");
}

#[tokio::test]
async fn a_disabled_user_is_refused_on_the_next_partner_page() {
    let app = spawn_app().await;
    let (agent, _) = remembered(&app).await;
    sql(&app, "update users set disabled_at = now()").await;

    agent
        .get("/issues")
        .await
        .assert_redirect("/login?next=%2Fissues");
}

#[tokio::test]
async fn leaving_the_organisation_shows_at_once() {
    let app = spawn_app().await;
    let (agent, _) = remembered(&app).await;
    sql(&app, "delete from partner_members").await;

    let page = agent.get("/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<title>Welcome"), "{}", page.snippet());
    assert!(
        !page.body.contains("<title>Dashboard"),
        "{}",
        page.snippet()
    );
    agent.get("/licenses").await.assert_redirect("/dashboard");
}

#[tokio::test]
async fn a_new_role_in_the_organisation_shows_at_once() {
    let app = spawn_app().await;
    let (agent, _) = remembered(&app).await;
    assert!(agent.get("/dashboard").await.body.contains("Acme · Owner"));
    sql(&app, "update partner_members set role = 'member'").await;

    let page = agent.get("/dashboard").await;
    assert!(page.body.contains("Acme · Member"), "{}", page.snippet());
}

#[tokio::test]
async fn moved_to_another_organisation_the_next_page_is_of_the_new_one() {
    let app = spawn_app().await;
    let (agent, _) = remembered(&app).await;
    let (_, beta) = fixtures::organisation(&app, "Beta Labs", "bob@beta.test").await;
    sqlx::query(
        "update partner_members set partner_id = $1, role = 'member'
          where user_id = (select id from users where email = 'ada@acme.test')",
    )
    .bind(beta)
    .execute(&app.pool)
    .await
    .unwrap();

    // The tenant comes from the session as it stands now, never from the
    // remembered copy.
    let page = agent.get("/dashboard").await;
    assert!(
        page.body.contains("Beta Labs · Member"),
        "{}",
        page.snippet()
    );
    // (Ada's own name, "Owner of Acme", stays in the navigation.)
    assert!(!page.body.contains("Acme · "), "{}", page.snippet());
}

#[tokio::test]
async fn a_remembered_session_still_ends_12_hours_after_sign_in() {
    let app = spawn_app().await;
    let (agent, _) = remembered(&app).await;

    for _ in 0..35 {
        app.clock.advance(Duration::minutes(20));
        assert_eq!(agent.get("/licenses").await.status, StatusCode::OK);
    }
    // 11 h 59 min 30 s: touched and remembered again, less than a minute
    // before the absolute limit.
    app.clock
        .advance(Duration::minutes(19) + Duration::seconds(30));
    assert_eq!(agent.get("/licenses").await.status, StatusCode::OK);
    app.clock.advance(Duration::seconds(40));

    agent
        .get("/licenses")
        .await
        .assert_redirect("/login?next=%2Flicenses");
}

#[tokio::test]
async fn a_renamed_user_sees_the_new_name_at_once() {
    let app = spawn_app().await;
    let (agent, _) = remembered(&app).await;
    sql(&app, "update users set name = 'Grace Hopper'").await;

    let page = agent.get("/licenses").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Grace Hopper"), "{}", page.snippet());
}

#[tokio::test]
async fn a_message_left_elsewhere_is_shown_once_and_the_pool_stays_healthy() {
    let app = spawn_app().await;
    let (agent, _) = remembered(&app).await;

    // Each round fails the confirmation of a remembered session once. A
    // connection left inside an aborted transaction would fail a later
    // request of this loop.
    for round in 0..20 {
        let message = format!("Message {round} from another instance");
        sqlx::query("update sessions set flash = $1")
            .bind(&message)
            .execute(&app.pool)
            .await
            .unwrap();
        let page = agent.get("/licenses").await;
        assert_eq!(page.status, StatusCode::OK, "round {round}");
        assert!(page.body.contains(&message), "round {round}");
        let again = agent.get("/licenses").await;
        assert_eq!(again.status, StatusCode::OK, "round {round}");
        assert!(
            !again.body.contains(&message),
            "shown twice in round {round}"
        );
        let account = agent.get("/account").await;
        assert_eq!(account.status, StatusCode::OK, "round {round}");
    }
}

#[tokio::test]
async fn a_remembered_session_still_ends_after_30_idle_minutes() {
    let app = spawn_app().await;
    let (agent, _) = remembered(&app).await;

    app.clock.advance(Duration::minutes(29));
    assert_eq!(agent.get("/licenses").await.status, StatusCode::OK);
    assert_eq!(agent.get("/licenses").await.status, StatusCode::OK);
    app.clock.advance(Duration::minutes(31));

    agent
        .get("/licenses")
        .await
        .assert_redirect("/login?next=%2Flicenses");
}

#[tokio::test]
async fn a_static_file_does_not_take_a_message_meant_for_a_page() {
    let app = spawn_app().await;
    let (agent, _) = remembered(&app).await;
    sql(
        &app,
        "update sessions set flash = 'Left by another instance'",
    )
    .await;

    // The remembered copy fails its confirmation on the waiting message and
    // the session is read again: a stylesheet must leave the message alone.
    let css = partner_portal::http::asset_url("app.css");
    assert_eq!(agent.get(css).await.status, StatusCode::OK);
    let page = agent.get("/licenses").await;
    assert!(
        page.body.contains("Left by another instance"),
        "{}",
        page.snippet()
    );
}
