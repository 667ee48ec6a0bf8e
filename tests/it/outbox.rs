//! The mail outbox against a real PostgreSQL and a real SMTP listener.

use std::time::Duration;

use partner_portal::{
    clock::Clock,
    mail::{self, DispatchReport, Dispatcher, EmailMessage, Recipient},
};
use sqlx::PgPool;

use crate::{
    helpers::{Spawn, TestDb, spawn_app_with, test_config},
    smtp::{Mode, SmtpServer},
};

struct Note(String);

impl EmailMessage for Note {
    fn kind(&self) -> &'static str {
        "test_note"
    }
    fn subject(&self) -> String {
        self.0.clone()
    }
    fn bodies(&self) -> askama::Result<(String, String)> {
        Ok((
            format!("text: {}", self.0),
            format!("<p>html: {}</p>", self.0),
        ))
    }
}

async fn enqueue(pool: &PgPool, clock: &Clock, subject: &str) -> i64 {
    let mut tx = pool.begin().await.unwrap();
    let id = mail::enqueue(
        &mut tx,
        clock.now(),
        &Recipient::new("ada@example.com", "Ada"),
        &Note(subject.into()),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

async fn status(pool: &PgPool, id: i64) -> (String, i32) {
    sqlx::query_as("select status, attempts from outbox_emails where id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn dispatcher(db: &TestDb, smtp_url: &str, clock: &Clock) -> (Dispatcher, PgPool) {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(
        db,
        dir.path(),
        &[
            ("PORTAL_SMTP_URL", smtp_url),
            ("PORTAL_MAIL_MAX_ATTEMPTS", "3"),
        ],
    );
    let pool = db.pool().await;
    (
        Dispatcher::new(pool.clone(), &config, clock.clone()).unwrap(),
        pool,
    )
}

#[tokio::test]
async fn an_email_whose_transaction_rolls_back_is_never_sent() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let clock = Clock::system();
    let (dispatcher, pool) = dispatcher(&db, &smtp.url(), &clock).await;

    let mut tx = pool.begin().await.unwrap();
    mail::enqueue(
        &mut tx,
        clock.now(),
        &Recipient::new("ada@example.com", "Ada"),
        &Note("rolled back".into()),
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();

    assert_eq!(
        dispatcher.dispatch_once().await.unwrap(),
        DispatchReport::default()
    );
    let rows: i64 = sqlx::query_scalar("select count(*) from outbox_emails")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    assert_eq!(smtp.attempts(), 0);
}

#[tokio::test]
async fn delivered_email_has_both_bodies_and_a_stable_message_id() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let clock = Clock::system();
    let (dispatcher, pool) = dispatcher(&db, &smtp.url(), &clock).await;
    let id = enqueue(&pool, &clock, "Hello").await;

    let report = dispatcher.dispatch_once().await.unwrap();

    assert_eq!(report.sent, 1);
    assert_eq!(status(&pool, id).await, ("sent".into(), 1));
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert!(
        m.contains(&format!("Message-ID: <outbox-{id}@portal.test>")),
        "{m}"
    );
    assert!(m.contains("Subject: Hello"), "{m}");
    assert!(m.contains("text/plain") && m.contains("text/html"), "{m}");
    assert!(m.contains("To: Ada <ada@example.com>"), "{m}");
}

#[tokio::test]
async fn smtp_down_is_retried_and_delivered_exactly_once_when_it_returns() {
    let db = TestDb::new().await;
    let port = SmtpServer::unused_port().await;
    let clock = Clock::system();
    let (dispatcher, pool) = dispatcher(&db, &format!("smtp://127.0.0.1:{port}"), &clock).await;
    let id = enqueue(&pool, &clock, "While down").await;

    let first = dispatcher.dispatch_once().await.unwrap();
    assert_eq!(
        first,
        DispatchReport {
            retrying: 1,
            ..Default::default()
        }
    );
    assert_eq!(status(&pool, id).await, ("pending".into(), 1));
    let error: Option<String> =
        sqlx::query_scalar("select last_error from outbox_emails where id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(error.is_some());

    // Not due again until the backoff has passed.
    assert_eq!(dispatcher.dispatch_once().await.unwrap().claimed(), 0);

    let smtp = SmtpServer::start_on(port).await;
    clock.advance(chrono::Duration::minutes(5));
    assert_eq!(dispatcher.dispatch_once().await.unwrap().sent, 1);
    clock.advance(chrono::Duration::hours(3));
    assert_eq!(dispatcher.dispatch_once().await.unwrap().claimed(), 0);

    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(status(&pool, id).await, ("sent".into(), 2));
}

#[tokio::test]
async fn a_permanent_refusal_is_dead_at_once_without_retries() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    smtp.set_mode(Mode::PermFail);
    let clock = Clock::system();
    let (dispatcher, pool) = dispatcher(&db, &smtp.url(), &clock).await;
    let id = enqueue(&pool, &clock, "Refused").await;

    assert_eq!(dispatcher.dispatch_once().await.unwrap().dead, 1);
    for _ in 0..5 {
        clock.advance(chrono::Duration::hours(2));
        assert_eq!(dispatcher.dispatch_once().await.unwrap().claimed(), 0);
    }

    assert_eq!(smtp.attempts(), 1);
    assert_eq!(status(&pool, id).await, ("dead".into(), 1));
}

#[tokio::test]
async fn temporary_failures_give_up_after_the_configured_attempts() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    smtp.set_mode(Mode::TempFail);
    let clock = Clock::system();
    let (dispatcher, pool) = dispatcher(&db, &smtp.url(), &clock).await; // max 3 attempts
    let id = enqueue(&pool, &clock, "Greylisted").await;

    let mut rounds = Vec::new();
    for _ in 0..6 {
        rounds.push(dispatcher.dispatch_once().await.unwrap());
        clock.advance(chrono::Duration::hours(2));
    }

    assert_eq!(rounds.iter().map(|r| r.retrying).sum::<usize>(), 2);
    assert_eq!(rounds.iter().map(|r| r.dead).sum::<usize>(), 1);
    assert_eq!(smtp.attempts(), 3);
    assert_eq!(status(&pool, id).await, ("dead".into(), 3));
}

