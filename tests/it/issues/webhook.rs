//! `POST /webhooks/gitlab`: the secret, replays, bad bodies, other kinds,
//! speed, and every action of the platform's issue events.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::support::*;
use crate::helpers::{Spawn, spawn_app_with};

async fn deliveries(app: &crate::helpers::TestApp) -> i64 {
    count(app, "select count(*) from webhook_deliveries").await
}

#[tokio::test]
async fn the_secret_is_required_and_checked() {
    let app = spawn().await;
    let body = serde_json::to_vec(&fixture("issue_open_labelled")).unwrap();
    let post = |token: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url("/webhooks/gitlab"))
            .header("X-Gitlab-Event", "Issue Hook")
            .body(body.clone());
        if let Some(token) = token {
            req = req.header("X-Gitlab-Token", token);
        }
        req.send()
    };

    let missing = post(None).await.unwrap();
    let wrong = post(Some("a-long-shared-webhook-secreT")).await.unwrap();
    let shorter = post(Some("a-long")).await.unwrap();

    for res in [missing, wrong, shorter] {
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(deliveries(&app).await, 0, "nothing stored when refused");

    let right = post(Some(TOKEN)).await.unwrap();
    assert_eq!(right.status(), StatusCode::ACCEPTED);
    assert_eq!(deliveries(&app).await, 1);
}

