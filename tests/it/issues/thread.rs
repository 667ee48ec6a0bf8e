//! One issue thread on both sides (§6, §9): which events count, comments
//! from GitLab in the portal, partner updates posted to GitLab (once, come
//! what may), the first response counted from a linked identity's comment,
//! customers' comments emailed, and a partner's own webhook secret.

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use partner_portal::{calls, issues};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::support::*;
use crate::{
    gitlab::{API_TOKEN, Answer, GitLabDouble, Kind},
    helpers::{Spawn, TestApp, spawn_app_with},
};

const PROJECT: &str = "acme-corp/integrations/runner-component";

/// An app whose GitLab is `double`, with the service account's token.
async fn spawn_with(double: &GitLabDouble) -> TestApp {
    spawn_app_with(Spawn {
        overrides: &[
            ("PORTAL_GITLAB_WEBHOOK_TOKEN", TOKEN),
            ("PORTAL_GITLAB_URL", &double.url),
            ("PORTAL_GITLAB_API_TOKEN", API_TOKEN),
        ],
        ..Spawn::default()
    })
    .await
}

/// Posts a delivery with its event header, as GitLab does.
async fn deliver_hook(app: &TestApp, event: &str, body: &Value, key: &str) -> reqwest::Response {
    app.client
        .post(app.url("/webhooks/gitlab"))
        .header("X-Gitlab-Token", TOKEN)
        .header("X-Gitlab-Event", event)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn comment(app: &TestApp, body: &Value) {
    let key = uuid::Uuid::new_v4().to_string();
    let res = deliver_hook(app, "Note Hook", body, &key).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    apply(app).await;
}

/// The note fixture as a new comment `id` with `text`.
fn note(id: i64, text: &str) -> Value {
    let body = with(fixture("note_event"), "/object_attributes/id", json!(id));
    with(body, "/object_attributes/note", json!(text))
}

async fn gitlab_round(app: &TestApp) -> partner_portal::outbox::Report {
    calls::worker(&app.state).deliver_once().await.unwrap()
}

async fn posted_update(agent: &crate::agent::Agent, issue: i64, text: &str) {
    agent.get(&format!("/issues/{issue}")).await;
    agent
        .post(&format!("/issues/{issue}/updates"), &[("body", text)])
        .await
        .assert_redirect(&format!("/issues/{issue}"));
}

async fn comments(app: &TestApp) -> i64 {
    count(app, "select count(*) from issue_comments").await
}

#[tokio::test]
async fn issues_and_incidents_count_and_every_other_work_item_is_acknowledged_and_ignored() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    for (name, kept) in [
        ("issue_open_labelled", true),
        ("work_item_incident_open", true),
        ("work_item_task_open", false),
        ("work_item_epic_update", false),
        ("issue_test_case_open", false),
        ("issue_requirement_open", false),
    ] {
        let body = fixture(name);
        let res = deliver_hook(&app, "Issue Hook", &body, name).await;
        let status = res.status();
        let answer: Value = res.json().await.unwrap();
        if kept {
            assert_eq!(status, StatusCode::ACCEPTED, "{name}: {answer}");
        } else {
            assert_eq!(status, StatusCode::OK, "{name}: {answer}");
            assert_eq!(answer["status"], "ignored", "{name}");
        }
    }
    apply(&app).await;
    let titles: Vec<String> = sqlx::query_scalar("select title from issues order by id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        titles,
        [
            "Runner registration fails behind an HTTP proxy",
            "Runner pods crash-loop after the 17.6 upgrade"
        ]
    );
    // The incident's close, through the work-item hook, closes it.
    deliver_and_apply(&app, &fixture("work_item_incident_close")).await;
    assert_eq!(issue_of(&app, 151400).await.state, "closed");
    for (name, event) in [
        ("note_on_merge_request", "Note Hook"),
        ("note_event", "Note Hook"),
        ("confidential_note_event", "Confidential Note Hook"),
    ] {
        let res = deliver_hook(&app, event, &fixture(name), name).await;
        let expected = if name == "note_on_merge_request" {
            StatusCode::OK
        } else {
            StatusCode::ACCEPTED
        };
        assert_eq!(res.status(), expected, "{name}");
    }
    apply(&app).await;
    assert_eq!(comments(&app).await, 2, "the issue's comments only");
}

