//! The fuzz test: every form and query the pages offer, found by walking
//! them signed out, as a partner admin and as staff, is sent generated bad
//! input (NUL and other control characters, bytes that are not UTF-8,
//! 100,000-character strings, -1, 1e309, 99999999999999999999, fields
//! repeated or missing, multipart cut short), and the tracker's webhook
//! gets wrong JSON types and broken bodies. No answer may be a 5xx or
//! arrive cut short, and an answer that refuses (4xx) must have written
//! nothing.
//!
//! It is bounded for CI (`FUZZ_CASES`, default 16 per form or query) and
//! reproducible (`FUZZ_SEED`, default 20). Run it longer with, e.g.:
//! `FUZZ_CASES=200 FUZZ_SEED=$RANDOM cargo test --test it fuzz -- --nocapture`

mod cases;
mod crawl;
mod writes;

use std::{collections::BTreeMap, io::Read, time::Instant};

use partner_portal::accounts::staff::StaffRole;
use proptest::{
    strategy::{Strategy, ValueTree},
    test_runner::{Config, RngAlgorithm, TestRng, TestRunner},
};
use reqwest::header;
use sha2::{Digest, Sha256};

use crate::{
    agent::Agent,
    applications::complete_form,
    fixtures,
    helpers::TestApp,
    issues::support::{TOKEN, fixture, spawn},
    licenses::request,
    listings::{fields, ready_partner, submit},
    namespaces::{member_of, register},
};
use cases::{Mangle, WebhookCase};
use crawl::Target;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A generator of its own for each target, from the seed and the target,
/// so a failure is found again with the same seed whatever else changed.
fn runner(seed: u64, label: &str) -> TestRunner {
    let digest = Sha256::digest(format!("{seed} {label}"));
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &digest),
    )
}

/// What the walk starts from, for each principal.
const SIGNED_OUT: &[&str] = &[
    "/",
    "/login",
    "/signup",
    "/password/forgot",
    "/partners",
    "/password/reset?token=not-a-token",
    "/invitations/accept?token=not-a-token",
    "/staff/invitation?token=not-a-token",
    "/verify-email?token=not-a-token",
    "/verify-email/pending",
];
const APPLYING: &[&str] = &["/application", "/dashboard", "/team", "/organization/new"];
const PARTNER: &[&str] = &[
    "/dashboard",
    "/application",
    "/team",
    "/namespaces",
    "/licenses",
    "/issues",
    "/listing",
    "/audit",
    "/account",
    "/issues/calendar",
    "/agreement",
];
const STAFF: &[&str] = &[
    "/admin",
    "/admin/applications",
    "/admin/licenses",
    "/admin/namespaces",
    "/admin/listings",
    "/admin/issues",
    "/admin/issues/triage",
    "/admin/issues/new",
    "/admin/audit",
    "/admin/staff",
    "/admin/agreements",
    "/admin/settings/sla",
];

#[derive(Default)]
struct Tally {
    sent: usize,
    statuses: BTreeMap<u16, usize>,
    failures: Vec<String>,
}

