//! Secrets at rest: staff TOTP secrets are sealed under PORTAL_SECRET_KEY,
//! plain ones from an earlier release are sealed at start, and the key can
//! be rotated with every staff member still able to sign in.

use std::sync::Arc;

use chrono::Duration;
use partner_portal::accounts::{staff::StaffRole, totp};
use reqwest::StatusCode;

use crate::helpers::{
    PASSWORD, Spawn, TEST_SECRET_KEY, TestApp, TestDb, spawn_app, spawn_app_with,
};

const NEW_KEY: &str = "bmV3IGtleSBmb3Igc2VjcmV0cyBhdCByZXN0ICEhISE=";

async fn app_with_keys(db: &Arc<TestDb>, current: &str, old: &str) -> TestApp {
    spawn_app_with(Spawn {
        db: Some(db.clone()),
        overrides: &[
            ("PORTAL_SECRET_KEY", current),
            ("PORTAL_OLD_SECRET_KEYS", old),
        ],
        ..Spawn::default()
    })
    .await
}

/// Signs `email` in with password and a code made from `secret`; true
/// when the second factor let them in.
async fn signs_in(app: &TestApp, email: &str, secret: &str) -> bool {
    // A code works once per 30-second step: take a fresh one.
    app.clock.advance(Duration::seconds(31));
    let agent = app.agent();
    app.sign_in(&agent, email)
        .await
        .assert_redirect("/login/second-factor");
    agent.get("/login/second-factor").await;
    let code = totp::current_code(secret, app.clock.now()).unwrap();
    let res = agent.post("/login/second-factor", &[("code", &code)]).await;
    // 200: the recovery codes of a first sign-in; 303: signed in.
    matches!(res.status, StatusCode::OK | StatusCode::SEE_OTHER)
        && agent.get("/admin").await.status == StatusCode::OK
}

fn pg_dump(db: &TestDb, table: &str) -> String {
    let out = std::process::Command::new("pg_dump")
        .args(["--data-only", "--table", table, &db.url])
        .output()
        .expect("pg_dump runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn a_dump_of_users_holds_no_usable_totp_secret() {
    let app = spawn_app().await;
    let mut secrets = Vec::new();
    for email in ["grace@portal.test", "rita@portal.test"] {
        secrets.push(app.staff_account(email, StaffRole::Admin).await);
    }
    assert!(signs_in(&app, "grace@portal.test", &secrets[0]).await);

    let dump = pg_dump(&app.db, "users");
    assert!(
        dump.contains("grace@portal.test"),
        "the dump holds the users"
    );
    for secret in &secrets {
        assert!(!dump.contains(secret.as_str()), "a secret in plain text");
        assert!(!dump.contains(&secret.to_lowercase()));
    }
    // What the dump holds instead opens only with the key, for its own row.
    let sealed: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("select totp_secret, totp_secret_sealed from users order by id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(sealed.iter().all(|(plain, sealed)| plain.is_none()
        && sealed.as_deref().is_some_and(|s| s.starts_with("sealed1:"))));
}

