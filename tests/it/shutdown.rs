//! Graceful shutdown: in-flight requests finish; the process exits 0.

use std::time::Duration;

use axum::{Router, routing::get};
use reqwest::StatusCode;

use crate::helpers::{Spawn, TestDb, spawn_app_with};

#[tokio::test]
async fn an_in_flight_request_completes_during_shutdown() {
    let slow = Router::new().route(
        "/__test/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            "finished"
        }),
    );
    let app = spawn_app_with(Spawn {
        extra_routes: slow,
        background_tasks: true,
        ..Spawn::default()
    })
    .await;

    let request = tokio::spawn(app.client.get(app.url("/__test/slow")).send());
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.shutdown.cancel();

    let res = request
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "finished");
    let stopped = tokio::time::timeout(Duration::from_secs(10), app.server).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "server stopped cleanly");
    // New connections are no longer accepted.
    assert!(
        crate::helpers::client()
            .get(app.address.clone() + "/healthz")
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_process_exits_zero_on_sigterm() {
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut portal = tokio::process::Command::new(env!("CARGO_BIN_EXE_partner-portal"))
        .env("DATABASE_URL", &db.url)
        .env("PORTAL_SECRET_KEY", crate::helpers::TEST_SECRET_KEY)
        .env("PORTAL_ADDR", format!("127.0.0.1:{port}"))
        .env("PORTAL_MAIL_DIR", dir.path())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = crate::helpers::client();
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the portal came up");

    let pid = nix::unistd::Pid::from_raw(portal.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();

    let status = tokio::time::timeout(Duration::from_secs(15), portal.wait())
        .await
        .expect("exits promptly")
        .unwrap();
    assert_eq!(status.code(), Some(0));
}
