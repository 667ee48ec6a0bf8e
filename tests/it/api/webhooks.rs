//! Webhooks to partners' endpoints (§10): registered on /integrations with
//! a secret shown once, signed as Standard Webhooks do (checked by the
//! reference library, not the portal's code), retried until a 2xx and then
//! never again, logged with the endpoint's answers, sent again on request,
//! never to private or loopback addresses, never across organisations, and
//! an endpoint failing for three days disabled with an email.
//!
//! The receiver is a real HTTP server on a loopback port, reached through
//! `PORTAL_WEBHOOK_ALLOW_LOOPBACK=true` (production never sets it).

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use chrono::Duration;
use partner_portal::{
    integrations::webhooks::delivery, issues::run_reminders,
    licenses::reminder_job::send_expiry_reminders, outbox::Report,
};
use serde_json::{Value, json};

use crate::{
    agent::Agent,
    helpers::{Spawn, TestApp, spawn_app_with},
    issues::support::*,
};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> String {
        self.headers[name].to_str().unwrap().to_owned()
    }
}

#[derive(Default)]
struct Script {
    got: Vec<Received>,
    /// Answers to give first, in order; then 200.
    answers: VecDeque<(StatusCode, String)>,
    /// Answer every request with this instead (until cleared).
    always: Option<StatusCode>,
}

/// A partner's tool: records every request and answers as scripted.
#[derive(Clone)]
struct Receiver {
    url: String,
    port: u16,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let app = Router::new()
            .route("/hooks", post(receive))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            url: format!("http://127.0.0.1:{port}/hooks"),
            port,
            script,
        }
    }

    fn fail_next(&self, times: usize, status: StatusCode, body: &str) {
        let mut s = self.script.lock().unwrap();
        for _ in 0..times {
            s.answers.push_back((status, body.to_owned()));
        }
    }

    fn always(&self, status: Option<StatusCode>) {
        self.script.lock().unwrap().always = status;
    }

    fn got(&self) -> Vec<Received> {
        self.script.lock().unwrap().got.clone()
    }

    fn types(&self) -> Vec<String> {
        self.got()
            .iter()
            .map(|r| r.json()["type"].as_str().unwrap().to_owned())
            .collect()
    }
}

async fn receive(
    State(script): State<Arc<Mutex<Script>>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let mut s = script.lock().unwrap();
    s.got.push(Received { headers, body });
    if let Some(status) = s.always {
        return (status, "still down".into());
    }
    s.answers
        .pop_front()
        .unwrap_or((StatusCode::OK, "{\"ok\":true}".into()))
}

async fn spawn(allow_loopback: bool) -> TestApp {
    spawn_app_with(Spawn {
        overrides: &[
            ("PORTAL_GITLAB_WEBHOOK_TOKEN", TOKEN),
            (
                "PORTAL_WEBHOOK_ALLOW_LOOPBACK",
                if allow_loopback { "true" } else { "false" },
            ),
        ],
        ..Spawn::default()
    })
    .await
}

/// Undoes the HTML escaping of a page's text.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("&#") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').unwrap() + at;
        let code = &rest[at + 2..end];
        let n = match code.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16).unwrap(),
            None => code.parse().unwrap(),
        };
        out.push(char::from_u32(n).unwrap());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out.replace("&amp;", "&").replace("&quot;", "\"")
}

/// Registers an endpoint through /integrations as `admin`; returns its id
/// and its secret, read from the page it lands on.
async fn endpoint(admin: &Agent, url: &str, events: &[&str]) -> (i64, String) {
    admin.get("/integrations").await;
    let mut fields = vec![("url", url)];
    fields.extend(events.iter().map(|e| ("events", *e)));
    let page = admin.post("/integrations/endpoints", &fields).await;
    let to = page
        .location
        .clone()
        .unwrap_or_else(|| panic!("{}", page.snippet()));
    let id = to
        .strip_prefix("/integrations/endpoints/")
        .unwrap()
        .parse()
        .unwrap();
    let page = unescape(&admin.get(&to).await.body);
    let at = page
        .find("secret whsec_")
        .expect("the secret is shown once")
        + "secret ".len();
    let secret = page[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "_+/=".contains(*c))
        .collect();
    (id, secret)
}

async fn deliver_round(app: &TestApp) -> Report {
    delivery::worker(&app.state).deliver_once().await.unwrap()
}

/// Moves the portal's clock on and delivers what fell due.
async fn later(app: &TestApp, by: Duration) -> Report {
    app.clock.advance(by);
    deliver_round(app).await
}