#[tokio::test]
async fn a_comment_replayed_five_times_is_one_comment_and_an_edit_replaces_it() {
    let app = spawn().await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    for _ in 0..5 {
        comment(&app, &fixture("note_event")).await;
    }
    assert_eq!(comments(&app).await, 1);

    let edit = with(
        with(
            with(
                fixture("note_event"),
                "/object_attributes/action",
                json!("update"),
            ),
            "/object_attributes/note",
            json!("We can reproduce this with runner 17.5 **and 17.6**."),
        ),
        "/object_attributes/updated_at",
        gitlab_time(recorded(2019, 11, 8, 12, 30, 0)),
    );
    comment(&app, &edit).await;
    // An older edit arriving late changes nothing.
    let stale = with(
        with(edit.clone(), "/object_attributes/note", json!("stale text")),
        "/object_attributes/updated_at",
        gitlab_time(recorded(2019, 11, 8, 12, 10, 0)),
    );
    comment(&app, &stale).await;

    assert_eq!(comments(&app).await, 1);
    let page = owner.get(&format!("/issues/{issue}")).await;
    assert!(
        page.body
            .contains("We can reproduce this with runner 17.5 <strong>and 17.6</strong>."),
        "{}",
        page.snippet()
    );
    assert!(!page.body.contains("stale text"));
    assert!(page.body.contains("Edited"));
    assert!(page.body.contains("(@praman) commented on GitLab"));
}

#[tokio::test]
async fn a_partner_update_arrives_on_gitlab_once_and_its_note_coming_back_is_not_shown_twice() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double).await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;

    posted_update(&owner, issue, "Reproduced; a fix ships in **2.3.1**.").await;
    let page = owner.get(&format!("/issues/{issue}")).await;
    assert!(page.body.contains("Waiting to be posted to GitLab"));
    assert!(page.body.contains("it will appear on GitLab shortly"));

    assert_eq!(gitlab_round(&app).await.sent, 1);
    let notes = double.notes(PROJECT, 17);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].body.starts_with(
            "Posted by Owner of Acme Corp of Acme Corp through the Partner Portal:\n\nReproduced; a fix ships in **2.3.1**."
        ),
        "{}",
        notes[0].body
    );
    let posts = double.received_at(Method::POST, "/api/v4/projects/");
    assert_eq!(
        posts[0].path,
        "/api/v4/projects/acme-corp%2Fintegrations%2Frunner-component/issues/17/notes"
    );
    assert_eq!(posts[0].private_token.as_deref(), Some(API_TOKEN));

    // The note comes back through the hook: it is the update, not a comment.
    let back = with(
        with(
            note(notes[0].id, &notes[0].body),
            "/user/username",
            json!("partner-portal-bot"),
        ),
        "/user/id",
        json!(77),
    );
    comment(&app, &back).await;
    assert_eq!(comments(&app).await, 0);
    let page = owner.get(&format!("/issues/{issue}")).await;
    assert_eq!(page.body.matches("Reproduced; a fix ships in").count(), 1);
    assert!(page.body.contains("Posted to GitLab"));
    assert!(page.body.contains(&format!("#note_{}", notes[0].id)));
    // Nothing more to send.
    assert_eq!(gitlab_round(&app).await.claimed(), 0);
    assert_eq!(double.notes(PROJECT, 17).len(), 1);
}

#[tokio::test]
async fn the_note_coming_back_before_its_call_is_recorded_waits_for_it() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double).await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    posted_update(&owner, issue, "On it.").await;
    let update: i64 = sqlx::query_scalar("select id from issue_updates")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // GitLab's hook is faster than the worker's answer: the note names the
    // update, whose call has no note yet.
    let body = format!(
        "Posted by Ada Lovelace of Acme Corp through the Partner Portal:\n\nOn it.\n\n<!-- partner-portal update {update} -->"
    );
    let key = "early-note";
    deliver_hook(&app, "Note Hook", &note(990001, &body), key).await;
    apply(&app).await;
    assert_eq!(comments(&app).await, 0, "waits for the call");
    // A customer quoting the portal's note is a comment all the same, once
    // the call has recorded which note is the portal's.
    gitlab_round(&app).await;
    let quote = format!("> On it.\n\nThanks!\n\n<!-- partner-portal update {update} -->");
    comment(&app, &note(990002, &quote)).await;
    app.clock.advance(Duration::seconds(10));
    apply(&app).await;
    let stored: Vec<i64> =
        sqlx::query_scalar("select external_id from issue_comments order by external_id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        stored,
        [990001, 990002],
        "neither note id is the one the call recorded"
    );
}