#[tokio::test]
async fn bad_input_never_breaks_a_page_and_a_refusal_writes_nothing() {
    let started = Instant::now();
    let per_target = setting("FUZZ_CASES", 16) as usize;
    let seed = setting("FUZZ_SEED", 20);
    let app = spawn().await;
    let principals = world(&app).await;
    writes::track(&app.pool).await;
    writes::assert_counting(&app.pool).await;

    // Every principal walks before any fuzzing, so each sees the world in
    // the state that shows all its forms (the partner's fuzzing may well
    // withdraw the namespace staff would verify).
    let mut walks = Vec::new();
    for (who, agent, seeds) in &principals {
        let targets = crawl::walk(agent, seeds, 80).await;
        println!("{who}: {} forms and queries", targets.len());
        if std::env::var("FUZZ_LIST").is_ok() {
            for t in &targets {
                let names: Vec<&str> = t.fields.iter().map(|f| f.0.as_str()).collect();
                println!("  {} {} {names:?}", t.method, t.action);
            }
        }
        walks.push((*who, agent, targets));
    }
    let mut tally = Tally::default();
    for (who, agent, targets) in &walks {
        for target in targets {
            let label = format!("{who} {} {}", target.method, target.action);
            let mut runner = runner(seed, &label);
            let strategy = cases::mangle(target.multipart);
            for _ in 0..per_target {
                let mangle = strategy.new_tree(&mut runner).unwrap().current();
                let before = writes::counts(&app.pool).await;
                let res = send(agent, target, &mangle).await;
                let case = format!("{label} {mangle:?}");
                check(&app, &mut tally, &case, res, &before).await;
            }
        }
    }
    webhook(&app, seed, per_target * 6, &mut tally).await;

    println!(
        "fuzz: {} requests in {:.1?} (seed {seed}, {per_target} per form or query); statuses {:?}",
        tally.sent,
        started.elapsed(),
        tally.statuses
    );
    assert!(
        tally.failures.is_empty(),
        "{} of {} requests failed:\n{}",
        tally.failures.len(),
        tally.sent,
        tally.failures.join("\n")
    );
}

/// The principals, and a world in which their pages show every form: an
/// approved partner with a verified and a pending namespace, an issue, a
/// license and a request waiting for staff, a listing, an invitation, a
/// member and a calendar address; an organisation still writing its
/// application and one waiting for a decision; an issue in the staff
/// triage queue; a staff admin; a visitor.
async fn world(app: &TestApp) -> Vec<(&'static str, Agent, Vec<&'static str>)> {
    let (ada, partner_id, _) = ready_partner(
        app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    let now = app.clock.now();
    for (partner, external) in [(Some(partner_id), 1), (None, 2)] {
        sqlx::query(
            "insert into issues (partner_id, source, external_id, iid, project_path, title, severity,
                                 clock_started_at, deadline_at, state, created_at)
             values ($1, 'tracker', $2, $2, 'acme-corp/runner', 'Runner fails', 2, $3,
                     $3 + interval '30 days', 'open', $3)",
        )
        .bind(partner)
        .bind(external)
        .bind(now)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    request(&ada, &["saas"], "5", &["training"], "").await;
    request(
        &ada,
        &["self_managed"],
        "50",
        &["demos"],
        "A workshop for fifty engineers.",
    )
    .await;
    submit(&ada, &fields("Acme"), &[]).await;
    register(&ada, "https://gitlab.com/acme-two").await;
    ada.get("/team").await;
    ada.post(
        "/team/invitations",
        &[("email", "bob@acme.test"), ("role", "member")],
    )
    .await;
    member_of(app, partner_id, "Cy", "cy@acme.test").await;
    ada.get("/issues/calendar").await;
    ada.post("/issues/calendar", &[]).await;

    let (applying, _) = fixtures::organisation(app, "Beta Ltd", "bea@beta.test").await;
    let (waiting, _) = fixtures::organisation(app, "Gamma Inc", "gil@gamma.test").await;
    crate::applications::submit(&waiting, &complete_form("Gamma Inc")).await;

    let staff = app.staff_user("sam@alliance.test", StaffRole::Admin).await;
    let visitor = app.agent();
    visitor.get("/login").await;
    vec![
        ("signed out", visitor, SIGNED_OUT.to_vec()),
        ("partner admin", ada, PARTNER.to_vec()),
        ("partner admin, applying", applying, APPLYING.to_vec()),
        ("staff", staff, STAFF.to_vec()),
    ]
}

/// What every browser sends: compressed answers must arrive whole too.
const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

async fn send(
    agent: &Agent,
    target: &Target,
    mangle: &Mangle,
) -> reqwest::Result<reqwest::Response> {
    if target.method == "GET" {
        // An address carries at most 64 KiB (hyper's limit, and more than
        // any proxy passes): long values share 60,000 bytes.
        let longest = 60_000 / (target.fields.len() + 1);
        let fields = cases::apply_within(&target.fields, mangle, longest);
        let url = format!(
            "{}?{}",
            agent.url(&target.action),
            cases::urlencoded(&fields)
        );
        return agent
            .client
            .get(url)
            .header(header::ACCEPT_ENCODING, ACCEPT_ENCODING)
            .send()
            .await;
    }
    let fields = cases::apply(&target.fields, mangle);
    let req = agent
        .client
        .post(agent.url(&target.action))
        .header(header::ACCEPT_ENCODING, ACCEPT_ENCODING);
    if target.multipart {
        let boundary = "----fuzz-boundary-7MA4YWxkTrZu0gW";
        let mut body = cases::multipart(boundary, &fields);
        if let Mangle::Truncate(at) = mangle {
            body.truncate((body.len() as f64 * at) as usize);
        }
        req.header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
    } else {
        req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(cases::urlencoded(&fields))
            .send()
            .await
    }
}

/// Tables a refused request may still write, and why: a failed sign-in is
/// recorded (throttle and audit), and its lockout email queued.
fn may_write_when_refusing(case: &str, table: &str) -> bool {
    let sign_in = case.contains(" POST /login ") || case.contains(" POST /password/");
    sign_in && matches!(table, "throttle_events" | "audit_log" | "outbox_emails")
}

async fn check(
    app: &TestApp,
    tally: &mut Tally,
    case: &str,
    res: reqwest::Result<reqwest::Response>,
    before: &BTreeMap<String, i64>,
) {
    tally.sent += 1;
    let res = match res {
        Ok(res) => res,
        Err(e) => return tally.failures.push(format!("{case}: no answer: {e}")),
    };
    let status = res.status();
    *tally.statuses.entry(status.as_u16()).or_default() += 1;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let gzip = res
        .headers()
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v == "gzip");
    let body = match res.bytes().await {
        Ok(body) => body.to_vec(),
        Err(e) => {
            return tally
                .failures
                .push(format!("{case}: {status}, body cut short: {e}"));
        }
    };
    let body = if gzip {
        let mut plain = Vec::new();
        if let Err(e) = flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut plain) {
            return tally
                .failures
                .push(format!("{case}: {status}, gzip body cut short: {e}"));
        }
        plain
    } else {
        body
    };
    if status.is_server_error() {
        tally.failures.push(format!("{case}: {status}"));
    }
    if html && !body.trim_ascii_end().ends_with(b"</html>") {
        tally.failures.push(format!(
            "{case}: {status}, an HTML page cut short ({} bytes)",
            body.len()
        ));
    }
    if status.is_client_error() {
        let after = writes::counts(&app.pool).await;
        let written: Vec<String> = writes::written(before, &after)
            .into_iter()
            .filter(|t| !may_write_when_refusing(case, t))
            .collect();
        if !written.is_empty() {
            tally.failures.push(format!(
                "{case}: refused with {status} but wrote {written:?}"
            ));
        }
    }
}