fn verify(secret: &str, got: &Received) {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(&got.body, &got.headers)
        .unwrap_or_else(|e| panic!("the signature verifies: {e:?}"));
}

#[tokio::test]
async fn a_new_issue_reaches_the_endpoint_signed_as_standard_webhooks_say() {
    let app = spawn(true).await;
    let receiver = Receiver::start().await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let (id, secret) = endpoint(&acme, &receiver.url, &["issue.shared"]).await;
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    // Shown once; kept sealed, never as typed.
    assert!(
        !unescape(
            &acme
                .get(&format!("/integrations/endpoints/{id}"))
                .await
                .body
        )
        .contains(&secret)
    );
    let sealed: String = sqlx::query_scalar("select secret_sealed from webhook_endpoints")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!sealed.contains(&secret[6..]));

    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    let report = deliver_round(&app).await;
    assert_eq!(report.sent, 1, "{report:?}");

    let got = receiver.got();
    assert_eq!(got.len(), 1);
    verify(&secret, &got[0]);
    // Another secret does not verify it: the check is real.
    let other = partner_portal::integrations::webhooks::signing::new_secret();
    assert!(
        standardwebhooks::Webhook::new(&other)
            .unwrap()
            .verify(&got[0].body, &got[0].headers)
            .is_err()
    );
    assert!(got[0].header("webhook-id").starts_with("msg_"));
    assert_eq!(got[0].header("content-type"), "application/json");
    let body = got[0].json();
    assert_eq!(body["type"], "issue.shared");
    assert!(chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().unwrap()).is_ok());
    let data = &body["data"]["issue"];
    assert_eq!(data["id"], issue);
    assert_eq!(
        data["reference"],
        "acme-corp/integrations/runner-component#17"
    );
    assert_eq!(data["severity"], 2);
    assert_eq!(data["state"], "open");
    assert_eq!(
        data["portal_url"],
        app.state.config.link(&format!("/issues/{issue}"))
    );

    // The log shows the delivery and the endpoint's answer.
    let log = acme
        .get(&format!("/integrations/endpoints/{id}"))
        .await
        .body;
    assert!(
        log.contains("issue.shared") && log.contains("Delivered"),
        "{log}"
    );
    assert!(log.contains("<strong>200</strong>"), "{log}");
    assert!(
        log.contains("{&#34;ok&#34;:true}") || log.contains("{&quot;ok&quot;:true}"),
        "{log}"
    );
    let list = acme.get("/integrations").await.body;
    assert!(list.contains(&receiver.url) && list.contains("Active"));
}

#[tokio::test]
async fn a_receiver_that_fails_twice_then_answers_gets_the_event_once() {
    let app = spawn(true).await;
    let receiver = Receiver::start().await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let (id, secret) = endpoint(&acme, &receiver.url, &["issue.shared"]).await;
    let long = "x".repeat(3000);
    receiver.fail_next(1, StatusCode::INTERNAL_SERVER_ERROR, &long);
    receiver.fail_next(1, StatusCode::BAD_GATEWAY, "upstream down");

    deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    assert_eq!(deliver_round(&app).await.retrying, 1);
    // Not due again at once: the backoff holds it.
    assert_eq!(deliver_round(&app).await.claimed(), 0);
    assert_eq!(later(&app, Duration::minutes(1)).await.retrying, 1);
    assert_eq!(later(&app, Duration::minutes(2)).await.sent, 1);
    // Delivered: nothing more, however long and often the worker runs.
    for _ in 0..3 {
        assert_eq!(later(&app, Duration::days(1)).await.claimed(), 0);
    }

    let got = receiver.got();
    assert_eq!(got.len(), 3, "two failures and one success");
    let ids: Vec<String> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "one message, retried: {ids:?}"
    );
    assert_eq!(got[0].body, got[2].body, "the same body each time");
    for r in &got {
        verify(&secret, r);
    }
    assert_eq!(
        count(
            &app,
            "select count(*) from endpoint_deliveries where status = 'sent'"
        )
        .await,
        1
    );

    // Every attempt is logged with its answer; the first KiB of it only.
    let attempts: Vec<(Option<i32>, Option<String>)> =
        sqlx::query_as("select status_code, response_excerpt from endpoint_attempts order by id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        attempts.iter().map(|a| a.0).collect::<Vec<_>>(),
        [Some(500), Some(502), Some(200)]
    );
    assert_eq!(attempts[0].1.as_deref().map(str::len), Some(1024));
    app.sign_in(&acme, "ada@acme.test").await;
    let log = acme
        .get(&format!("/integrations/endpoints/{id}"))
        .await
        .body;
    assert!(log.contains("<strong>500</strong>") && log.contains("<strong>502</strong>"));
    assert!(log.contains("upstream down"));
    assert!(
        !log.contains(&"x".repeat(1025)),
        "no more than a KiB of an answer"
    );
}