#[tokio::test]
async fn a_rate_limited_call_waits_as_asked_and_arrives_exactly_once() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double).await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    double.script(
        Kind::CreateNote,
        [
            Answer::TooMany { retry_after: 1 },
            Answer::TooMany { retry_after: 1 },
        ],
    );
    posted_update(&owner, issue, "Looking into it.").await;

    let started = Instant::now();
    let mut waited = 0;
    while double.notes(PROJECT, 17).is_empty() {
        assert!(started.elapsed() < StdDuration::from_secs(15), "never sent");
        waited += gitlab_round(&app).await.waiting;
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    assert_eq!(waited, 2);
    assert!(
        started.elapsed() >= StdDuration::from_secs(2),
        "waited as asked"
    );
    let posts = double.received_at(Method::POST, "/api/v4/projects/");
    assert_eq!(posts.len(), 3);
    for pair in posts.windows(2) {
        assert!(pair[1].at - pair[0].at >= StdDuration::from_millis(950));
    }
    assert_eq!(double.notes(PROJECT, 17).len(), 1);
    let attempts: i32 = sqlx::query_scalar("select attempts from gitlab_calls")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(attempts, 1, "waiting is not a failed attempt");
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_and_the_note_is_posted_once() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double).await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    double.script(
        Kind::CreateNote,
        [
            Answer::Status(500),
            Answer::Status(500),
            Answer::Status(500),
        ],
    );
    posted_update(&owner, issue, "Fix in review.").await;

    assert_eq!(gitlab_round(&app).await.retrying, 1);
    let page = owner.get(&format!("/issues/{issue}")).await;
    assert!(
        page.body
            .contains("Waiting to be posted to GitLab; the last try failed: GitLab answered 500"),
        "{}",
        page.snippet()
    );
    assert_eq!(gitlab_round(&app).await.claimed(), 0, "not before its time");
    for _ in 0..3 {
        app.clock.advance(Duration::hours(1));
        gitlab_round(&app).await;
    }
    assert_eq!(double.notes(PROJECT, 17).len(), 1);
    // Each retry first looked for a note whose answer was lost.
    assert_eq!(
        double.received_at(Method::GET, "/api/v4/projects/").len(),
        3
    );
    assert_eq!(
        double.received_at(Method::POST, "/api/v4/projects/").len(),
        4
    );
    let (status, attempts): (String, i32) =
        sqlx::query_as("select status, attempts from gitlab_calls")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), attempts), ("sent", 4));
}

