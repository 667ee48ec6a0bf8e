//! What the issue tests share: an app with a webhook secret, real fixture
//! payloads edited per test, deliveries, verified namespaces.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, TimeZone, Utc};
use partner_portal::issues;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Spawn, TestApp, spawn_app_with};

pub const TOKEN: &str = "a-long-shared-webhook-secret";

pub async fn spawn() -> TestApp {
    spawn_app_with(Spawn {
        overrides: &[("PORTAL_GITLAB_WEBHOOK_TOKEN", TOKEN)],
        ..Spawn::default()
    })
    .await
}

/// A payload as the platform sent it (`tests/fixtures/gitlab/`), replayed
/// today: every timestamp in it moved by [`replay_shift`], so the payload
/// stands to the real clock (which the server runs on) exactly as it stood
/// to [`recorded_now`] when it was recorded. A test therefore means the same
/// on any day it runs.
pub fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/gitlab/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut body = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    replay(&mut body, replay_shift());
    body
}

/// The moment the fixtures were recorded at: every time in them is before
/// it. Deliberately years in the past, so that a fixture time reaching the
/// server without [`fixture`]'s move fails today, not on some later day.
pub fn recorded_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2019, 11, 24, 12, 0, 0).unwrap()
}

/// How far the fixtures are moved: from [`recorded_now`] to the real now,
/// in whole seconds (the platform's precision). One value for the whole
/// test process, so that the fixtures of one test agree with each other.
pub fn replay_shift() -> Duration {
    static SHIFT: OnceLock<Duration> = OnceLock::new();
    *SHIFT.get_or_init(|| whole_seconds(Utc::now()) - recorded_now())
}

/// A time written in the fixtures (`2019-11-08 10:15:00 UTC`), as
/// [`fixture`] replays it today.
pub fn recorded(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap() + replay_shift()
}

/// Moves every timestamp in `value`, in whichever of the platform's formats
/// it is written, keeping that format.
fn replay(value: &mut Value, by: Duration) {
    match value {
        Value::String(text) => {
            if let Some(moved) = moved_time(text, by) {
                *text = moved;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| replay(v, by)),
        Value::Object(fields) => fields.values_mut().for_each(|v| replay(v, by)),
        _ => {}
    }
}

fn moved_time(text: &str, by: Duration) -> Option<String> {
    const HOOK: &str = "%Y-%m-%d %H:%M:%S UTC";
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, HOOK) {
        return Some((t.and_utc() + by).format(HOOK).to_string());
    }
    let t = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc) + by;
    Some(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// The payload with the value at a JSON pointer replaced.
pub fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    *body
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in the payload")) = value;
    body
}