#[tokio::test]
async fn private_and_loopback_endpoints_are_refused_at_registration_and_at_delivery() {
    let app = spawn(false).await;
    let receiver = Receiver::start().await;
    let (acme, partner) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    acme.get("/integrations").await;
    for url in [
        "https://10.0.0.1/hooks".to_owned(),
        "https://127.0.0.1/hooks".to_owned(),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://[::1]/hooks".to_owned(),
        receiver.url.clone(),
        format!("https://localhost:{}/hooks", receiver.port),
    ] {
        let page = acme
            .post(
                "/integrations/endpoints",
                &[("url", &url), ("events", "issue.shared")],
            )
            .await;
        assert_eq!(
            page.status,
            reqwest::StatusCode::UNPROCESSABLE_ENTITY,
            "{url}"
        );
        assert!(
            page.body.contains("id=\"url-error\""),
            "{url}: the message is next to the field"
        );
        assert!(
            page.body.contains("public addresses only") || page.body.contains("https://"),
            "{url}: {}",
            page.snippet()
        );
        assert!(
            page.body.contains(&format!("value=\"{url}\"")),
            "what was typed is kept"
        );
    }
    assert_eq!(
        count(&app, "select count(*) from webhook_endpoints").await,
        0
    );

    // A name that resolved to a public address when it was registered and
    // to loopback now (DNS rebinding): the delivery is not made.
    let id: i64 = sqlx::query_scalar(
        "insert into webhook_endpoints (partner_id, url, events, created_at)
         values ($1, $2, '{issue.shared}', now()) returning id",
    )
    .bind(partner)
    .bind(format!("https://localhost:{}/hooks", receiver.port))
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let secret = partner_portal::integrations::webhooks::signing::new_secret();
    sqlx::query("update webhook_endpoints set secret_sealed = $2 where id = $1")
        .bind(id)
        .bind(app.state.secrets.seal_str(&delivery::purpose(id), &secret))
        .execute(&app.pool)
        .await
        .unwrap();
    deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    let report = deliver_round(&app).await;
    assert_eq!(report.dead, 1, "{report:?}");
    assert!(receiver.got().is_empty(), "nothing reached loopback");
    let error: String = sqlx::query_scalar("select last_error from endpoint_deliveries")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(error.contains("not a public address"), "{error}");
}

#[tokio::test]
async fn an_event_of_one_organisation_never_reaches_anothers_endpoint() {
    let app = spawn(true).await;
    let acme_receiver = Receiver::start().await;
    let globex_receiver = Receiver::start().await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let (globex, _) = partner_with_namespace(&app, "Globex", "hank@globex.test", "globex").await;
    let (acme_endpoint, _) = endpoint(&acme, &acme_receiver.url, &["issue.shared"]).await;
    let (globex_endpoint, _) = endpoint(&globex, &globex_receiver.url, &["issue.shared"]).await;

    deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    deliver_round(&app).await;
    assert_eq!(acme_receiver.types(), ["issue.shared"]);
    assert!(globex_receiver.got().is_empty());
    let delivery: i64 = sqlx::query_scalar("select id from endpoint_deliveries")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    // Another organisation's endpoint is not found, whatever the route.
    globex.get("/integrations").await;
    let other = format!("/integrations/endpoints/{acme_endpoint}");
    assert_eq!(
        globex.get(&other).await.status,
        reqwest::StatusCode::NOT_FOUND
    );
    for action in ["delete", "test", "enable"] {
        let page = globex.post(&format!("{other}/{action}"), &[]).await;
        assert_eq!(page.status, reqwest::StatusCode::NOT_FOUND, "{action}");
    }
    let resend = |endpoint: i64| {
        format!("/integrations/endpoints/{endpoint}/deliveries/{delivery}/send-again")
    };
    assert_eq!(
        globex.post(&resend(acme_endpoint), &[]).await.status,
        reqwest::StatusCode::NOT_FOUND
    );
    // Acme's delivery through Globex's own endpoint: not found either.
    assert_eq!(
        globex.post(&resend(globex_endpoint), &[]).await.status,
        reqwest::StatusCode::NOT_FOUND
    );
    let page = globex
        .get(&format!("/integrations/endpoints/{globex_endpoint}"))
        .await
        .body;
    assert!(
        !page.contains("issue.shared</code><br>"),
        "Globex's log holds nothing of Acme's"
    );
    assert_eq!(
        count(&app, "select count(*) from webhook_endpoints").await,
        2
    );
    assert_eq!(
        count(&app, "select count(*) from endpoint_deliveries").await,
        1
    );
    deliver_round(&app).await;
    assert!(globex_receiver.got().is_empty());
}

