//! The partner API (§10): tokens made on /integrations, tenant isolation,
//! problem+json, cursor paging, the rate limit, and the OpenAPI document.

mod openapi;
mod webhooks;

use chrono::{Duration, Timelike};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    agent::Agent,
    helpers::{Spawn, TestApp, spawn_app_with},
    issues::support::*,
};

const BASE: &str = "/api/v1/partner";

async fn spawn(per_minute: &str) -> TestApp {
    spawn_app_with(Spawn {
        overrides: &[
            ("PORTAL_GITLAB_WEBHOOK_TOKEN", TOKEN),
            ("PORTAL_API_REQUESTS_PER_MINUTE", per_minute),
        ],
        ..Spawn::default()
    })
    .await
}

/// Makes a token through /integrations as `admin`; returns it.
pub async fn token(admin: &Agent, name: &str, scope: &str, days: &str) -> String {
    admin.get("/integrations").await;
    admin
        .post(
            "/integrations/tokens",
            &[("name", name), ("scope", scope), ("expires_in_days", days)],
        )
        .await
        .assert_redirect("/integrations");
    let page = admin.get("/integrations").await.body;
    let at = page.find("is ppat_").expect("the token is shown once") + 3;
    page[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, app.url(path))
        .header("Authorization", format!("Bearer {token}"));
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    call(app, Method::GET, path, token, None).await
}

fn is_problem(res: &reqwest::Response) -> bool {
    res.headers()["content-type"] == "application/problem+json"
}