#[tokio::test]
async fn a_sealed_secret_moved_to_another_row_does_not_open() {
    let app = spawn_app().await;
    let grace = app
        .staff_account("grace@portal.test", StaffRole::Admin)
        .await;
    app.staff_account("mallory@portal.test", StaffRole::Reviewer)
        .await;
    // Someone who can write to the database copies Grace's sealed secret
    // to their own row, hoping to sign in with codes from her secret.
    sqlx::query(
        "update users set totp_secret_sealed =
            (select totp_secret_sealed from users where email = 'grace@portal.test')
          where email = 'mallory@portal.test'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    assert!(!signs_in(&app, "mallory@portal.test", &grace).await);
    assert!(signs_in(&app, "grace@portal.test", &grace).await);
}

#[tokio::test]
async fn plain_secrets_of_an_earlier_release_are_sealed_at_start_by_every_instance() {
    let db = Arc::new(TestDb::new().await);
    // As the previous release kept them.
    let pool = db.pool().await;
    let hash = partner_portal::accounts::Passwords::new()
        .hash(&partner_portal::accounts::NewPassword::parse(PASSWORD, &[]).unwrap())
        .await
        .unwrap();
    let mut plain = Vec::new();
    for i in 0..3 {
        let secret = partner_portal::accounts::staff::generate_totp_secret();
        sqlx::query(
            "insert into users (email, name, password_hash, staff_role, email_verified_at, totp_secret, totp_enrolled_at)
             values ($1, 'Staff', $2, 'admin', now(), $3, now())",
        )
        .bind(format!("staff{i}@portal.test"))
        .bind(&hash)
        .bind(&secret)
        .execute(&pool)
        .await
        .unwrap();
        plain.push(secret);
    }
    pool.close().await;

    // Two instances start at once on the same database.
    let (first, second) = tokio::join!(
        app_with_keys(&db, TEST_SECRET_KEY, ""),
        app_with_keys(&db, TEST_SECRET_KEY, "")
    );
    let left: i64 = sqlx::query_scalar(
        "select count(*) from users where totp_secret is not null or totp_secret_sealed is null",
    )
    .fetch_one(&first.pool)
    .await
    .unwrap();
    assert_eq!(left, 0);
    for (i, secret) in plain.iter().enumerate() {
        let app = if i % 2 == 0 { &first } else { &second };
        assert!(signs_in(app, &format!("staff{i}@portal.test"), secret).await);
    }
}

#[tokio::test]
async fn rotating_the_key_keeps_every_staff_member_able_to_sign_in() {
    let before = spawn_app().await;
    let db = before.db.clone();
    let mut staff = Vec::new();
    for (i, role) in [StaffRole::Admin, StaffRole::Reviewer, StaffRole::Reviewer]
        .into_iter()
        .enumerate()
    {
        let email = format!("staff{i}@portal.test");
        let secret = before.staff_account(&email, role).await;
        staff.push((email, secret));
    }
    // One has enrolled already, the others not yet.
    assert!(signs_in(&before, &staff[0].0, &staff[0].1).await);

    // Step 1: the new key is current, the old one still opens (no
    // downtime: every instance is restarted with both).
    let both = app_with_keys(&db, NEW_KEY, TEST_SECRET_KEY).await;
    assert!(signs_in(&both, &staff[1].0, &staff[1].1).await);

    // Step 2: re-seal everything under the new key, while serving.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_partner-portal"))
        .arg("rotate-secret-key")
        .env("DATABASE_URL", &db.url)
        .env("PORTAL_SECRET_KEY", NEW_KEY)
        .env("PORTAL_OLD_SECRET_KEYS", TEST_SECRET_KEY)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("resealed 3 secret(s)"), "{stdout}");

    // Step 3: the old key is gone; everyone still signs in.
    let after = app_with_keys(&db, NEW_KEY, "").await;
    // Each portal has its own clock: this one is past the codes used above.
    after.clock.advance(Duration::minutes(5));
    for (email, secret) in &staff {
        assert!(signs_in(&after, email, secret).await, "{email}");
    }
    // Running it again has nothing left to do.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_partner-portal"))
        .arg("rotate-secret-key")
        .env("DATABASE_URL", &db.url)
        .env("PORTAL_SECRET_KEY", NEW_KEY)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("resealed 0 secret(s)"));
}

#[tokio::test]
async fn without_the_key_that_sealed_it_a_secret_is_refused_and_rotation_names_it() {
    let before = spawn_app().await;
    let secret = before
        .staff_account("grace@portal.test", StaffRole::Admin)
        .await;
    let db = before.db.clone();
    let stranger = app_with_keys(&db, NEW_KEY, "").await;
    assert!(!signs_in(&stranger, "grace@portal.test", &secret).await);

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_partner-portal"))
        .arg("rotate-secret-key")
        .env("DATABASE_URL", &db.url)
        .env("PORTAL_SECRET_KEY", NEW_KEY)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("cannot open users.totp_secret_sealed"),
        "{stdout}"
    );
    // Nothing was lost: with the right key it still works.
    assert!(signs_in(&before, "grace@portal.test", &secret).await);
}