#[tokio::test]
async fn every_issue_and_license_event_reaches_the_endpoints_that_asked_for_it() {
    let app = spawn(true).await;
    let everything = Receiver::start().await;
    let licenses_only = Receiver::start().await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let all = [
        "issue.shared",
        "issue.comment",
        "issue.deadline_approaching",
        "issue.overdue",
        "issue.closed",
        "license.issued",
        "license.expiring",
    ];
    endpoint(&acme, &everything.url, &all).await;
    endpoint(&acme, &licenses_only.url, &["license.issued"]).await;

    // The issue arrives, half its window already gone (S2, 30 days,
    // opened 16 days before now); each step's deliveries go before the
    // next step, so they arrive in order.
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    deliver_round(&app).await;
    let note = with(
        fixture("note_event"),
        "/object_attributes/note",
        json!("Any news?"),
    );
    let res = app
        .client
        .post(app.url("/webhooks/gitlab"))
        .header("X-Gitlab-Token", TOKEN)
        .header("X-Gitlab-Event", "Note Hook")
        .header("Idempotency-Key", "note-1")
        .json(&note)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::ACCEPTED);
    apply(&app).await;
    deliver_round(&app).await;
    run_reminders(&app.state, app.clock.now()).await.unwrap();
    deliver_round(&app).await;
    crate::licenses::requested(&acme, "saas", 5).await;
    deliver_round(&app).await;
    app.clock.advance(Duration::days(15));
    run_reminders(&app.state, app.clock.now()).await.unwrap();
    deliver_round(&app).await;
    deliver_and_apply(&app, &fixture("issue_close")).await;
    deliver_round(&app).await;
    app.clock.advance(Duration::days(325));
    send_expiry_reminders(&app.state, app.clock.now())
        .await
        .unwrap();
    deliver_round(&app).await;

    assert_eq!(
        everything.types(),
        [
            "issue.shared",
            "issue.comment",
            "issue.deadline_approaching",
            "license.issued",
            "issue.overdue",
            "issue.closed",
            "license.expiring",
        ]
    );
    assert_eq!(licenses_only.types(), ["license.issued"]);
    let got: Vec<Value> = everything.got().iter().map(Received::json).collect();
    for event in [&got[0], &got[1], &got[2], &got[4], &got[5]] {
        assert_eq!(event["data"]["issue"]["id"], issue, "{event}");
    }
    assert_eq!(got[1]["data"]["comment"]["body"], "Any news?");
    assert_eq!(got[1]["data"]["comment"]["author"]["username"], "praman");
    assert_eq!(got[2]["data"]["threshold"], "half");
    assert_eq!(got[3]["data"]["license"]["users"], 5);
    assert_eq!(got[3]["data"]["term"]["kind"], "new");
    assert_eq!(got[5]["data"]["issue"]["state"], "closed");
    assert_eq!(got[5]["data"]["closed_by"], "tracker");
    assert_eq!(got[6]["data"]["reminder"], "thirty_days");
}

