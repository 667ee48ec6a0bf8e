//! Expiry reminders from the scheduler: 30 and 7 days before and on expiry,
//! each once per term however often, however many instances, and after
//! downtime only the latest. The clock moves; nothing sleeps.

use partner_portal::jobs;

use super::*;
use crate::{
    fixtures::approved_partner,
    helpers::{Spawn, spawn_app, spawn_app_with},
};

const THIRTY: &str = "NFR license expires in 30 days";
const SEVEN: &str = "NFR license expires in 7 days";
const EXPIRED: &str = "NFR license has expired";

async fn counts(app: &TestApp) -> (usize, usize, usize) {
    (
        subjects(app, OWNER, THIRTY).await.len(),
        subjects(app, OWNER, SEVEN).await.len(),
        subjects(app, OWNER, EXPIRED).await.len(),
    )
}

async fn issued(app: &TestApp) -> (Agent, i64, DateTime<Utc>) {
    let (agent, _) = approved_partner(app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "saas", 5).await;
    let expires = license(app, id).await.expires_at.unwrap();
    (agent, id, expires)
}

#[tokio::test]
async fn each_reminder_is_sent_once_when_the_scheduler_runs_repeatedly() {
    let app = spawn_app().await;
    let (_, _, e) = issued(&app).await;

    for (at, expected) in [
        (e - days(31), (0, 0, 0)),
        (e - days(30), (1, 0, 0)),
        (e - days(29), (1, 0, 0)),
        (e - days(7) - Duration::seconds(1), (1, 0, 0)),
        (e - days(7), (1, 1, 0)),
        (e - days(1), (1, 1, 0)),
        (e, (1, 1, 1)),
        (e + days(3), (1, 1, 1)),
        (e + days(40), (1, 1, 1)),
    ] {
        for _ in 0..3 {
            jobs::run_at(&app.state, at).await.unwrap();
        }
        assert_eq!(
            counts(&app).await,
            expected,
            "at expiry {:+} s",
            (at - e).num_seconds()
        );
    }
    let expiring = app
        .emails_to(OWNER)
        .await
        .into_iter()
        .find(|m| m.subject.contains(THIRTY))
        .unwrap();
    assert!(
        expiring.text.contains("expires ") && expiring.text.contains("in 30 days"),
        "{}",
        expiring.text
    );
}

#[tokio::test]
async fn concurrent_runs_on_two_instances_send_each_reminder_once() {
    let app = spawn_app().await;
    let other = spawn_app_with(Spawn {
        db: Some(app.db.clone()),
        ..Default::default()
    })
    .await;
    let (agent, _, e) = issued(&app).await;
    requested(&agent, "self_managed", 3).await;
    let at = e - days(7) + Duration::hours(1);

    let runs = (0..4).map(|i| {
        let state = if i % 2 == 0 { &app.state } else { &other.state };
        jobs::run_at(state, at)
    });
    for result in futures_util::future::join_all(runs).await {
        result.unwrap();
    }

    // Two licenses, each with its latest reminder only: the 7-day one.
    assert_eq!(counts(&app).await, (0, 2, 0));
    let recorded: i64 = sqlx::query_scalar("select count(*) from license_reminders")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(recorded, 2);
}

#[tokio::test]
async fn a_license_that_expired_while_the_portal_was_down_gets_its_expiry_notice_once() {
    let app = spawn_app().await;
    let (_, id, e) = issued(&app).await;
    jobs::run_at(&app.state, e - days(30)).await.unwrap();

    // Down from 29 days before expiry until 12 days after.
    jobs::run_at(&app.state, e + days(12)).await.unwrap();
    assert_eq!(counts(&app).await, (1, 0, 1), "no stale 7-day reminder");

    // Restarted: another instance on the same database sends nothing more.
    app.shutdown.cancel();
    let restarted = spawn_app_with(Spawn {
        db: Some(app.db.clone()),
        ..Default::default()
    })
    .await;
    jobs::run_at(&restarted.state, e + days(13)).await.unwrap();
    assert_eq!(counts(&restarted).await, (1, 0, 1));
    let history: Vec<String> = sqlx::query_scalar(
        "select detail from license_events where license_id = $1 and kind = 'reminder' order by id",
    )
    .bind(id)
    .fetch_all(&restarted.pool)
    .await
    .unwrap();
    assert_eq!(
        history,
        ["Reminder sent: expires in 30 days", "Expiry notice sent"]
    );
}

#[tokio::test]
async fn a_renewed_license_is_reminded_about_its_new_expiry_only() {
    let app = spawn_app().await;
    let (agent, id, e) = issued(&app).await;
    jobs::run_at(&app.state, e - days(30)).await.unwrap();
    travel(&app, &agent, OWNER, e - days(20)).await;
    agent
        .post(&format!("/licenses/{id}/renew"), &[])
        .await
        .assert_redirect(&format!("/licenses/{id}"));

    jobs::run_at(&app.state, e - days(7)).await.unwrap();
    jobs::run_at(&app.state, e + days(1)).await.unwrap();
    assert_eq!(counts(&app).await, (1, 0, 0));

    let new_expiry = license(&app, id).await.expires_at.unwrap();
    jobs::run_at(&app.state, new_expiry - days(30))
        .await
        .unwrap();
    assert_eq!(counts(&app).await, (2, 0, 0));
}

#[tokio::test]
async fn revoked_and_waiting_licenses_get_no_reminders() {
    let app = spawn_app().await;
    let (agent, id, e) = issued(&app).await;
    requested(&agent, "self_managed", 30).await;
    sqlx::query("update licenses set state = 'revoked' where id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();

    jobs::run_at(&app.state, e).await.unwrap();

    assert_eq!(counts(&app).await, (0, 0, 0));
}

#[tokio::test]
async fn the_scheduler_runs_with_the_portal_at_start() {
    let app = spawn_app().await;
    let (_, id, _) = issued(&app).await;
    // Make the license expire in 30 days, so its first reminder is due now.
    sqlx::query(
        "update licenses set expires_at = $2 + interval '30 days', next_reminder_at = $2 - interval '1 second'
          where id = $1",
    )
    .bind(id)
    .bind(app.clock.now())
    .execute(&app.pool)
    .await
    .unwrap();

    let running = spawn_app_with(Spawn {
        db: Some(app.db.clone()),
        background_tasks: true,
        ..Default::default()
    })
    .await;

    let mut sent = 0;
    for _ in 0..100 {
        sent = subjects(&app, OWNER, THIRTY).await.len();
        if sent > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(sent, 1, "the first pass runs at start");
    running.shutdown.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(10), running.server)
        .await
        .expect("the scheduler stops on shutdown")
        .unwrap()
        .unwrap();
}