/// The platform's timestamp format: `2019-11-08 10:15:00 UTC`.
pub fn gitlab_time(t: DateTime<Utc>) -> Value {
    Value::String(t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// A payload created (and last updated) at `t`.
pub fn created_at(body: Value, t: DateTime<Utc>) -> Value {
    let body = with(body, "/object_attributes/created_at", gitlab_time(t));
    with(body, "/object_attributes/updated_at", gitlab_time(t))
}

/// Moves a payload to another project (and host).
pub fn in_project(body: Value, web_base: &str, path: &str) -> Value {
    let body = with(
        body,
        "/project/path_with_namespace",
        Value::String(path.to_owned()),
    );
    with(
        body,
        "/project/web_url",
        Value::String(format!("{web_base}/{path}")),
    )
}

pub fn labels(body: Value, titles: &[&str]) -> Value {
    let list: Vec<Value> = titles
        .iter()
        .map(|t| serde_json::json!({ "id": 1, "title": t, "type": "GroupLabel" }))
        .collect();
    let body = with(body, "/labels", Value::Array(list.clone()));
    with(body, "/object_attributes/labels", Value::Array(list))
}

pub fn issue_id(body: Value, id: i64, iid: i64) -> Value {
    let body = with(body, "/object_attributes/id", Value::from(id));
    with(body, "/object_attributes/iid", Value::from(iid))
}

/// Posts a delivery as the platform does, with the right secret.
pub async fn deliver(app: &TestApp, body: &Value, key: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/webhooks/gitlab"))
        .header("X-Gitlab-Token", TOKEN)
        .header("X-Gitlab-Event", "Issue Hook")
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(body).unwrap());
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    req.send().await.unwrap()
}

/// Delivers and applies at once; returns the issue's portal id.
pub async fn deliver_and_apply(app: &TestApp, body: &Value) -> i64 {
    let key = uuid::Uuid::new_v4().to_string();
    let res = deliver(app, body, Some(&key)).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    apply(app).await;
    let external = body["object_attributes"]["id"].as_i64().unwrap();
    issue_of(app, external).await.id
}

pub async fn apply(app: &TestApp) -> usize {
    issues::process_pending(&app.state).await.unwrap()
}

/// A verified namespace `https://{host}/{path}` of a partner, as staff
/// verification leaves it.
pub async fn verified_namespace(app: &TestApp, partner_id: i64, host: &str, path: &str) {
    sqlx::query(
        "insert into namespaces (partner_id, url, host, path, state, created_at, decided_at, verified_at)
         values ($1, $2, $3, $4, 'verified', now(), now(), now())",
    )
    .bind(partner_id)
    .bind(format!("https://{host}/{path}"))
    .bind(host)
    .bind(path)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// An approved partner owning `gitlab.com/{namespace}`; its owner signed in.
pub async fn partner_with_namespace(
    app: &TestApp,
    company: &str,
    email: &str,
    namespace: &str,
) -> (crate::agent::Agent, i64) {
    let (agent, partner_id) = crate::fixtures::approved_partner(app, company, email).await;
    verified_namespace(app, partner_id, "gitlab.com", namespace).await;
    (agent, partner_id)
}

/// A partner user added to an organisation as a plain member.
pub async fn member_of(
    app: &TestApp,
    partner_id: i64,
    name: &str,
    email: &str,
) -> crate::agent::Agent {
    let agent = app.partner_user(name, email).await;
    sqlx::query(
        "insert into partner_members (partner_id, user_id, role, created_at)
         select $1, id, 'member', now() from users where lower(email) = lower($2)",
    )
    .bind(partner_id)
    .bind(email)
    .execute(&app.pool)
    .await
    .unwrap();
    agent.get("/dashboard").await;
    agent
}

#[derive(Debug, sqlx::FromRow)]
pub struct Stored {
    pub id: i64,
    pub partner_id: Option<i64>,
    pub severity: Option<i16>,
    pub clock_started_at: Option<DateTime<Utc>>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub state: String,
    pub resolved_at: Option<DateTime<Utc>>,
    pub confidential: bool,
    pub title: String,
}

pub async fn issue_of(app: &TestApp, external_id: i64) -> Stored {
    sqlx::query_as(
        "select id, partner_id, severity, clock_started_at, deadline_at, state, resolved_at,
                confidential, title
           from issues where external_id = $1",
    )
    .bind(external_id)
    .fetch_one(&app.pool)
    .await
    .unwrap_or_else(|e| panic!("no issue {external_id}: {e}"))
}

pub async fn issue_of_id(app: &TestApp, id: i64) -> Stored {
    sqlx::query_as(
        "select id, partner_id, severity, clock_started_at, deadline_at, state, resolved_at,
                confidential, title
           from issues where id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

pub async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

/// History sentences of an issue, oldest first.
pub async fn history(app: &TestApp, issue_id: i64) -> Vec<(String, String)> {
    sqlx::query_as("select kind, summary from issue_events where issue_id = $1 order by id")
        .bind(issue_id)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// Emails of a kind to an address.
pub async fn emails_of_kind(app: &TestApp, address: &str, kind: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from outbox_emails where lower(to_address) = lower($1) and kind = $2",
    )
    .bind(address)
    .bind(kind)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// Three open issues for the partner of `acme-corp`, delivered a minute
/// apart in this order: an S2 ten days overdue, an S1 due in 7 days, an S2
/// due in 30 days. Their ids, in that order.
pub async fn three_open_issues(app: &TestApp) -> [i64; 3] {
    let now = whole_seconds(app.clock.now());
    let overdue = issue_id(
        created_at(fixture("issue_open_labelled"), now - Duration::days(40)),
        1,
        1,
    );
    let s1 = labels(
        issue_id(created_at(fixture("issue_open_labelled"), now), 2, 2),
        &["severity::1"],
    );
    let later = issue_id(created_at(fixture("issue_open_labelled"), now), 3, 3);
    let mut ids = [0; 3];
    for (slot, body) in ids.iter_mut().zip([overdue, s1, later]) {
        *slot = deliver_and_apply(app, &body).await;
        app.clock.advance(Duration::minutes(1));
    }
    ids
}

/// Rounded to whole seconds, as the platform's timestamps are.
pub fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap()
}