#[tokio::test]
async fn an_endpoint_failing_for_three_days_is_disabled_and_its_admins_emailed() {
    let app = spawn(true).await;
    let receiver = Receiver::start().await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let (id, _) = endpoint(&acme, &receiver.url, &["issue.shared", "issue.closed"]).await;
    receiver.always(Some(StatusCode::SERVICE_UNAVAILABLE));

    deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    assert_eq!(deliver_round(&app).await.retrying, 1);
    let page = acme.get("/integrations").await.body;
    assert!(page.contains("Failing"), "{page}");
    // Retried with growing waits for three days; not disabled before.
    let mut attempts = 1;
    while app.clock.now() < chrono::Utc::now() + Duration::days(3) - Duration::hours(7) {
        attempts += later(&app, Duration::hours(1)).await.claimed();
    }
    assert!(
        (8..40).contains(&attempts),
        "{attempts} attempts in three days"
    );
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "webhook_endpoint_disabled").await,
        0
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from webhook_endpoints where disabled_at is null"
        )
        .await,
        1
    );
    let mut dead = 0;
    for _ in 0..16 {
        dead += later(&app, Duration::hours(1)).await.dead;
    }
    assert_eq!(dead, 1, "the delivery is given up after three days");
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "webhook_endpoint_disabled").await,
        1
    );
    app.sign_in(&acme, "ada@acme.test").await;
    let page = acme
        .get(&format!("/integrations/endpoints/{id}"))
        .await
        .body;
    assert!(
        page.contains("Disabled") && page.contains("Enable again"),
        "{page}"
    );
    assert!(page.contains("failed for three days"));

    // Disabled: new events are not queued for it.
    deliver_and_apply(&app, &fixture("issue_close")).await;
    assert_eq!(
        count(&app, "select count(*) from endpoint_deliveries").await,
        1
    );

    // Enabled again, it gets new events, and what it missed on request.
    receiver.always(None);
    acme.post(&format!("/integrations/endpoints/{id}/enable"), &[])
        .await
        .assert_redirect(&format!("/integrations/endpoints/{id}"));
    let missed: i64 = sqlx::query_scalar("select id from endpoint_deliveries")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    acme.get(&format!("/integrations/endpoints/{id}")).await;
    acme.post(
        &format!("/integrations/endpoints/{id}/deliveries/{missed}/send-again"),
        &[],
    )
    .await
    .assert_redirect(&format!("/integrations/endpoints/{id}"));
    assert_eq!(deliver_round(&app).await.sent, 1);
    let last = receiver.got().pop().unwrap();
    assert_eq!(last.json()["type"], "issue.shared");
    let audited = count(
        &app,
        "select count(*) from audit_log where action in ('webhook_endpoint.disabled', 'webhook_endpoint.enabled')",
    )
    .await;
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn send_again_keeps_the_webhook_id_and_a_test_event_shows_the_answer() {
    let app = spawn(true).await;
    let receiver = Receiver::start().await;
    let (acme, partner) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let (id, secret) = endpoint(&acme, &receiver.url, &["issue.shared"]).await;
    let path = format!("/integrations/endpoints/{id}");

    acme.get(&path).await;
    acme.post(&format!("{path}/test"), &[])
        .await
        .assert_redirect(&path);
    deliver_round(&app).await;
    let test = receiver.got().pop().unwrap();
    verify(&secret, &test);
    assert_eq!(test.json()["type"], "endpoint.test");

    deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    deliver_round(&app).await;
    let first: i64 =
        sqlx::query_scalar("select id from endpoint_deliveries where event_type = 'issue.shared'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    acme.get(&path).await;
    acme.post(&format!("{path}/deliveries/{first}/send-again"), &[])
        .await
        .assert_redirect(&path);
    deliver_round(&app).await;
    let got = receiver.got();
    assert_eq!(got.len(), 3);
    assert_eq!(got[1].header("webhook-id"), got[2].header("webhook-id"));
    assert_eq!(got[1].json(), got[2].json());
    verify(&secret, &got[2]);

    // A member reads the log but changes nothing.
    let member = member_of(&app, partner, "Max Member", "max@acme.test").await;
    let page = member.get(&path).await;
    assert!(page.body.contains("endpoint.test") && !page.body.contains("Send again"));
    let refused = member.post(&format!("{path}/test"), &[]).await;
    assert_eq!(refused.status, reqwest::StatusCode::FORBIDDEN);
    let refused = member.post(&format!("{path}/delete"), &[]).await;
    assert_eq!(refused.status, reqwest::StatusCode::FORBIDDEN);
    assert_eq!(
        count(&app, "select count(*) from webhook_endpoints").await,
        1
    );

    // Deleted by an admin: its log goes with it.
    acme.get(&path).await;
    acme.post(&format!("{path}/delete"), &[])
        .await
        .assert_redirect("/integrations");
    assert_eq!(
        count(&app, "select count(*) from endpoint_attempts").await,
        0
    );
    assert_eq!(acme.get(&path).await.status, reqwest::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_bad_endpoint_form_is_explained_next_to_its_fields_and_makes_nothing() {
    let app = spawn(true).await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    acme.get("/integrations").await;
    let page = acme
        .post(
            "/integrations/endpoints",
            &[("url", "ftp://hooks.example.com/in")],
        )
        .await;
    assert_eq!(page.status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("id=\"url-error\"") && page.body.contains("must start with https://")
    );
    assert!(
        page.body.contains("id=\"events-error\"")
            && page.body.contains("Choose at least one event.")
    );
    assert!(page.body.contains("these 2 problems"));
    let page = acme
        .post(
            "/integrations/endpoints",
            &[
                ("url", "https://hooks.example.com/in"),
                ("events", "issue.deleted"),
            ],
        )
        .await;
    assert_eq!(page.status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("is not an event of the portal"));
    assert_eq!(
        count(&app, "select count(*) from webhook_endpoints").await,
        0
    );
}
