//! What every integration test uses: a fresh PostgreSQL database per test,
//! cloned from a template migrated once, and the portal running on port 0.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
    time::Duration,
};

use partner_portal::{
    clock::Clock,
    config::Config,
    db::{MIGRATOR, quote_ident},
    startup::{Application, Options},
    state::AppState,
};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Executor, PgConnection, PgPool, postgres::PgPoolOptions};
use tokio_util::sync::CancellationToken;

/// The server that test databases are created on.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

fn admin_url() -> String {
    format!("{}/postgres", server_url())
}

/// A database of its own for one test, dropped when the test ends.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A new, migrated database.
    pub async fn new() -> Self {
        let template = template_name();
        let name = format!("pp_test_{}", uuid_suffix());
        let mut conn = PgConnection::connect(&admin_url())
            .await
            .expect("PostgreSQL is reachable");
        // Creating from a template is refused while another session copies
        // the same template; retry briefly.
        for attempt in 0.. {
            let sql = format!(
                "create database {} template {}",
                quote_ident(&name),
                quote_ident(&template)
            );
            match conn.execute(sql.as_str()).await {
                Ok(_) => break,
                Err(e) if attempt < 50 => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot create test database: {e}"),
            }
        }
        let url = format!("{}/{}", server_url(), name);
        Self { name, url }
    }

    /// A name for a database that does not exist yet (dropped at the end).
    pub fn missing() -> Self {
        let name = format!("pp_test_{}", uuid_suffix());
        let url = format!("{}/{}", server_url(), name);
        Self { name, url }
    }

    pub async fn pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(5)
            .connect(&self.url)
            .await
            .expect("test database is reachable")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop is not async: use a runtime of its own on another thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
                    let sql = format!(
                        "drop database if exists {} with (force)",
                        quote_ident(&name)
                    );
                    let _ = conn.execute(sql.as_str()).await;
                }
            });
        })
        .join();
    }
}

fn uuid_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The migrated template, named after the migrations so a change of schema
/// makes a new one. Built once per machine, safely across test processes.
fn template_name() -> String {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let mut hasher = Sha256::new();
        for m in MIGRATOR.iter() {
            hasher.update(m.version.to_le_bytes());
            hasher.update(&*m.checksum);
        }
        let name = format!("pp_template_{}", &hex::encode(hasher.finalize())[..16]);
        let build = name.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(build_template(&build));
        })
        .join()
        .expect("building the template database");
        name
    })
    .clone()
}

async fn build_template(name: &str) {
    let mut conn = PgConnection::connect(&admin_url())
        .await
        .expect("PostgreSQL is reachable for tests (see README)");
    conn.execute("select pg_advisory_lock(727274)")
        .await
        .unwrap();
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    if !exists {
        let building = format!("{name}_building");
        conn.execute(
            format!(
                "drop database if exists {} with (force)",
                quote_ident(&building)
            )
            .as_str(),
        )
        .await
        .unwrap();
        conn.execute(format!("create database {}", quote_ident(&building)).as_str())
            .await
            .unwrap();
        {
            let pool = PgPool::connect(&format!("{}/{}", server_url(), building))
                .await
                .unwrap();
            MIGRATOR
                .run(&pool)
                .await
                .expect("migrations apply to a fresh database");
            pool.close().await;
        }
        conn.execute(
            format!(
                "alter database {} rename to {}",
                quote_ident(&building),
                quote_ident(name)
            )
            .as_str(),
        )
        .await
        .unwrap();
    }
    conn.execute("select pg_advisory_unlock(727274)")
        .await
        .unwrap();
}

/// The key that seals secrets at rest in every test portal (a test's own
/// processes included), so none writes a key file into the work tree.
pub const TEST_SECRET_KEY: &str = "dGVzdCBrZXkgZm9yIHNlY3JldHMgYXQgcmVzdCAhISE=";

/// Configuration for a test: its own database, port 0, mail to `mail_dir`.
pub fn test_config(db: &TestDb, mail_dir: &std::path::Path, overrides: &[(&str, &str)]) -> Config {
    let mut env: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), db.url.clone()),
        ("PORTAL_ADDR".into(), "127.0.0.1:0".into()),
        ("PORTAL_MAIL_DIR".into(), mail_dir.display().to_string()),
        (
            "PORTAL_MAIL_FROM".into(),
            "Partner Portal <partners@portal.test>".into(),
        ),
        ("PORTAL_SECRET_KEY".into(), TEST_SECRET_KEY.into()),
    ]);
    for (k, v) in overrides {
        env.insert(k.to_string(), v.to_string());
    }
    Config::from_lookup(|name| env.get(name).cloned()).expect("valid test configuration")
}