/// Broken deliveries to the tracker's webhook: nothing but 2xx and 4xx,
/// never cut short. (What is stored is the webhook's own business.)
async fn webhook(app: &TestApp, seed: u64, n: usize, tally: &mut Tally) {
    let base = fixture("issue_open_labelled");
    let mut runner = runner(seed, "webhook");
    let strategy = cases::webhook_body();
    for i in 0..n {
        let case: WebhookCase = strategy.new_tree(&mut runner).unwrap().current();
        let res = app
            .client
            .post(app.url("/webhooks/gitlab"))
            .header("X-Gitlab-Token", TOKEN)
            .header("X-Gitlab-Event", "Issue Hook")
            .header("Idempotency-Key", format!("fuzz-{seed}-{i}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(case.body(&base))
            .send()
            .await;
        tally.sent += 1;
        let label = format!("webhook {case:?}");
        match res {
            Err(e) => tally.failures.push(format!("{label}: no answer: {e}")),
            Ok(res) => {
                let status = res.status();
                *tally.statuses.entry(status.as_u16()).or_default() += 1;
                if let Err(e) = res.bytes().await {
                    tally
                        .failures
                        .push(format!("{label}: {status}, body cut short: {e}"));
                }
                if status.is_server_error() {
                    tally.failures.push(format!("{label}: {status}"));
                }
            }
        }
    }
}