#[tokio::test]
async fn without_a_configured_secret_every_delivery_is_refused() {
    let app = spawn_app_with(Spawn::default()).await;
    for token in ["", TOKEN] {
        let res = app
            .client
            .post(app.url("/webhooks/gitlab"))
            .header("X-Gitlab-Token", token)
            .header("X-Gitlab-Event", "Issue Hook")
            .body(serde_json::to_vec(&fixture("issue_open_labelled")).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(deliveries(&app).await, 0);
}

#[tokio::test]
async fn one_delivery_replayed_five_times_has_one_effect() {
    let app = spawn().await;
    let (_owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let body = fixture("issue_open_labelled");

    // Five at once, with the same Idempotency-Key.
    let sends = (0..5).map(|_| deliver(&app, &body, Some("delivery-7f3a")));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(sends)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    apply(&app).await;
    // And five more later, after it was applied.
    for _ in 0..5 {
        let res = deliver(&app, &body, Some("delivery-7f3a")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            serde_json::from_str::<Value>(&res.text().await.unwrap()).unwrap()["status"],
            "duplicate"
        );
    }
    apply(&app).await;

    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::ACCEPTED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(deliveries(&app).await, 1);
    assert_eq!(count(&app, "select count(*) from issues").await, 1);
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "issue_shared").await,
        1
    );
    let issue = issue_of(&app, 151230).await;
    assert_eq!(
        history(&app, issue.id)
            .await
            .iter()
            .filter(|(kind, _)| kind == "shared")
            .count(),
        1
    );
}

#[tokio::test]
async fn replays_are_recognised_by_event_uuid_or_by_body() {
    let app = spawn().await;
    let body = serde_json::to_vec(&fixture("issue_open_unlabelled")).unwrap();
    let post = |uuid: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url("/webhooks/gitlab"))
            .header("X-Gitlab-Token", TOKEN)
            .header("X-Gitlab-Event", "Issue Hook")
            .body(body.clone());
        if let Some(uuid) = uuid {
            req = req.header("X-Gitlab-Event-UUID", uuid);
        }
        req.send()
    };
    assert_eq!(
        post(Some("uuid-1")).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(post(Some("uuid-1")).await.unwrap().status(), StatusCode::OK);
    assert_eq!(post(None).await.unwrap().status(), StatusCode::ACCEPTED);
    assert_eq!(post(None).await.unwrap().status(), StatusCode::OK);
    assert_eq!(deliveries(&app).await, 2);
    apply(&app).await;
    assert_eq!(count(&app, "select count(*) from issues").await, 1);
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused_and_change_nothing() {
    let app = spawn().await;
    let mut missing_id = fixture("issue_open_labelled");
    missing_id["object_attributes"]
        .as_object_mut()
        .unwrap()
        .remove("id");
    let huge = with(
        fixture("issue_open_labelled"),
        "/object_attributes/description",
        Value::String("x".repeat(2 * 1024 * 1024)),
    );
    for (body, expected) in [
        (b"{not json".to_vec(), StatusCode::BAD_REQUEST),
        (b"".to_vec(), StatusCode::BAD_REQUEST),
        (
            serde_json::to_vec(&missing_id).unwrap(),
            StatusCode::BAD_REQUEST,
        ),
        (vec![0xff, 0xfe, 0x00], StatusCode::BAD_REQUEST),
        (
            serde_json::to_vec(&huge).unwrap(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ] {
        let res = app
            .client
            .post(app.url("/webhooks/gitlab"))
            .header("X-Gitlab-Token", TOKEN)
            .header("X-Gitlab-Event", "Issue Hook")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), expected);
    }
    assert_eq!(deliveries(&app).await, 0);
    assert_eq!(count(&app, "select count(*) from issues").await, 0);
}

#[tokio::test]
async fn other_kinds_of_events_are_acknowledged_and_ignored() {
    let app = spawn().await;
    let res = app
        .client
        .post(app.url("/webhooks/gitlab"))
        .header("X-Gitlab-Token", TOKEN)
        .header("X-Gitlab-Event", "Push Hook")
        .body(r#"{"object_kind":"push","event_name":"push","ref":"refs/heads/main","commits":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&res.text().await.unwrap()).unwrap()["status"],
        "ignored"
    );
    assert_eq!(deliveries(&app).await, 0);
}

#[tokio::test]
async fn the_answer_comes_at_once_and_the_work_happens_later() {
    let app = spawn().await;
    let (_owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let started = Instant::now();
    let res = deliver(&app, &fixture("issue_open_labelled"), Some("k1")).await;
    let took = started.elapsed();

    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert!(took < Duration::from_millis(500), "answered in {took:?}");
    assert_eq!(
        count(&app, "select count(*) from issues").await,
        0,
        "applied by the background task, not the request"
    );
    assert_eq!(apply(&app).await, 1);
    assert_eq!(count(&app, "select count(*) from issues").await, 1);
}

#[tokio::test]
async fn the_background_task_applies_deliveries_when_woken() {
    let app = spawn_app_with(Spawn {
        overrides: &[("PORTAL_GITLAB_WEBHOOK_TOKEN", TOKEN)],
        background_tasks: true,
        ..Spawn::default()
    })
    .await;
    deliver(&app, &fixture("issue_open_unlabelled"), Some("k1")).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(&app, "select count(*) from issues").await == 0 {
        assert!(Instant::now() < deadline, "the inbox task never applied it");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_action_of_the_fixtures_is_applied() {
    let app = spawn().await;
    let (_owner, partner) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let at = |d, h, mi, s| recorded(2019, 11, d, h, mi, s);

    // open, already labelled severity::2: the clock starts at creation.
    let id = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    let open = issue_of(&app, 151230).await;
    assert_eq!(open.partner_id, Some(partner));
    assert_eq!(open.severity, Some(2));
    assert_eq!(open.clock_started_at, Some(at(8, 10, 15, 0)));
    assert_eq!(
        open.deadline_at,
        Some(at(8, 10, 15, 0) + chrono::Duration::days(30))
    );
    assert_eq!(open.state, "open");

    // close: resolved at the tracker's closed_at, before the deadline.
    deliver_and_apply(&app, &fixture("issue_close")).await;
    let closed = issue_of(&app, 151230).await;
    assert_eq!(closed.state, "closed");
    assert_eq!(closed.resolved_at, Some(at(20, 11, 0, 0)));

    // reopen: open again, the clock and the deadline unchanged.
    deliver_and_apply(&app, &fixture("issue_reopen")).await;
    let reopened = issue_of(&app, 151230).await;
    assert_eq!(reopened.state, "open");
    assert_eq!(reopened.resolved_at, None);
    assert_eq!(reopened.deadline_at, open.deadline_at);
    let kinds: Vec<String> = history(&app, id)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        kinds,
        ["received", "severity_set", "shared", "closed", "reopened"]
    );

    // open without a severity label: no clock.
    deliver_and_apply(&app, &fixture("issue_open_unlabelled")).await;
    let untriaged = issue_of(&app, 151244).await;
    assert_eq!((untriaged.severity, untriaged.deadline_at), (None, None));
    assert_eq!(untriaged.partner_id, Some(partner));

    // update adding severity::3: the clock starts at that update.
    deliver_and_apply(&app, &fixture("issue_update_label_added")).await;
    let labelled = issue_of(&app, 151244).await;
    assert_eq!(labelled.severity, Some(3));
    assert_eq!(labelled.clock_started_at, Some(at(12, 14, 30, 5)));
    assert_eq!(
        labelled.deadline_at,
        Some(at(12, 14, 30, 5) + chrono::Duration::days(45))
    );

    // update changing severity (first heard of): it had its severity all
    // along, so the clock ran from creation.
    deliver_and_apply(&app, &fixture("issue_update_severity_changed")).await;
    let changed = issue_of(&app, 151301).await;
    assert_eq!(changed.severity, Some(4));
    assert_eq!(changed.clock_started_at, Some(at(2, 7, 45, 12)));

    // confidential issue hook.
    let res = app
        .client
        .post(app.url("/webhooks/gitlab"))
        .header("X-Gitlab-Token", TOKEN)
        .header("X-Gitlab-Event", "Confidential Issue Hook")
        .header("Idempotency-Key", "confidential-1")
        .body(serde_json::to_vec(&fixture("confidential_issue_open")).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    apply(&app).await;
    let confidential = issue_of(&app, 151377).await;
    assert!(confidential.confidential);
    assert_eq!(confidential.severity, Some(1));
    let shared = app.emails_to("ada@acme.test").await;
    let last = shared.last().unwrap();
    assert!(
        !last.text.contains(&confidential.title),
        "no confidential title in email"
    );

    assert_eq!(
        count(
            &app,
            "select count(*) from webhook_deliveries where state <> 'done'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn an_older_delivery_arriving_late_changes_nothing() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    deliver_and_apply(&app, &fixture("issue_reopen")).await;
    // The close (20 November) arrives after the reopen (22 November).
    deliver_and_apply(&app, &fixture("issue_close")).await;
    assert_eq!(issue_of(&app, 151230).await.state, "open");
}

#[tokio::test]
async fn a_delivery_that_fails_to_apply_is_retried_then_set_aside() {
    let app = spawn().await;
    // Stored by an earlier version that read it differently: the intake
    // now refuses such a body, so it can only be there from before.
    let body = with(
        fixture("issue_open_unlabelled"),
        "/object_attributes/state",
        json!("locked"),
    );
    sqlx::query(
        "insert into webhook_deliveries (delivery_key, event_header, body, received_at, next_attempt_at)
         values ('old', 'Issue Hook', $1, $2, $2)",
    )
    .bind(body.to_string())
    .bind(app.clock.now())
    .execute(&app.pool)
    .await
    .unwrap();
    assert_eq!(apply(&app).await, 0);
    let (state, attempts): (String, i32) =
        sqlx::query_as("select state, attempts from webhook_deliveries")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((state.as_str(), attempts), ("pending", 1));
    // Not retried before its time.
    apply(&app).await;
    assert_eq!(
        count(&app, "select attempts::bigint from webhook_deliveries").await,
        1
    );
    // Retried later, and set aside after five attempts.
    for _ in 0..6 {
        app.clock.advance(chrono::Duration::hours(1));
        apply(&app).await;
    }
    let (state, attempts): (String, i32) =
        sqlx::query_as("select state, attempts from webhook_deliveries")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((state.as_str(), attempts), ("failed", 5));
    assert_eq!(count(&app, "select count(*) from issues").await, 0);
}

#[tokio::test]
async fn a_title_longer_than_the_portal_keeps_is_applied_cut_not_lost() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let body = with(
        fixture("issue_open_unlabelled"),
        "/object_attributes/title",
        json!("t".repeat(1001)),
    );
    deliver_and_apply(&app, &body).await;
    assert_eq!(issue_of(&app, 151244).await.title.chars().count(), 1000);
    assert_eq!(
        count(
            &app,
            "select count(*) from webhook_deliveries where state <> 'done'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn nul_characters_are_cleaned_from_text_and_refused_in_paths_before_storing() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let body = with(
        with(
            fixture("issue_open_unlabelled"),
            "/object_attributes/title",
            json!("Runner\u{0} fails"),
        ),
        "/object_attributes/description",
        json!("Steps\u{0}:\n1. run"),
    );
    deliver_and_apply(&app, &body).await;
    let issue = issue_of(&app, 151244).await;
    assert_eq!(issue.title, "Runner fails");

    for pointer in ["/project/path_with_namespace", "/object_attributes/url"] {
        let body = with(
            fixture("issue_open_labelled"),
            pointer,
            json!("acme-corp/x\u{0}y"),
        );
        let res = deliver(&app, &body, Some(pointer)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{pointer}");
        assert!(res.text().await.unwrap().contains("control characters"));
    }
    assert_eq!(
        deliveries(&app).await,
        1,
        "nothing stored for the refused ones"
    );
}
