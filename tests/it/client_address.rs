//! The client's address behind reverse proxies (`PORTAL_TRUSTED_PROXIES`):
//! what the sign-in limits count, the audit log records and the sessions
//! page shows. Every test client connects from 127.0.0.1 (or ::1), which
//! plays the proxy.

use reqwest::StatusCode;

use crate::{
    agent::Agent,
    helpers::{PASSWORD, Spawn, TestApp, spawn_app, spawn_app_with},
};

async fn behind(trusted: &str) -> TestApp {
    spawn_app_with(Spawn {
        overrides: &[("PORTAL_TRUSTED_PROXIES", trusted)],
        ..Spawn::default()
    })
    .await
}

/// A visitor whose requests reach the portal through a proxy that says
/// they come from `forwarded_for`.
fn client(app: &TestApp, forwarded_for: &str) -> Agent {
    Agent::with_headers(&app.address, &[("x-forwarded-for", forwarded_for)])
}

async fn fail_sign_in(agent: &Agent, email: &str) -> StatusCode {
    agent.get("/login").await;
    agent
        .post(
            "/login",
            &[("email", email), ("password", "wrong wrong wrong")],
        )
        .await
        .status
}

async fn last_audited_ip(app: &TestApp, action: &str) -> Option<String> {
    sqlx::query_scalar("select host(ip) from audit_log where action = $1 order by id desc limit 1")
        .bind(action)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn twelve_failures_behind_the_proxy_do_not_lock_out_another_client_behind_it() {
    let app = behind("127.0.0.1").await;
    app.partner_user("Bea", "bea@example.com").await;

    let mallory = client(&app, "203.0.113.5");
    for i in 0..12 {
        let status = fail_sign_in(&mallory, &format!("nobody{i}@example.com")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {i}");
    }

    // Bea is behind the same proxy, at her own address.
    let bea = client(&app, "198.51.100.7");
    app.sign_in(&bea, "bea@example.com")
        .await
        .assert_redirect("/dashboard");
    assert_eq!(
        last_audited_ip(&app, "sign_in.failed").await.as_deref(),
        Some("203.0.113.5")
    );
    assert_eq!(
        last_audited_ip(&app, "sign_in.succeeded").await.as_deref(),
        Some("198.51.100.7")
    );
}

#[tokio::test]
async fn the_per_account_limit_holds_from_any_number_of_addresses() {
    let app = behind("127.0.0.1").await;
    app.partner_user("Ada", "ada@example.com").await;

    for i in 0..10 {
        let guesser = client(&app, &format!("203.0.113.{}", 10 + i));
        let status = fail_sign_in(&guesser, "ada@example.com").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {i}");
    }
    let ada = client(&app, "198.51.100.7");
    ada.get("/login").await;
    let res = ada
        .post(
            "/login",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    let paused: Vec<_> = app
        .emails_to("ada@example.com")
        .await
        .into_iter()
        .filter(|e| e.subject == "Sign-in to your Partner Portal account is paused")
        .collect();
    assert_eq!(paused.len(), 1, "the owner is told once");
}

#[tokio::test]
async fn one_address_is_paused_after_a_hundred_failures_in_the_window() {
    let app = behind("127.0.0.1").await;
    app.partner_user("Bea", "bea@example.com").await;
    // 99 failures of one address (on many accounts) already counted.
    let now = app.clock.now();
    sqlx::query(
        "insert into throttle_events (key, occurred_at)
         select 'login:ip:203.0.113.5', $1 from generate_series(1, 99)",
    )
    .bind(now)
    .execute(&app.pool)
    .await
    .unwrap();

    let office = client(&app, "203.0.113.5");
    assert_eq!(
        fail_sign_in(&office, "someone@example.com").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the hundredth failure is still answered"
    );
    office.get("/login").await;
    let res = office
        .post(
            "/login",
            &[("email", "bea@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    // Another address is not paused.
    app.sign_in(&client(&app, "198.51.100.7"), "bea@example.com")
        .await
        .assert_redirect("/dashboard");
}

#[tokio::test]
async fn a_forwarded_header_from_a_peer_that_is_not_trusted_is_ignored() {
    let app = spawn_app().await;
    let forger = client(&app, "203.0.113.5");
    fail_sign_in(&forger, "nobody@example.com").await;
    assert_eq!(
        last_audited_ip(&app, "sign_in.failed").await.as_deref(),
        Some("127.0.0.1")
    );

    // Trusting another network is no reason to believe this peer either.
    let app = behind("10.0.0.0/8").await;
    let forger = Agent::with_headers(
        &app.address,
        &[
            ("forwarded", "for=203.0.113.5"),
            ("x-forwarded-for", "203.0.113.6"),
        ],
    );
    fail_sign_in(&forger, "nobody@example.com").await;
    assert_eq!(
        last_audited_ip(&app, "sign_in.failed").await.as_deref(),
        Some("127.0.0.1")
    );
}

#[tokio::test]
async fn the_client_is_found_through_several_hops_and_a_forged_entry() {
    let app = behind("127.0.0.1, 10.0.0.0/8").await;
    app.partner_user("Bea", "bea@example.com").await;
    // The client forged the first entry; a trusted load balancer (10.1.2.3)
    // forwarded to the proxy on 127.0.0.1.
    let bea = client(&app, "6.6.6.6, 2001:db8::7, 10.1.2.3");
    app.sign_in(&bea, "bea@example.com")
        .await
        .assert_redirect("/dashboard");
    assert_eq!(
        last_audited_ip(&app, "sign_in.succeeded").await.as_deref(),
        Some("2001:db8::7")
    );
    let account = bea.get("/account").await;
    assert!(
        account.body.contains("2001:db8::7"),
        "{}",
        account.snippet()
    );
    assert!(!account.body.contains("6.6.6.6"));
}

#[tokio::test]
async fn the_standard_forwarded_header_is_read_too() {
    let app = behind("127.0.0.1").await;
    let agent = Agent::with_headers(
        &app.address,
        &[(
            "forwarded",
            r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https"#,
        )],
    );
    fail_sign_in(&agent, "nobody@example.com").await;
    assert_eq!(
        last_audited_ip(&app, "sign_in.failed").await.as_deref(),
        Some("2001:db8:cafe::17")
    );
}

#[tokio::test]
async fn a_proxy_on_ipv6_is_trusted_by_its_network() {
    let app = spawn_app_with(Spawn {
        overrides: &[
            ("PORTAL_ADDR", "[::1]:0"),
            ("PORTAL_TRUSTED_PROXIES", "::1/128"),
        ],
        ..Spawn::default()
    })
    .await;
    let base = format!("http://[::1]:{}", app.state.config.addr.port());
    let agent = Agent::with_headers(&base, &[("x-forwarded-for", "198.51.100.9")]);
    fail_sign_in(&agent, "nobody@example.com").await;
    assert_eq!(
        last_audited_ip(&app, "sign_in.failed").await.as_deref(),
        Some("198.51.100.9")
    );

    // The same peer, not trusted: its own address.
    let app = spawn_app_with(Spawn {
        overrides: &[
            ("PORTAL_ADDR", "[::1]:0"),
            ("PORTAL_TRUSTED_PROXIES", "127.0.0.1"),
        ],
        ..Spawn::default()
    })
    .await;
    let base = format!("http://[::1]:{}", app.state.config.addr.port());
    let agent = Agent::with_headers(&base, &[("x-forwarded-for", "198.51.100.9")]);
    fail_sign_in(&agent, "nobody@example.com").await;
    assert_eq!(
        last_audited_ip(&app, "sign_in.failed").await.as_deref(),
        Some("::1")
    );
}