#[tokio::test]
async fn a_token_is_shown_once_stored_hashed_and_its_use_is_shown() {
    let app = spawn("600").await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let secret = token(&acme, "Jira sync", "read", "30").await;
    assert!(secret.starts_with("ppat_") && secret.len() > 40);
    let page = acme.get("/integrations").await.body;
    assert!(!page.contains(&secret), "shown once");
    assert!(page.contains(&format!("ppat_…{}", &secret[secret.len() - 4..])));
    assert!(page.contains("Never"), "not used yet");
    let stored: i64 = count(
        &app,
        &format!("select count(*) from api_tokens where token_hash = sha256('{secret}'::bytea)"),
    )
    .await;
    assert_eq!(stored, 1);
    assert_eq!(
        count(
            &app,
            "select count(*) from api_tokens where hint like 'ppat_…%' and token_hash is not null"
        )
        .await,
        1
    );
    assert_eq!(
        get(&app, &format!("{BASE}/issues"), &secret).await.status(),
        StatusCode::OK
    );
    assert!(!acme.get("/integrations").await.body.contains(">Never<"));
    assert_eq!(
        count(
            &app,
            "select count(*) from audit_log where action = 'api_token.created'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_member_sees_tokens_but_cannot_make_or_revoke_them() {
    let app = spawn("600").await;
    let (acme, partner) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    token(&acme, "Jira sync", "read", "30").await;
    let member = member_of(&app, partner, "Max Member", "max@acme.test").await;
    let page = member.get("/integrations").await;
    assert!(page.body.contains("Jira sync"));
    assert!(
        page.body
            .contains("Ask an admin of your organisation to make or revoke tokens.")
    );
    let made = member
        .post(
            "/integrations/tokens",
            &[
                ("name", "Mine"),
                ("scope", "write"),
                ("expires_in_days", "10"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::FORBIDDEN);
    let id: i64 = count(&app, "select id from api_tokens").await;
    let revoked = member
        .post(&format!("/integrations/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&app, "select count(*) from api_tokens").await, 1);
}

#[tokio::test]
async fn a_bad_token_form_is_explained_next_to_its_fields_and_makes_nothing() {
    let app = spawn("600").await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    acme.get("/integrations").await;
    let page = acme
        .post(
            "/integrations/tokens",
            &[
                ("name", " "),
                ("scope", "admin"),
                ("expires_in_days", "366"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("Name the token after the tool that will use it.")
    );
    assert!(page.body.contains("Choose read or write."));
    assert!(page.body.contains("Choose a number of days from 1 to 365."));
    assert!(page.body.contains("value=\"366\""), "what was typed stays");
    assert_eq!(count(&app, "select count(*) from api_tokens").await, 0);
}

#[tokio::test]
async fn another_organisations_objects_are_not_found_on_any_route() {
    let app = spawn("600").await;
    let (acme, acme_id) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let (globex, _) = partner_with_namespace(&app, "Globex", "hank@globex.test", "globex").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    sqlx::query(
        "insert into licenses (partner_id, product, state, users, purposes, requested_at)
         values ($1, 'saas', 'pending', 3, '{training}', $2)",
    )
    .bind(acme_id)
    .bind(app.clock.now())
    .execute(&app.pool)
    .await
    .unwrap();
    let acme_token = token(&acme, "Acme", "write", "30").await;
    let globex_token = token(&globex, "Globex", "write", "30").await;

    let mine: Value = get(&app, &format!("{BASE}/issues"), &acme_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    for path in ["/issues", "/licenses", "/namespaces"] {
        let theirs: Value = get(&app, &format!("{BASE}{path}"), &globex_token)
            .await
            .json()
            .await
            .unwrap();
        let items = theirs["items"].as_array().unwrap();
        assert!(
            items.iter().all(|i| !i.to_string().contains("acme")),
            "{path}: {theirs}"
        );
    }
    let res = get(&app, &format!("{BASE}/issues/{issue}"), &globex_token).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(is_problem(&res));
    let res = call(
        &app,
        Method::POST,
        &format!("{BASE}/issues/{issue}/updates"),
        &globex_token,
        Some(json!({ "body": "Not yours" })),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(count(&app, "select count(*) from issue_updates").await, 0);
    // Revoking another organisation's token is not found either.
    let acme_token_id: i64 = count(
        &app,
        &format!("select id from api_tokens where partner_id = {acme_id}"),
    )
    .await;
    let refused = globex
        .post(&format!("/integrations/tokens/{acme_token_id}/revoke"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn missing_unknown_expired_and_revoked_tokens_are_refused_and_known_ones_audited() {
    let app = spawn("600").await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let res = app.get(&format!("{BASE}/issues")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(is_problem(&res));
    assert!(res.headers().contains_key("www-authenticate"));
    let res = get(&app, &format!("{BASE}/issues"), "ppat_notatoken").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let short = token(&acme, "Short", "read", "1").await;
    let revoked = token(&acme, "Revoked", "read", "30").await;
    let id: i64 = count(&app, "select id from api_tokens where name = 'Revoked'").await;
    acme.get("/integrations").await;
    acme.post(&format!("/integrations/tokens/{id}/revoke"), &[])
        .await
        .assert_redirect("/integrations");
    let res = get(&app, &format!("{BASE}/issues"), &revoked).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("This token was revoked.")
    );

    assert_eq!(
        get(&app, &format!("{BASE}/issues"), &short).await.status(),
        StatusCode::OK
    );
    app.clock.advance(Duration::days(1) + Duration::seconds(1));
    let res = get(&app, &format!("{BASE}/issues"), &short).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("This token has expired.")
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from audit_log where action = 'api_token.refused'"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from audit_log where action = 'api_token.revoked'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_read_token_cannot_post_and_a_write_token_posts_as_the_page_does() {
    let app = spawn("600").await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    let reader = token(&acme, "Reader", "read", "30").await;
    let writer = token(&acme, "Jira sync", "write", "30").await;
    let path = format!("{BASE}/issues/{issue}/updates");

    let res = call(
        &app,
        Method::POST,
        &path,
        &reader,
        Some(json!({ "body": "Hi" })),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(is_problem(&res));
    assert_eq!(count(&app, "select count(*) from issue_updates").await, 0);

    let res = call(
        &app,
        Method::POST,
        &path,
        &writer,
        Some(json!({ "body": "  " })),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_problem(&res));
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "body");
    assert_eq!(
        problem["errors"][0]["message"],
        "Write your update before posting it."
    );
    let res = call(
        &app,
        Method::POST,
        &path,
        &writer,
        Some(json!({ "body": "x".repeat(10_001) })),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .client
        .post(app.url(&path))
        .header("Authorization", format!("Bearer {writer}"))
        .header("Content-Type", "application/json")
        .body("{\"body\": 3}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(is_problem(&res));
    assert_eq!(count(&app, "select count(*) from issue_updates").await, 0);

    let res = call(
        &app,
        Method::POST,
        &path,
        &writer,
        Some(json!({ "body": "Reproduced; fix in 2.3.1." })),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let posted: Value = res.json().await.unwrap();
    assert_eq!(posted["first_response"], true);
    assert_eq!(posted["gitlab"], "not_sent");
    let detail: Value = get(&app, &format!("{BASE}/issues/{issue}"), &reader)
        .await
        .json()
        .await
        .unwrap();
    assert!(detail["first_response_at"].is_string());
    let update = detail["thread"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "update")
        .unwrap();
    assert_eq!(update["author"], "Jira sync (API)");
    assert_eq!(update["text"], "Reproduced; fix in 2.3.1.");
    let page = acme.get(&format!("/issues/{issue}")).await;
    assert!(page.body.contains("Reproduced; fix in 2.3.1."));
    assert!(page.body.contains("First response from Jira sync (API)"));
    assert_eq!(
        count(
            &app,
            "select count(*) from audit_log where action = 'api_token.refused'"
        )
        .await,
        1,
        "the read token's attempt"
    );
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after_and_recovers() {
    let app = spawn("3").await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let secret = token(&acme, "Busy", "read", "30").await;
    for n in 1..=3 {
        let res = get(&app, &format!("{BASE}/namespaces"), &secret).await;
        assert_eq!(res.status(), StatusCode::OK, "request {n}");
        assert_eq!(res.headers()["ratelimit-limit"], "3");
        assert_eq!(
            res.headers()["ratelimit-remaining"],
            (3 - n).to_string().as_str()
        );
    }
    let res = get(&app, &format!("{BASE}/namespaces"), &secret).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(is_problem(&res));
    let wait: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    app.clock.advance(Duration::seconds(61));
    assert_eq!(
        get(&app, &format!("{BASE}/namespaces"), &secret)
            .await
            .status(),
        StatusCode::OK
    );
}

/// The limit is counted in PostgreSQL: thirty requests at once, split over
/// two instances, let exactly the ten a minute allows through.
#[tokio::test]
async fn the_rate_limit_holds_across_instances_under_concurrent_requests() {
    let app = spawn("10").await;
    let other = spawn_app_with(Spawn {
        db: Some(app.db.clone()),
        overrides: &[("PORTAL_API_REQUESTS_PER_MINUTE", "10")],
        ..Spawn::default()
    })
    .await;
    // Both clocks in the middle of the same minute: the count is per minute.
    let second = i64::from(app.clock.now().second());
    app.clock.advance(Duration::seconds(30 - second));
    other.clock.advance(app.clock.now() - other.clock.now());
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let secret = token(&acme, "Busy", "read", "30").await;
    let path = format!("{BASE}/namespaces");
    let sends = (0..30).map(|i| {
        let target = if i % 2 == 0 { &app } else { &other };
        get(target, &path, &secret)
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(sends)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((ok, limited), (10, 20), "{statuses:?}");
}

#[tokio::test]
async fn cursor_paging_returns_every_row_once_while_rows_are_added() {
    let app = spawn("100000").await;
    let (acme, partner) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let secret = token(&acme, "Pager", "read", "30").await;
    let now = app.clock.now();
    sqlx::query(
        "insert into issues (partner_id, source, title, state, severity, clock_started_at, deadline_at,
                             resolved_at, created_at, routed_at)
         select $1, 'staff', 'Issue ' || g, case when g % 3 = 0 then 'closed' else 'open' end,
                case when g % 5 = 0 then null else 1 + g % 4 end,
                case when g % 5 = 0 then null else $2 - g * interval '1 hour' end,
                case when g % 5 = 0 then null else $2 + (g % 7) * interval '1 day' end,
                case when g % 3 = 0 then $2 - g * interval '1 minute' end,
                $2 - g * interval '1 minute', $2
           from generate_series(1, 95) g",
    )
    .bind(partner)
    .bind(now)
    .execute(&app.pool)
    .await
    .unwrap();
    let before: Vec<i64> = sqlx::query_scalar("select id from issues order by id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for sort in ["urgent", "newest", "severity"] {
        let mut seen = Vec::new();
        let mut next = Some(format!("{BASE}/issues?sort={sort}&limit=10"));
        let mut pages = 0;
        while let Some(path) = next {
            let res = get(&app, &path, &secret).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            let link = res
                .headers()
                .get("link")
                .map(|l| l.to_str().unwrap().to_owned());
            let page: Value = res.json().await.unwrap();
            seen.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["id"].as_i64().unwrap()),
            );
            // Someone adds issues while the list is read, some of which sort
            // before the cursor and some after.
            sqlx::query(
                "insert into issues (partner_id, source, title, state, created_at, routed_at)
                 values ($1, 'staff', 'Added while paging', 'open', $2, $2)",
            )
            .bind(partner)
            .bind(now + Duration::seconds(pages))
            .execute(&app.pool)
            .await
            .unwrap();
            next = match (page["next_cursor"].as_str(), link) {
                (Some(_), Some(link)) => {
                    assert!(link.ends_with("rel=\"next\""), "{link}");
                    let url = link.trim_start_matches('<').split('>').next().unwrap();
                    Some(url.trim_start_matches(&app.address).to_owned())
                }
                (None, None) => None,
                other => panic!("cursor and Link disagree: {other:?}"),
            };
            pages += 1;
        }
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{sort}: a row came twice");
        assert!(
            before.iter().all(|id| seen.contains(id)),
            "{sort}: a row was skipped"
        );
        // ...and in the page's order: open first by deadline (none last),
        // then closed by resolution, latest first; newest by arrival;
        // severity 1 first (unset last), then as urgent; ties newest id.
        let urgent = "state <> 'open', case when state = 'open' then deadline_at end nulls last,
                      resolved_at desc nulls last, id desc";
        let order = match sort {
            "newest" => "created_at desc, id desc".to_owned(),
            "severity" => format!("coalesce(severity, 5), {urgent}"),
            _ => urgent.to_owned(),
        };
        let expected: Vec<i64> = sqlx::query_scalar(&format!(
            "select id from issues where id = any($1) order by {order}"
        ))
        .bind(&before)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        let read: Vec<i64> = seen.into_iter().filter(|id| before.contains(id)).collect();
        assert_eq!(read, expected, "{sort}: not in the page's order");
    }
    let res = get(
        &app,
        &format!("{BASE}/issues?sort=newest&cursor=bogus"),
        &secret,
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "cursor");
    let res = get(
        &app,
        &format!("{BASE}/issues?status=maybe&sort=oldest&limit=500"),
        &secret,
    )
    .await;
    let problem: Value = res.json().await.unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["status", "sort"]);
}

#[tokio::test]
async fn an_unknown_api_path_is_a_problem_not_a_page() {
    let app = spawn("600").await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let secret = token(&acme, "Any", "read", "30").await;
    let res = get(&app, &format!("{BASE}/nothing-here"), &secret).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(is_problem(&res));
    // A session cookie is not a token: the API never reads it.
    let res = acme
        .client
        .get(format!("{}{BASE}/issues", acme.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
