//! Writes that notify people or reach other systems are limited per person
//! and per organisation, counted in PostgreSQL across instances: the write
//! at the limit passes, the next is refused with a 429 page naming the
//! limit, and nothing of it is kept. (Issue 20: one partner user posted
//! about 11,600 issue updates in 9 minutes.)

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use partner_portal::limits::{self, WriteLimit};
use reqwest::StatusCode;

use crate::{
    agent::{Agent, Page},
    fixtures,
    helpers::{PASSWORD, Spawn, TestApp, spawn_app_with},
    licenses::request,
    listings::{fields, ready_partner, submit, tiny_png},
};

/// Sessions outlive the clock moves of these tests.
const LONG_SESSIONS: &[(&str, &str)] = &[
    ("PORTAL_SESSION_IDLE_MINUTES", "1440"),
    ("PORTAL_SESSION_ABSOLUTE_HOURS", "72"),
];

async fn spawn() -> TestApp {
    spawn_app_with(Spawn {
        overrides: LONG_SESSIONS,
        ..Spawn::default()
    })
    .await
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("select id from users where lower(email) = lower($1)")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// `n` writes of `limit` already counted for this person at `at`.
async fn counted(
    app: &TestApp,
    limit: &WriteLimit,
    partner_id: i64,
    user: i64,
    n: i64,
    at: DateTime<Utc>,
) {
    sqlx::query(
        "insert into write_events (partner_id, user_id, action, occurred_at)
         select $1, $2, $3, $4 from generate_series(1, $5)",
    )
    .bind(partner_id)
    .bind(user)
    .bind(limit.action)
    .bind(at)
    .bind(n)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// Brings this person's counted writes of `limit` to one below the limit.
async fn one_below(app: &TestApp, limit: &WriteLimit, partner_id: i64, user: i64) {
    let already: i64 =
        sqlx::query_scalar("select count(*) from write_events where user_id = $1 and action = $2")
            .bind(user)
            .bind(limit.action)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let n = limit.per_user.max - 1 - already;
    counted(app, limit, partner_id, user, n, app.clock.now()).await;
}

async fn count(app: &TestApp, sql: &str, partner_id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(partner_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[track_caller]
fn assert_limited(page: &Page, names: &str) {
    assert_eq!(
        page.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        page.snippet()
    );
    assert!(
        page.body.contains("You have reached a limit"),
        "{}",
        page.snippet()
    );
    assert!(
        page.body.contains(names),
        "the page names the limit ({names}): {}",
        page.snippet()
    );
    assert!(page.body.contains("Nothing you sent was saved"));
    let retry: i64 = page.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0);
}

async fn open_issue(app: &TestApp, partner_id: i64) -> i64 {
    sqlx::query_scalar(
        "insert into issues (partner_id, source, external_id, iid, project_path, title, severity,
                             clock_started_at, deadline_at, state, created_at)
         values ($1, 'tracker', 7, 7, 'acme-corp/runner', 'Runner fails', 2, $2, $2 + interval '30 days', 'open', $2)
         returning id",
    )
    .bind(partner_id)
    .bind(app.clock.now())
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn post_update(agent: &Agent, issue: i64, body: &str) -> Page {
    agent.get(&format!("/issues/{issue}")).await;
    agent
        .post(&format!("/issues/{issue}/updates"), &[("body", body)])
        .await
}

#[tokio::test]
async fn issue_updates_stop_at_sixty_an_hour_and_go_on_when_the_hour_has_passed() {
    let app = spawn().await;
    let (ada, partner_id) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let issue = open_issue(&app, partner_id).await;
    let first = app.clock.now();

    for n in 1..=limits::ISSUE_UPDATES.per_user.max {
        post_update(&ada, issue, &format!("Update {n}"))
            .await
            .assert_redirect(&format!("/issues/{issue}"));
    }
    let page = post_update(&ada, issue, "One too many").await;
    assert_limited(
        &page,
        "The limit is 60 issue updates an hour for each person",
    );
    let updates = "select count(*) from issue_updates where partner_id = $1";
    assert_eq!(
        count(&app, updates, partner_id).await,
        60,
        "nothing of the 61st is kept"
    );
    let retry: i64 = page.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        retry > 3500 && retry <= 3601,
        "an hour after the first: {retry}"
    );

    // Just before the first update leaves the window: still refused.
    app.clock
        .advance(first + Duration::hours(1) - app.clock.now() - Duration::seconds(2));
    assert_eq!(
        post_update(&ada, issue, "Still too many").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Once it has left, one more fits.
    app.clock.advance(Duration::seconds(60));
    post_update(&ada, issue, "Back again")
        .await
        .assert_redirect(&format!("/issues/{issue}"));
    assert_eq!(count(&app, updates, partner_id).await, 61);
}

#[tokio::test]
async fn a_refused_update_is_not_counted() {
    let app = spawn().await;
    let (ada, partner_id) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let issue = open_issue(&app, partner_id).await;
    let ada_id = user_id(&app, "ada@acme.test").await;
    counted(
        &app,
        &limits::ISSUE_UPDATES,
        partner_id,
        ada_id,
        59,
        app.clock.now(),
    )
    .await;

    let empty = post_update(&ada, issue, "   ").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The empty update did not use the last write of the hour.
    post_update(&ada, issue, "Fixed in 1.2.3")
        .await
        .assert_redirect(&format!("/issues/{issue}"));
    assert_eq!(
        post_update(&ada, issue, "And more").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Each limited write, at its person's limit less one: that write passes,
/// the next is refused, and the refused one leaves nothing behind.
#[tokio::test]
async fn every_limited_write_passes_at_its_limit_and_is_refused_past_it() {
    let app = spawn().await;
    let (ada, partner_id, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    let ada_id = user_id(&app, "ada@acme.test").await;
    let issue = open_issue(&app, partner_id).await;
    let emails = "select count(*) from outbox_emails";

    // Issue updates.
    let limit = limits::ISSUE_UPDATES;
    one_below(&app, &limit, partner_id, ada_id).await;
    post_update(&ada, issue, "Last one")
        .await
        .assert_redirect(&format!("/issues/{issue}"));
    assert_limited(
        &post_update(&ada, issue, "Over").await,
        "60 issue updates an hour",
    );

    // Invitations, sent and sent again.
    let limit = limits::INVITATIONS;
    one_below(&app, &limit, partner_id, ada_id).await;
    ada.get("/team").await;
    ada.post(
        "/team/invitations",
        &[("email", "bob@acme.test"), ("role", "member")],
    )
    .await
    .assert_redirect("/team");
    let sent = count(&app, emails, partner_id).await;
    ada.get("/team").await;
    let page = ada
        .post(
            "/team/invitations",
            &[("email", "carol@acme.test"), ("role", "member")],
        )
        .await;
    assert_limited(&page, "The limit is 50 invitations an hour for each person");
    let invitation: i64 =
        sqlx::query_scalar("select id from partner_invitations where partner_id = $1")
            .bind(partner_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    ada.get("/team").await;
    let page = ada
        .post(&format!("/team/invitations/{invitation}/resend"), &[])
        .await;
    assert_limited(&page, "50 invitations an hour");
    assert_eq!(
        count(&app, emails, partner_id).await,
        sent,
        "no email for a refused invitation"
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from partner_invitations where partner_id = $1",
            partner_id
        )
        .await,
        1
    );

    // Namespace registrations.
    let limit = limits::NAMESPACE_REGISTRATIONS;
    one_below(&app, &limit, partner_id, ada_id).await;
    ada.get("/namespaces").await;
    ada.post("/namespaces", &[("url", "https://gitlab.com/acme-two")])
        .await
        .assert_redirect("/namespaces");
    ada.get("/namespaces").await;
    let page = ada
        .post("/namespaces", &[("url", "https://gitlab.com/acme-three")])
        .await;
    assert_limited(&page, "20 namespace registrations an hour for each person");
    assert_eq!(
        count(
            &app,
            "select count(*) from namespaces where partner_id = $1",
            partner_id
        )
        .await,
        2
    );

    // License requests.
    let limit = limits::LICENSE_REQUESTS;
    one_below(&app, &limit, partner_id, ada_id).await;
    let page = request(&ada, &["saas"], "5", &["training"], "").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.snippet());
    let page = request(&ada, &["self_managed"], "5", &["training"], "").await;
    assert_limited(&page, "10 license requests an hour for each person");
    assert_eq!(
        count(
            &app,
            "select count(*) from licenses where partner_id = $1",
            partner_id
        )
        .await,
        1
    );

    // Listing submissions.
    let limit = limits::LISTING_SUBMISSIONS;
    one_below(&app, &limit, partner_id, ada_id).await;
    submit(
        &ada,
        &fields("Acme"),
        &[("logo", "logo.png", "image/png", tiny_png())],
    )
    .await
    .assert_redirect("/listing");
    let page = submit(&ada, &fields("Acme Security"), &[]).await;
    assert_limited(&page, "10 listing submissions an hour for each person");
    assert_eq!(
        count(
            &app,
            "select count(*) from listing_versions where partner_id = $1",
            partner_id
        )
        .await,
        1
    );
}

async fn register(agent: &Agent, n: usize) -> Page {
    let url = format!("https://gitlab.com/acme-{n}");
    agent.get("/namespaces").await;
    agent.post("/namespaces", &[("url", url.as_str())]).await
}

/// Admins of one organisation share its daily allowance of namespace
/// registrations, counted across two instances of the portal.
#[tokio::test]
async fn an_organisations_limit_holds_across_its_people_and_across_instances() {
    let app = spawn().await;
    let other = spawn_app_with(Spawn {
        db: Some(app.db.clone()),
        overrides: LONG_SESSIONS,
        ..Spawn::default()
    })
    .await;
    let (ada, partner_id) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let mut admins = vec![("ada@acme.test", ada)];
    for email in ["bob@acme.test", "cy@acme.test"] {
        let agent = app.partner_user("Admin", email).await;
        sqlx::query(
            "insert into partner_members (partner_id, user_id, role, created_at)
             select $1, id, 'admin', now() from users where lower(email) = $2",
        )
        .bind(partner_id)
        .bind(email)
        .execute(&app.pool)
        .await
        .unwrap();
        agent.get("/dashboard").await;
        admins.push((email, agent));
    }
    let per_person = limits::NAMESPACE_REGISTRATIONS.per_user.max as usize;
    let per_organisation = limits::NAMESPACE_REGISTRATIONS.per_partner.max as usize;
    assert_eq!((per_person, per_organisation), (20, 50));

    // Ada and Bob each register their 20, alternating between instances.
    let mut n = 0;
    for (_, agent) in &admins[..2] {
        for i in 0..per_person {
            n += 1;
            let on = if i % 2 == 0 {
                agent.on(&app.address)
            } else {
                agent.on(&other.address)
            };
            register(&on, n).await.assert_redirect("/namespaces");
        }
        n += 1;
        assert_limited(&register(agent, n).await, "for each person");
    }
    // Cy takes the organisation to 50, then meets its limit.
    let cy = &admins[2].1;
    for _ in 0..per_organisation - 2 * per_person {
        n += 1;
        register(&cy.on(&other.address), n)
            .await
            .assert_redirect("/namespaces");
    }
    n += 1;
    assert_limited(
        &register(cy, n).await,
        "The limit is 50 namespace registrations a day for each organisation, and your organisation has reached it.",
    );
    // An hour on, each person could go on, but the organisation's day is full.
    app.clock.advance(Duration::minutes(61));
    n += 1;
    assert_limited(&register(&admins[0].1, n).await, "for each organisation");
    assert_eq!(
        count(
            &app,
            "select count(*) from namespaces where partner_id = $1",
            partner_id
        )
        .await,
        50
    );
}

/// Requests at the boundary, at once, on two instances: exactly as many
/// pass as the limit leaves.
#[tokio::test]
async fn concurrent_writes_at_the_boundary_pass_exactly_as_many_as_are_left() {
    let app = spawn().await;
    let other = spawn_app_with(Spawn {
        db: Some(app.db.clone()),
        overrides: LONG_SESSIONS,
        ..Spawn::default()
    })
    .await;
    let (ada, partner_id) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let issue = open_issue(&app, partner_id).await;
    let ada_id = user_id(&app, "ada@acme.test").await;
    counted(
        &app,
        &limits::ISSUE_UPDATES,
        partner_id,
        ada_id,
        55,
        app.clock.now(),
    )
    .await;
    ada.get(&format!("/issues/{issue}")).await;
    let agents = Arc::new([ada.on(&app.address), ada.on(&other.address)]);

    let sends = (0..12).map(|i| {
        let agents = agents.clone();
        async move {
            agents[i % 2]
                .post(
                    &format!("/issues/{issue}/updates"),
                    &[("body", &format!("Update {i}"))],
                )
                .await
                .status
        }
    });
    let statuses = futures_util::future::join_all(sends).await;

    let passed = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((passed, refused), (5, 7), "{statuses:?}");
    assert_eq!(
        count(
            &app,
            "select count(*) from issue_updates where partner_id = $1",
            partner_id
        )
        .await,
        5
    );
}

#[tokio::test]
async fn the_limit_page_in_a_browser() {
    let app = spawn().await;
    let (_ada, partner_id) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let issue = open_issue(&app, partner_id).await;
    let ada_id = user_id(&app, "ada@acme.test").await;
    counted(
        &app,
        &limits::ISSUE_UPDATES,
        partner_id,
        ada_id,
        60,
        app.clock.now(),
    )
    .await;
    let browser = crate::browser::Browser::launch(&app.address).await;
    browser.goto("/login").await;
    browser.fill("Email address", "ada@acme.test").await;
    browser.fill("Password", PASSWORD).await;
    browser.click_button("Sign in").await;
    browser.assert_path("/dashboard").await;

    browser.goto(&format!("/issues/{issue}")).await;
    browser.fill("Your update", "The fix ships in 1.2.3.").await;
    browser.click_button("Post update").await;
    browser
        .assert_text_contains("You have reached a limit")
        .await;
    browser
        .assert_text_contains("The limit is 60 issue updates an hour for each person")
        .await;
    browser.screenshot("write-limit").await;
    browser.assert_accessible("write-limit").await;
}