#[tokio::test]
async fn a_refused_call_is_given_up_shown_to_staff_and_can_be_retried() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double).await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    double.script(Kind::CreateNote, [Answer::Status(404)]);
    posted_update(&owner, issue, "Fixed upstream.").await;

    assert_eq!(gitlab_round(&app).await.dead, 1);
    let page = owner.get(&format!("/issues/{issue}")).await;
    assert!(
        page.body.contains(
            "Could not be posted to GitLab: GitLab answered 404 Not Found: 404 Project Not Found"
        ),
        "{}",
        page.snippet()
    );
    let staff = app
        .staff_user(
            "sam@portal.test",
            partner_portal::accounts::staff::StaffRole::Reviewer,
        )
        .await;
    let home = staff.get("/admin").await;
    assert!(home.body.contains("1 could not be made"));
    let list = staff.get("/admin/gitlab").await;
    assert!(list.body.contains("404 Project Not Found"));
    assert!(
        list.body
            .contains("acme-corp/integrations/runner-component#17")
    );
    assert!(list.body.contains("Acme Corp"));
    let call: i64 = sqlx::query_scalar("select id from gitlab_calls")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    staff
        .post(&format!("/admin/gitlab/calls/{call}/retry"), &[])
        .await
        .assert_redirect("/admin/gitlab");
    assert_eq!(gitlab_round(&app).await.sent, 1);
    assert_eq!(double.notes(PROJECT, 17).len(), 1);
    assert!(
        owner
            .get(&format!("/issues/{issue}"))
            .await
            .body
            .contains("Posted to GitLab")
    );
    assert!(
        staff
            .get("/admin/gitlab")
            .await
            .body
            .contains("Every call went through.")
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from audit_log where action = 'gitlab_call.retried'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn without_a_token_updates_stay_in_the_portal_and_the_page_says_so() {
    let app = spawn().await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    let page = owner.get(&format!("/issues/{issue}")).await;
    assert!(page.body.contains("Updates stay in the portal"));
    posted_update(&owner, issue, "Noted.").await;
    assert_eq!(count(&app, "select count(*) from gitlab_calls").await, 0);
    assert!(
        owner
            .get(&format!("/issues/{issue}"))
            .await
            .body
            .contains("Kept in the portal")
    );
}

#[tokio::test]
async fn two_instances_post_500_updates_as_500_notes_without_a_duplicate() {
    let double = GitLabDouble::start().await;
    let one = spawn_with(&double).await;
    let two = spawn_app_with(Spawn {
        db: Some(one.db.clone()),
        overrides: &[
            ("PORTAL_GITLAB_URL", &double.url),
            ("PORTAL_GITLAB_API_TOKEN", API_TOKEN),
        ],
        ..Spawn::default()
    })
    .await;
    let (_, partner) =
        partner_with_namespace(&one, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let issue = deliver_and_apply(&one, &fixture("issue_open_labelled")).await;
    sqlx::query(
        "with u as (
           insert into issue_updates (partner_id, issue_id, author_name, body, created_at)
           select $1, $2, 'Ada Lovelace', 'Update number ' || g, $3 from generate_series(1, 500) g
           returning id)
         insert into gitlab_calls (partner_id, kind, issue_update_id, next_attempt_at, created_at)
         select $1, 'note', id, $3, $3 from u",
    )
    .bind(partner)
    .bind(issue)
    .bind(one.clock.now())
    .execute(&one.pool)
    .await
    .unwrap();

    let drain = |app: &TestApp| {
        let worker = calls::worker(&app.state);
        async move {
            let mut sent = 0;
            loop {
                let report = worker.deliver_once().await.unwrap();
                sent += report.sent;
                if report.claimed() == 0 {
                    return sent;
                }
            }
        }
    };
    let (a, b) = tokio::join!(drain(&one), drain(&two));
    assert_eq!(a + b, 500);
    assert!(a > 0 && b > 0, "both instances worked: {a} and {b}");
    let notes = double.notes(PROJECT, 17);
    assert_eq!(notes.len(), 500);
    let mut bodies: Vec<&str> = notes.iter().map(|n| n.body.as_str()).collect();
    bodies.sort_unstable();
    bodies.dedup();
    assert_eq!(bodies.len(), 500, "no note twice");
}

#[tokio::test]
async fn an_instance_killed_mid_call_leaves_the_note_to_be_found_not_posted_again() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double).await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    // GitLab takes the note, then never answers: the caller dies waiting.
    double.script(Kind::CreateNote, [Answer::DoThenHang]);
    posted_update(&owner, issue, "Shipping 2.3.1 today.").await;

    let dir = tempfile::tempdir().unwrap();
    let mut other = tokio::process::Command::new(env!("CARGO_BIN_EXE_partner-portal"))
        .env("DATABASE_URL", &app.db.url)
        .env("PORTAL_ADDR", "127.0.0.1:0")
        .env("PORTAL_MAIL_DIR", dir.path())
        .env("PORTAL_GITLAB_URL", &double.url)
        .env("PORTAL_GITLAB_API_TOKEN", API_TOKEN)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while double
        .received_at(Method::POST, "/api/v4/projects/")
        .is_empty()
    {
        assert!(
            started.elapsed() < StdDuration::from_secs(30),
            "never called"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    // kill -9 while the call is in flight.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(other.id().unwrap() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    other.wait().await.unwrap();
    assert_eq!(gitlab_round(&app).await.claimed(), 0, "leased");

    app.clock.advance(Duration::minutes(2));
    assert_eq!(gitlab_round(&app).await.sent, 1);
    assert_eq!(
        double.notes(PROJECT, 17).len(),
        1,
        "found, not posted again"
    );
    assert_eq!(
        double.received_at(Method::POST, "/api/v4/projects/").len(),
        1
    );
    let note_id: Option<i64> = sqlx::query_scalar("select gitlab_note_id from issue_updates")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(note_id, Some(double.notes(PROJECT, 17)[0].id));
}

#[tokio::test]
async fn a_comment_by_a_linked_member_is_the_first_response() {
    let app = spawn().await;
    let (owner, partner) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let member = member_of(&app, partner, "Max Member", "max@acme.test").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    sqlx::query(
        "insert into gitlab_identities (user_id, gitlab_user_id, username, linked_at)
         select id, 4242, 'max-acme', $1 from users where email = 'max@acme.test'",
    )
    .bind(app.clock.now())
    .execute(&app.pool)
    .await
    .unwrap();
    let page = owner.get(&format!("/issues/{issue}")).await;
    assert!(page.body.contains("Awaiting a first response"));

    let answer = with(
        with(
            with(note(7001, "Thanks, we are on it."), "/user/id", json!(4242)),
            "/user/username",
            json!("max-acme"),
        ),
        "/object_attributes/created_at",
        gitlab_time(recorded(2019, 11, 8, 11, 0, 0)),
    );
    let emails_before = emails_of_kind(&app, "ada@acme.test", "issue_comment").await;
    comment(&app, &answer).await;

    let stored = issue_of_id(&app, issue).await;
    let first: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select first_response_at from issues where id = $1")
            .bind(stored.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(first, Some(recorded(2019, 11, 8, 11, 0, 0)));
    let page = member.get(&format!("/issues/{issue}")).await;
    assert!(!page.body.contains("Awaiting a first response"));
    assert!(
        page.body
            .contains("First response from @max-acme on GitLab")
    );
    assert!(page.body.contains("Your team"));
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "issue_comment").await,
        emails_before,
        "the partner's own comment emails nobody"
    );
    // An unlinked GitLab user's comment does not count.
    let (_, other) = partner_with_namespace(&app, "Globex", "hank@globex.test", "globex").await;
    let other_issue = deliver_and_apply(
        &app,
        &in_project(
            issue_id(fixture("issue_open_labelled"), 8, 8),
            "https://gitlab.com",
            "globex/tools",
        ),
    )
    .await;
    let stranger = with(
        with(
            with(
                in_project(
                    note(7002, "Any news?"),
                    "https://gitlab.com",
                    "globex/tools",
                ),
                "/issue/id",
                json!(8),
            ),
            "/issue/iid",
            json!(8),
        ),
        "/user/id",
        json!(4242),
    );
    comment(&app, &stranger).await;
    let first: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select first_response_at from issues where id = $1")
            .bind(other_issue)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(first, None, "max is not a member of {other}");
}

