//! `GET /metrics` on PORTAL_METRICS_ADDR: scraped as Prometheus would,
//! the series move with requests, sign-ins, outbox rows, the webhook inbox
//! and scheduler passes; the public listener does not answer it.

use chrono::Duration;
use partner_portal::jobs;
use reqwest::StatusCode;

use crate::helpers::{Spawn, TestApp, spawn_app_with};

async fn with_metrics() -> TestApp {
    spawn_app_with(Spawn {
        overrides: &[("PORTAL_METRICS_ADDR", "127.0.0.1:0")],
        ..Spawn::default()
    })
    .await
}

async fn scrape(app: &TestApp) -> String {
    let url = format!("{}/metrics", app.metrics_address.as_ref().unwrap());
    let res = reqwest::get(&url).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    res.text().await.unwrap()
}

/// The value of the sample whose name and labels are exactly `series`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.split_whitespace().next().unwrap().parse().unwrap())
}

#[tokio::test]
async fn metrics_are_not_served_on_the_public_listener() {
    let app = with_metrics().await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    // And nowhere when the variable is unset.
    let plain = spawn_app_with(Spawn::default()).await;
    assert!(plain.metrics_address.is_none());
    assert_eq!(plain.get("/metrics").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn requests_are_counted_by_route_template_and_status_and_timed() {
    let app = with_metrics().await;
    for _ in 0..3 {
        assert_eq!(app.get("/partners").await.status(), StatusCode::OK);
    }
    app.get("/partners/no-such-partner").await;
    app.get("/no/such/page/42").await;

    let text = scrape(&app).await;
    assert_eq!(
        value(
            &text,
            r#"portal_http_requests_total{method="GET",route="/partners",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"portal_http_requests_total{method="GET",route="/partners/{slug}",status="404"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            r#"portal_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            r#"portal_http_request_duration_seconds_count{method="GET",route="/partners"}"#
        ),
        Some(3.0)
    );
    // Paths never become labels.
    assert!(!text.contains("no-such-partner"));
    assert!(!text.contains("/no/such/page"));

    app.get("/partners").await;
    let again = scrape(&app).await;
    assert_eq!(
        value(
            &again,
            r#"portal_http_requests_total{method="GET",route="/partners",status="200"}"#
        ),
        Some(4.0)
    );
}

#[tokio::test]
async fn outbox_and_inbox_series_follow_their_rows() {
    let app = with_metrics().await;
    let text = scrape(&app).await;
    assert_eq!(
        value(&text, r#"portal_outbox_pending{queue="mail"}"#),
        Some(0.0)
    );
    assert_eq!(
        value(&text, r#"portal_outbox_dead{queue="mail"}"#),
        Some(0.0)
    );
    assert_eq!(value(&text, "portal_webhook_inbox_pending"), Some(0.0));

    // A sign-up queues its confirmation email (no dispatcher runs here).
    app.partner_user("Ada", "ada@example.com").await;
    let now = app.clock.now();
    sqlx::query(
        "insert into outbox_emails (kind, to_address, subject, text_body, html_body, status, next_attempt_at, dead_at)
         values ('t', 'x@example.com', 's', 't', 'h', 'dead', $1, $1),
                ('t', 'y@example.com', 's', 't', 'h', 'pending', $2, null)",
    )
    .bind(now)
    .bind(now - Duration::minutes(10))
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into webhook_deliveries (delivery_key, body, received_at, next_attempt_at)
         values ('k1', '{}', $1, $1)",
    )
    .bind(now - Duration::seconds(90))
    .execute(&app.pool)
    .await
    .unwrap();

    let text = scrape(&app).await;
    let pending = value(&text, r#"portal_outbox_pending{queue="mail"}"#).unwrap();
    assert!(pending >= 2.0, "{text}");
    assert_eq!(
        value(&text, r#"portal_outbox_dead{queue="mail"}"#),
        Some(1.0)
    );
    let overdue = value(
        &text,
        r#"portal_outbox_oldest_due_age_seconds{queue="mail"}"#,
    )
    .unwrap();
    assert!((590.0..3600.0).contains(&overdue), "{overdue}");
    assert_eq!(value(&text, "portal_webhook_inbox_pending"), Some(1.0));
    let lag = value(&text, "portal_webhook_inbox_lag_seconds").unwrap();
    assert!((85.0..3600.0).contains(&lag), "{lag}");

    // Delivered: the queue empties.
    sqlx::query(
        "update outbox_emails set status = 'sent', sent_at = now() where status = 'pending'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let text = scrape(&app).await;
    assert_eq!(
        value(&text, r#"portal_outbox_pending{queue="mail"}"#),
        Some(0.0)
    );
    assert_eq!(
        value(
            &text,
            r#"portal_outbox_oldest_due_age_seconds{queue="mail"}"#
        ),
        Some(0.0)
    );
}

#[tokio::test]
async fn sign_in_failures_locks_scheduler_passes_and_the_pool_are_reported() {
    let app = with_metrics().await;
    app.partner_user("Ada", "ada@example.com").await;
    for _ in 0..11 {
        let agent = app.agent();
        agent.get("/login").await;
        agent
            .post(
                "/login",
                &[
                    ("email", "ada@example.com"),
                    ("password", "wrong wrong wrong"),
                ],
            )
            .await;
    }
    jobs::run_at(&app.state, app.clock.now()).await.unwrap();

    let text = scrape(&app).await;
    assert_eq!(
        value(&text, "portal_sign_in_failures_total"),
        Some(10.0),
        "{text}"
    );
    assert_eq!(value(&text, "portal_account_locks_total"), Some(1.0));
    assert_eq!(
        value(&text, r#"portal_sign_in_refused_total{limit="account"}"#),
        Some(1.0)
    );
    assert_eq!(
        value(&text, "portal_scheduler_pass_duration_seconds_count"),
        Some(1.0)
    );
    for job in ["license expiry reminders", "housekeeping"] {
        assert_eq!(
            value(
                &text,
                &format!(r#"portal_scheduler_job_duration_seconds_count{{job="{job}"}}"#)
            ),
            Some(1.0),
            "{job}"
        );
        assert_eq!(
            value(
                &text,
                &format!(r#"portal_scheduler_job_failures_total{{job="{job}"}}"#)
            ),
            Some(0.0)
        );
    }
    assert_eq!(value(&text, "portal_db_pool_max_connections"), Some(16.0));
    let idle = value(&text, r#"portal_db_pool_connections{state="idle"}"#).unwrap();
    let in_use = value(&text, r#"portal_db_pool_connections{state="in_use"}"#).unwrap();
    assert!(idle + in_use >= 1.0 && idle + in_use <= 16.0);
    assert!(value(&text, "portal_db_pool_waiting").is_some());
    assert!(text.trim_end().ends_with("# EOF"));
}
