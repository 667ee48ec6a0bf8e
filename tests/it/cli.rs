//! `partner-portal staff create`, `migrate` and `run-jobs` as an operator
//! runs them.

use std::{io::Write, process::Stdio};

use crate::helpers::TestDb;

fn staff_create(
    db: &TestDb,
    mail_dir: &std::path::Path,
    email: &str,
    password: &str,
) -> std::process::Output {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_partner-portal"))
        .args([
            "staff",
            "create",
            "--email",
            email,
            "--name",
            "Grace Hopper",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .env("DATABASE_URL", &db.url)
        .env("PORTAL_SECRET_KEY", crate::helpers::TEST_SECRET_KEY)
        .env("PORTAL_MAIL_DIR", mail_dir)
        .env("PORTAL_PUBLIC_URL", "https://partners.example.com")
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn staff_create_prints_the_totp_secret_and_sends_a_welcome_email() {
    let db = TestDb::new().await;
    let mail = tempfile::tempdir().unwrap();

    let out = staff_create(
        &db,
        mail.path(),
        "grace@example.com",
        "copper kettle jazz orbit",
    );

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let secret = stdout
        .lines()
        .find_map(|l| l.strip_prefix("totp_secret="))
        .expect("a totp_secret= line");
    assert!(
        secret.len() >= 32
            && secret
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)),
        "{secret}"
    );

    let emails: Vec<_> = std::fs::read_dir(mail.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(emails.len(), 1);
    let eml = std::fs::read_to_string(&emails[0])
        .unwrap()
        .replace("=\r\n", "")
        .replace("=\n", "");
    assert!(
        eml.contains("To: \"Grace Hopper\" <grace@example.com>"),
        "{eml}"
    );
    assert!(eml.contains("https://partners.example.com/login"), "{eml}");

    let pool = db.pool().await;
    let (role, hash): (String, String) = sqlx::query_as(
        "select staff_role, password_hash from users where email = 'grace@example.com'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(role, "admin");
    assert!(hash.starts_with("$argon2id$"));
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'staff.created'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
}

#[tokio::test]
async fn staff_create_refuses_a_weak_password_and_a_taken_address() {
    let db = TestDb::new().await;
    let mail = tempfile::tempdir().unwrap();

    let weak = staff_create(&db, mail.path(), "grace@example.com", "password1234");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("too easy to guess"));
    assert!(weak.stdout.is_empty());

    assert!(
        staff_create(
            &db,
            mail.path(),
            "grace@example.com",
            "copper kettle jazz orbit"
        )
        .status
        .success()
    );
    let again = staff_create(
        &db,
        mail.path(),
        "GRACE@example.com",
        "another fine long phrase",
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let pool = db.pool().await;
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 1);
}

/// `run-jobs` runs one scheduler pass now and says what each job did and
/// how long it took (the benchmark reads the pass's time from it).
#[tokio::test]
async fn run_jobs_runs_one_pass_and_reports_each_job() {
    let db = TestDb::new().await;
    let mail = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_partner-portal"))
        .arg("run-jobs")
        .env("DATABASE_URL", &db.url)
        .env("PORTAL_SECRET_KEY", crate::helpers::TEST_SECRET_KEY)
        .env("PORTAL_MAIL_DIR", mail.path())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    for job in partner_portal::jobs::JOBS {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(job.name))
            .unwrap_or_else(|| panic!("no line for {:?} in:\n{stdout}", job.name));
        assert!(line.contains("0 done") && line.ends_with(" ms"), "{line}");
    }
    assert!(
        stdout.lines().last().unwrap().starts_with("one pass"),
        "{stdout}"
    );
}

/// `demo-data` runs long statements on purpose: none is reported as slow
/// between its progress lines, and no SQL reaches the terminal.
#[tokio::test]
async fn demo_data_prints_no_slow_statement_warnings() {
    let db = TestDb::new().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_partner-portal"))
        .args(["demo-data", "--scale", "0.05"])
        .env("DATABASE_URL", &db.url)
        .env("PORTAL_SECRET_KEY", crate::helpers::TEST_SECRET_KEY)
        .env("RUST_LOG", "info,sqlx=warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("slow statement"), "{stderr}");
    assert!(!stderr.to_lowercase().contains("insert into"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("a staff admin"));
}