#[tokio::test]
async fn customer_comments_email_the_partner_at_most_once_per_issue_per_15_minutes() {
    let app = spawn().await;
    let (_, partner) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    member_of(&app, partner, "Max Member", "max@acme.test").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;

    comment(&app, &note(8001, "Still failing with **17.6**.")).await;
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "issue_comment").await,
        1
    );
    assert_eq!(
        emails_of_kind(&app, "max@acme.test", "issue_comment").await,
        1
    );
    let email = app.last_email_to("ada@acme.test").await;
    assert!(email.text.contains("Priya Raman (@praman) wrote:"));
    assert!(email.text.contains("Still failing with **17.6**."));
    assert!(email.text.contains(&format!("/issues/{issue}")));

    app.clock.advance(Duration::minutes(5));
    comment(&app, &note(8002, "Logs attached.")).await;
    app.clock.advance(Duration::minutes(3));
    comment(&app, &note(8003, "Also on 17.7.")).await;
    // An internal note is not the customer's.
    comment(
        &app,
        &with(
            fixture("confidential_note_event"),
            "/object_attributes/created_at",
            gitlab_time(recorded(2019, 11, 8, 13, 30, 0)),
        ),
    )
    .await;
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "issue_comment").await,
        1
    );
    issues::alerts::run_due(&app.state, app.clock.now())
        .await
        .unwrap();
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "issue_comment").await,
        1,
        "not before the 15 minutes"
    );
    let later = app.clock.now() + Duration::minutes(8);
    issues::alerts::run_due(&app.state, later).await.unwrap();
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "issue_comment").await,
        2
    );
    let email = app.last_email_to("ada@acme.test").await;
    assert!(
        email.subject.starts_with("2 new comments on"),
        "{}",
        email.subject
    );
    assert!(email.text.contains("Logs attached.") && email.text.contains("Also on 17.7."));
    assert!(!email.text.contains("enterprise plan"));
    issues::alerts::run_due(&app.state, later + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "issue_comment").await,
        2
    );
}