/// The portal running in this process, on its own database.
#[allow(dead_code)] // each test uses the parts it needs
pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:PORT` of `GET /metrics`, when `PORTAL_METRICS_ADDR` is set.
    pub metrics_address: Option<String>,
    pub state: AppState,
    pub pool: PgPool,
    pub clock: Clock,
    pub client: reqwest::Client,
    pub mail_dir: tempfile::TempDir,
    pub shutdown: CancellationToken,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
    pub db: Arc<TestDb>,
}

pub struct Spawn<'a> {
    /// Share a database with another app (two instances, one database).
    pub db: Option<Arc<TestDb>>,
    pub overrides: &'a [(&'a str, &'a str)],
    pub extra_routes: axum::Router<AppState>,
    pub background_tasks: bool,
}

impl Default for Spawn<'_> {
    fn default() -> Self {
        Self {
            db: None,
            overrides: &[],
            extra_routes: axum::Router::new(),
            background_tasks: false,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Spawn::default()).await
}

pub async fn spawn_app_with(spawn: Spawn<'_>) -> TestApp {
    let db = match spawn.db {
        Some(db) => db,
        None => Arc::new(TestDb::new().await),
    };
    let mail_dir = tempfile::tempdir().unwrap();
    let config = test_config(&db, mail_dir.path(), spawn.overrides);
    let clock = Clock::system();
    let app = Application::build_with(
        config,
        Options {
            extra_routes: spawn.extra_routes,
            clock: clock.clone(),
            background_tasks: spawn.background_tasks,
        },
    )
    .await
    .expect("the portal starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let state = app.state().clone();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    TestApp {
        address,
        metrics_address,
        pool: state.pool.clone(),
        state,
        clock,
        client: client(),
        mail_dir,
        shutdown,
        server,
        db,
    }
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }
}

pub const PASSWORD: &str = "copper kettle jazz orbit";

/// An email as the outbox holds it.
#[derive(Debug, Clone)]
pub struct SentEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl SentEmail {
    /// The path of the first link to this portal that starts with `prefix`.
    #[track_caller]
    pub fn link(&self, prefix: &str) -> String {
        self.text
            .split_whitespace()
            .filter_map(|w| w.find("://").map(|i| &w[i + 3..]))
            .filter_map(|rest| rest.find('/').map(|i| &rest[i..]))
            .find(|path| path.starts_with(prefix))
            .unwrap_or_else(|| panic!("no link to {prefix} in {}", self.text))
            .to_owned()
    }
}

impl TestApp {
    pub fn agent(&self) -> crate::agent::Agent {
        crate::agent::Agent::new(&self.address)
    }

    /// Every email queued for `address`, oldest first.
    pub async fn emails_to(&self, address: &str) -> Vec<SentEmail> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "select subject, text_body, html_body from outbox_emails where lower(to_address) = lower($1) order by id",
        )
        .bind(address)
        .fetch_all(&self.pool)
        .await
        .unwrap();
        rows.into_iter()
            .map(|(subject, text, html)| SentEmail {
                subject,
                text,
                html,
            })
            .collect()
    }

    pub async fn last_email_to(&self, address: &str) -> SentEmail {
        self.emails_to(address)
            .await
            .pop()
            .unwrap_or_else(|| panic!("no email to {address}"))
    }

    /// Signs up through the pages, follows the emailed link, signs in.
    pub async fn partner_user(&self, name: &str, email: &str) -> crate::agent::Agent {
        let agent = self.agent();
        agent.get("/signup").await;
        let res = agent
            .post(
                "/signup",
                &[("name", name), ("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(
            res.status,
            reqwest::StatusCode::SEE_OTHER,
            "{}",
            res.snippet()
        );
        let link = self.last_email_to(email).await.link("/verify-email");
        agent.get(&link).await;
        self.sign_in(&agent, email)
            .await
            .assert_redirect("/dashboard");
        // Land on a page, as a browser would after the redirect.
        agent.get("/account").await;
        agent
    }

    pub async fn sign_in(&self, agent: &crate::agent::Agent, email: &str) -> crate::agent::Page {
        agent.get("/login").await;
        agent
            .post("/login", &[("email", email), ("password", PASSWORD)])
            .await
    }

    /// A staff account made as the command line makes it; returns its TOTP secret.
    pub async fn staff_account(
        &self,
        email: &str,
        role: partner_portal::accounts::staff::StaffRole,
    ) -> String {
        use partner_portal::accounts::{EmailAddress, NewPassword, staff};
        let password = NewPassword::parse(PASSWORD, &[]).unwrap();
        let new = staff::NewStaff {
            email: EmailAddress::parse(email).unwrap(),
            name: format!("Staff {}", email.split('@').next().unwrap()),
            role,
            password_hash: self.state.passwords.hash(&password).await.unwrap(),
            totp_secret: staff::generate_totp_secret(),
        };
        let mut tx = self.pool.begin().await.unwrap();
        staff::create(
            &mut tx,
            &self.state.secrets,
            self.clock.now(),
            &partner_portal::audit::Actor::command_line(),
            &new,
            self.url("/login"),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        new.totp_secret
    }

    /// The TOTP secret of a user, opened as the portal opens it.
    pub async fn totp_secret_of(&self, email: &str) -> String {
        let mut conn = self.pool.acquire().await.unwrap();
        let id: i64 = sqlx::query_scalar("select id from users where lower(email) = lower($1)")
            .bind(email)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        partner_portal::accounts::totp_secrets::load(&mut conn, &self.state.secrets, id)
            .await
            .unwrap()
            .expect("the user has a TOTP secret")
            .to_string()
    }

    /// A staff member signed in with password and second factor.
    pub async fn staff_user(
        &self,
        email: &str,
        role: partner_portal::accounts::staff::StaffRole,
    ) -> crate::agent::Agent {
        let secret = self.staff_account(email, role).await;
        let agent = self.agent();
        let res = self.sign_in(&agent, email).await;
        res.assert_redirect("/login/second-factor");
        agent.get("/login/second-factor").await;
        let code = partner_portal::accounts::totp::current_code(&secret, self.clock.now()).unwrap();
        let res = agent.post("/login/second-factor", &[("code", &code)]).await;
        assert_eq!(
            res.status,
            reqwest::StatusCode::OK,
            "recovery codes page: {}",
            res.snippet()
        );
        agent.get("/admin").await;
        agent
    }
}
