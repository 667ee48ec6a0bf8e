//! NFR licenses (PRODUCT.md §5) through real HTTP: requests, eligibility,
//! the one-per-product rule, renewal, staff decisions, reminders, tenancy.

mod journey;
mod reminders;
mod renewal;
mod request;
mod staff;
mod suspension;
mod tenancy;

use chrono::{DateTime, Duration, Utc};
use partner_portal::accounts::staff::StaffRole;

use crate::{
    agent::{Agent, Page},
    helpers::TestApp,
};

pub const OWNER: &str = "ada@acme.test";

/// A license as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: i64,
    pub partner_id: i64,
    pub product: String,
    pub state: String,
    pub users: i32,
    pub license_key: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn licenses(app: &TestApp) -> Vec<Row> {
    sqlx::query_as(
        "select id, partner_id, product, state, users, license_key, issued_at, expires_at
           from licenses order by id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

pub async fn license(app: &TestApp, id: i64) -> Row {
    sqlx::query_as(
        "select id, partner_id, product, state, users, license_key, issued_at, expires_at
           from licenses where id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// The form of `/licenses`, loaded first as a browser would.
pub async fn request(
    agent: &Agent,
    products: &[&str],
    users: &str,
    purposes: &[&str],
    justification: &str,
) -> Page {
    agent.get("/licenses").await;
    let mut fields: Vec<(&str, &str)> = products.iter().map(|p| ("products", *p)).collect();
    fields.push(("users", users));
    fields.extend(purposes.iter().map(|p| ("purposes", *p)));
    fields.push(("justification", justification));
    fields.push(("terms_accepted", "on"));
    agent.post("/licenses", &fields).await
}

pub const JUSTIFICATION: &str = "Twenty-five engineers run our integration test suite nightly.";

/// Requests one product and returns the new license's id.
pub async fn requested(agent: &Agent, product: &str, users: u32) -> i64 {
    let users = users.to_string();
    let justification = if users.parse::<u32>().unwrap() > 10 {
        JUSTIFICATION
    } else {
        ""
    };
    let page = request(
        agent,
        &[product],
        &users,
        &["integration_testing"],
        justification,
    )
    .await;
    assert_eq!(
        page.status,
        reqwest::StatusCode::SEE_OTHER,
        "{}",
        page.snippet()
    );
    let to = page.location.unwrap();
    to.strip_prefix("/licenses/").unwrap().parse().unwrap()
}

pub async fn staff(app: &TestApp) -> Agent {
    app.staff_user("grace@vendor.test", StaffRole::Reviewer)
        .await
}

/// Subjects of the emails sent to `address` that mention `about`.
pub async fn subjects(app: &TestApp, address: &str, about: &str) -> Vec<String> {
    app.emails_to(address)
        .await
        .into_iter()
        .map(|e| e.subject)
        .filter(|s| s.contains(about))
        .collect()
}

/// Moves the clock to `to` and signs the partner in again (sessions expire
/// when the clock jumps).
pub async fn travel(app: &TestApp, agent: &Agent, email: &str, to: DateTime<Utc>) {
    app.clock.advance(to - app.clock.now());
    app.sign_in(agent, email)
        .await
        .assert_redirect("/dashboard");
    agent.get("/licenses").await;
}

pub fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// Number of audit entries of `action` about license `id`.
pub async fn audited(app: &TestApp, action: &str, id: i64) -> i64 {
    sqlx::query_scalar(
        "select count(*) from audit_log where action = $1 and subject_type = 'license' and subject_id = $2",
    )
    .bind(action)
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}