#[tokio::test]
async fn a_script_in_a_comment_or_an_update_is_shown_as_text() {
    let app = spawn().await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    comment(
        &app,
        &note(
            9001,
            "<script>alert('comment')</script> [x](javascript:alert(1))",
        ),
    )
    .await;
    posted_update(
        &owner,
        issue,
        "<script>alert('update')</script><img src=x onerror=alert(2)>",
    )
    .await;
    let page = owner.get(&format!("/issues/{issue}")).await;
    assert!(!page.body.contains("<script>alert"));
    assert!(!page.body.contains("<img src=x"));
    assert!(!page.body.contains("href=\"javascript"));
    assert!(
        page.body
            .contains("&lt;script&gt;alert(&#39;comment&#39;)&lt;/script&gt;")
            || page
                .body
                .contains("&lt;script&gt;alert('comment')&lt;/script&gt;"),
        "{}",
        page.snippet()
    );
    assert!(page.body.contains("&lt;script&gt;alert(") && page.body.contains("update"));
}

#[tokio::test]
async fn another_organisations_thread_is_not_found() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let (globex, _) = partner_with_namespace(&app, "Globex", "hank@globex.test", "globex").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    comment(&app, &note(9100, "A secret of Acme's customer.")).await;
    let page = globex.get(&format!("/issues/{issue}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("A secret of Acme"));
    let post = globex
        .post(&format!("/issues/{issue}/updates"), &[("body", "Hi")])
        .await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    assert_eq!(count(&app, "select count(*) from issue_updates").await, 0);
}

#[tokio::test]
async fn a_partners_own_secret_is_good_for_its_projects_only() {
    let app = spawn().await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    partner_with_namespace(&app, "Globex", "hank@globex.test", "globex").await;
    let page = acme.get("/integrations").await;
    assert!(page.body.contains("/webhooks/gitlab"));
    assert!(page.body.contains("https://gitlab.com/acme-corp"));
    acme.post("/integrations/webhook-secret", &[])
        .await
        .assert_redirect("/integrations");
    let shown = acme.get("/integrations").await.body;
    let at = shown.find("ppwh_").expect("the secret is shown once");
    let secret: String = shown[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert!(!acme.get("/integrations").await.body.contains(&secret));
    assert_eq!(
        count(
            &app,
            "select count(*) from audit_log where action = 'webhook_secret.created'"
        )
        .await,
        1
    );

    let send = |body: Value, key: &'static str| {
        app.client
            .post(app.url("/webhooks/gitlab"))
            .header("X-Gitlab-Token", secret.clone())
            .header("X-Gitlab-Event", "Issue Hook")
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let own = send(fixture("issue_open_labelled"), "own").await.unwrap();
    assert_eq!(own.status(), StatusCode::ACCEPTED);
    let theirs = send(
        in_project(
            issue_id(fixture("issue_open_labelled"), 9, 9),
            "https://gitlab.com",
            "globex/tools",
        ),
        "theirs",
    )
    .await
    .unwrap();
    assert_eq!(theirs.status(), StatusCode::FORBIDDEN);
    let nobodys = send(
        in_project(
            issue_id(fixture("issue_open_labelled"), 10, 10),
            "https://gitlab.com",
            "initech/x",
        ),
        "nobodys",
    )
    .await
    .unwrap();
    assert_eq!(nobodys.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        count(&app, "select count(*) from webhook_deliveries").await,
        1,
        "nothing stored for the refused ones"
    );
    // A new secret: the old one stops working; the instance token still works.
    acme.post("/integrations/webhook-secret", &[]).await;
    let old = send(fixture("issue_reopen"), "old-secret").await.unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let instance = deliver(&app, &fixture("issue_reopen"), Some("instance")).await;
    assert_eq!(instance.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_member_sees_the_integrations_but_cannot_make_a_secret() {
    let app = spawn().await;
    let (_, partner) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let member = member_of(&app, partner, "Max Member", "max@acme.test").await;
    let page = member.get("/integrations").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Ask an admin"));
    let made = member.post("/integrations/webhook-secret", &[]).await;
    assert_eq!(made.status, StatusCode::FORBIDDEN);
    assert_eq!(
        count(&app, "select count(*) from partner_webhook_secrets").await,
        0
    );
}

#[tokio::test]
async fn a_preview_shows_the_update_as_it_will_read_and_posts_nothing() {
    let app = spawn().await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    owner.get(&format!("/issues/{issue}")).await;
    let page = owner
        .post(
            &format!("/issues/{issue}/updates"),
            &[
                ("body", "| step | done |\n|---|---|\n| fix | **yes** |"),
                ("preview", "1"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<td><strong>yes</strong></td>"),
        "{}",
        page.snippet()
    );
    assert!(
        page.body.contains("| step | done |"),
        "the text is kept in the field"
    );
    assert_eq!(count(&app, "select count(*) from issue_updates").await, 0);
}