#[tokio::test]
async fn two_dispatchers_on_one_database_deliver_each_email_once() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let clock = Clock::system();
    let (a, pool) = dispatcher(&db, &smtp.url(), &clock).await;
    let (b, _) = dispatcher(&db, &smtp.url(), &clock).await;
    for i in 0..150 {
        enqueue(&pool, &clock, &format!("Bulk {i}")).await;
    }

    let drain = |d: Dispatcher| async move {
        let mut sent = 0;
        loop {
            let r = d.dispatch_once().await.unwrap();
            sent += r.sent;
            if r.claimed() == 0 {
                return sent;
            }
        }
    };
    let (sent_a, sent_b) = tokio::join!(drain(a), drain(b));

    assert_eq!(sent_a + sent_b, 150);
    let messages = smtp.messages();
    assert_eq!(messages.len(), 150);
    let mut ids: Vec<&str> = messages
        .iter()
        .filter_map(|m| m.lines().find(|l| l.starts_with("Message-ID:")))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 150, "every Message-ID delivered once");
}

#[tokio::test]
async fn the_running_dispatcher_wakes_as_soon_as_an_email_is_committed() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(Spawn {
        overrides: &[("PORTAL_SMTP_URL", &url)],
        background_tasks: true,
        ..Spawn::default()
    })
    .await;
    // Let the dispatcher finish its first (empty) round and go to sleep.
    tokio::time::sleep(Duration::from_millis(300)).await;

    enqueue(&app.pool, &app.clock, "Prompt").await;

    // Its idle poll is 30 s; only the commit notification can wake it this fast.
    let messages = smtp.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(messages.len(), 1);
}

#[tokio::test]
async fn a_process_killed_mid_send_loses_nothing() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    smtp.set_mode(Mode::HangAfterData);
    let mail_dir = tempfile::tempdir().unwrap();
    let mut portal = tokio::process::Command::new(env!("CARGO_BIN_EXE_partner-portal"))
        .env("DATABASE_URL", &db.url)
        .env("PORTAL_SECRET_KEY", crate::helpers::TEST_SECRET_KEY)
        .env("PORTAL_ADDR", "127.0.0.1:0")
        .env("PORTAL_SMTP_URL", smtp.url())
        .env("PORTAL_MAIL_DIR", mail_dir.path())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pool = db.pool().await;
    let clock = Clock::system();
    // The portal migrates on start; wait for the table before enqueuing.
    for _ in 0..100 {
        let ready: Option<String> = sqlx::query_scalar("select to_regclass('outbox_emails')::text")
            .fetch_one(&pool)
            .await
            .unwrap();
        if ready.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = enqueue(&pool, &clock, "Interrupted").await;
    assert!(
        smtp.wait_received(1, Duration::from_secs(15)).await,
        "the portal started sending"
    );

    portal.kill().await.unwrap(); // SIGKILL: no chance to clean up

    assert_eq!(status(&pool, id).await, ("pending".into(), 1));
    smtp.set_mode(Mode::Accept);
    let (dispatcher, _) = dispatcher(&db, &smtp.url(), &clock).await;
    assert_eq!(
        dispatcher.dispatch_once().await.unwrap().claimed(),
        0,
        "leased, not yet free"
    );
    clock.advance(dispatcher.courier.policy.lease + chrono::Duration::seconds(1));
    assert_eq!(dispatcher.dispatch_once().await.unwrap().sent, 1);
    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(status(&pool, id).await, ("sent".into(), 2));
}
