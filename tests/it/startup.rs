//! Start-up: the database is created and migrated; bad configuration stops
//! the program with one clear line and a non-zero exit.

use std::process::Output;

use partner_portal::startup::Application;
use sqlx::{Connection, PgConnection};

use crate::helpers::{Spawn, TestDb, spawn_app_with, test_config};

#[tokio::test]
async fn a_missing_database_is_created_and_migrated() {
    let db = TestDb::missing();
    let dir = tempfile::tempdir().unwrap();

    let app = Application::build(test_config(&db, dir.path(), &[]))
        .await
        .expect("starts");
    drop(app);

    let mut conn = PgConnection::connect(&db.url)
        .await
        .expect("the database now exists");
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        applied as usize,
        partner_portal::db::MIGRATOR.iter().count()
    );
    let outbox: Option<String> = sqlx::query_scalar("select to_regclass('outbox_emails')::text")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(outbox.is_some());
}

fn run_portal(env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_partner-portal"));
    cmd.arg("migrate")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "error");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn assert_one_line_error(out: &Output, var: &str) {
    assert!(!out.status.success(), "{var}: expected failure");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{var}: one line, got {stderr:?}");
    assert!(
        lines[0].starts_with(&format!("partner-portal: error: {var}")),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[test]
fn each_bad_configuration_value_gives_one_clear_line() {
    for (var, value) in [
        ("DATABASE_URL", "definitely not a url"),
        ("DATABASE_URL", "mysql://root@localhost/portal"),
        ("PORTAL_ADDR", "localhost"),
        ("PORTAL_PUBLIC_URL", "partners.example.com"),
        ("PORTAL_SMTP_URL", "smtp//mail"),
        ("PORTAL_MAIL_FROM", "nobody"),
        ("PORTAL_SCHEDULER_INTERVAL_SECS", "-5"),
        ("PORTAL_DB_POOL_SIZE", "2"),
    ] {
        let out = run_portal(&[(var, value)]);
        assert_one_line_error(&out, var);
    }
}

#[test]
fn an_unreachable_database_is_named_in_one_line() {
    let out = run_portal(&[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/portal")]);
    assert_one_line_error(&out, "DATABASE_URL");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot reach PostgreSQL at 127.0.0.1:1")
    );
}

#[tokio::test]
async fn a_port_in_use_is_named_in_one_line() {
    let db = TestDb::new().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_partner-portal"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("PORTAL_ADDR", &addr)
        .env("RUST_LOG", "error")
        .output()
        .await
        .unwrap();
    assert_one_line_error(&out, "PORTAL_ADDR");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&addr));
}

/// `PORTAL_DB_POOL_SIZE` is every connection an instance opens, the ones
/// waiting for notifications included, however many requests arrive at
/// once: what an operator sizes PostgreSQL's `max_connections` by.
#[tokio::test]
async fn an_instance_opens_no_more_connections_than_its_pool_size() {
    let app = spawn_app_with(Spawn {
        overrides: &[("PORTAL_DB_POOL_SIZE", "6")],
        background_tasks: true,
        ..Spawn::default()
    })
    .await;
    let mut watcher = PgConnection::connect(&app.db.url).await.unwrap();
    let portal_connections = "select count(*) from pg_stat_activity
                               where datname = current_database() and application_name = 'partner-portal'";

    let mut most = 0;
    for _ in 0..5 {
        let pages = (0..40).map(|_| app.get("/readyz"));
        let (answers, open) = tokio::join!(futures_util::future::join_all(pages), async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            sqlx::query_scalar::<_, i64>(portal_connections)
                .fetch_one(&mut watcher)
                .await
                .unwrap()
        });
        assert!(answers.iter().all(|r| r.status() == 200));
        most = most.max(open);
    }
    let open: i64 = sqlx::query_scalar(portal_connections)
        .fetch_one(&mut watcher)
        .await
        .unwrap();
    most = most.max(open);
    assert!(most <= 6, "{most} connections open");
    assert!(most > 3, "the three listeners and some requests: {most}");
}
