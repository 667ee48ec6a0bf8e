//! Reminders at 50 %, 80 % and 24 hours before, the escalation, the digest:
//! each exactly once, however often and however many schedulers run.

use chrono::{DateTime, Duration, Utc};
use partner_portal::{
    accounts::staff::StaffRole,
    issues::{ReminderReport, run_daily_digest, run_reminders},
};

use super::support::*;
use crate::helpers::{Spawn, TestApp, spawn_app_with};

const OWNER: &str = "ada@acme.test";
const STAFF: &str = "sam@alliance.test";

/// An S2 issue of Acme Corp whose clock started at `start`.
async fn s2_issue(app: &TestApp, start: DateTime<Utc>) -> i64 {
    deliver_and_apply(app, &created_at(fixture("issue_open_labelled"), start)).await
}

async fn reminders_to(app: &TestApp, address: &str) -> (i64, i64) {
    (
        emails_of_kind(app, address, "issue_reminder").await,
        emails_of_kind(app, address, "issue_escalation").await,
    )
}

/// Runs the pass `times` times at once, as several instances would.
async fn concurrently(app: &TestApp, now: DateTime<Utc>, times: usize) -> ReminderReport {
    let passes = (0..times).map(|_| run_reminders(&app.state, now));
    let mut total = ReminderReport::default();
    for report in futures_util::future::join_all(passes).await {
        let report = report.unwrap();
        total.reminders += report.reminders;
        total.escalations += report.escalations;
    }
    total
}

#[tokio::test]
async fn each_reminder_goes_at_its_threshold_exactly_once() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", OWNER, "acme-corp").await;
    app.staff_account(STAFF, StaffRole::Reviewer).await;
    let start = whole_seconds(app.clock.now());
    let id = s2_issue(&app, start).await;
    let second = Duration::seconds(1);

    // S2, 30 days: 50 % at day 15, 80 % at day 24, 24 h before at day 29.
    let thresholds = [
        (start + Duration::days(15), (1, 0)),
        (start + Duration::days(24), (2, 0)),
        (start + Duration::days(29), (3, 0)),
        (start + Duration::days(30), (3, 1)),
    ];
    for (at, expected) in thresholds {
        concurrently(&app, at - second, 3).await;
        let before = reminders_to(&app, OWNER).await;
        assert_eq!(
            (before.0 + before.1),
            expected.0 + expected.1 - 1,
            "nothing a second before {at}"
        );
        let report = concurrently(&app, at, 4).await;
        assert_eq!(report.reminders + report.escalations, 1, "one at {at}");
        concurrently(&app, at + Duration::hours(1), 4).await;
        assert_eq!(reminders_to(&app, OWNER).await, expected, "at {at}");
    }
    // Much later, nothing more.
    concurrently(&app, start + Duration::days(90), 4).await;
    assert_eq!(reminders_to(&app, OWNER).await, (3, 1));
    assert_eq!(
        emails_of_kind(&app, STAFF, "issue_escalation_staff").await,
        1
    );
    assert_eq!(
        count(
            &app,
            &format!("select count(*) from issue_reminders where issue_id = {id}")
        )
        .await,
        4
    );
    let kinds: Vec<String> = history(&app, id)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "reminder").count(),
        3,
        "{kinds:?}"
    );
    assert_eq!(kinds.iter().filter(|k| *k == "escalated").count(), 1);
}

#[tokio::test]
async fn two_instances_share_the_work_and_send_once() {
    let first = spawn().await;
    let second = spawn_app_with(Spawn {
        db: Some(first.db.clone()),
        overrides: &[("PORTAL_GITLAB_WEBHOOK_TOKEN", TOKEN)],
        ..Spawn::default()
    })
    .await;
    partner_with_namespace(&first, "Acme Corp", OWNER, "acme-corp").await;
    let start = whole_seconds(first.clock.now());
    for n in 0..30 {
        let body = issue_id(
            created_at(fixture("issue_open_labelled"), start - Duration::days(16)),
            1000 + n,
            n,
        );
        deliver(&first, &body, None).await;
    }
    apply(&first).await;

    let now = start + Duration::minutes(1);
    let (a, b) = tokio::join!(
        run_reminders(&first.state, now),
        run_reminders(&second.state, now)
    );
    let sent = a.unwrap().reminders + b.unwrap().reminders;

    assert_eq!(sent, 30);
    assert_eq!(reminders_to(&first, OWNER).await, (30, 0));
    // After a restart (a new pass), still nothing twice.
    run_reminders(&second.state, now).await.unwrap();
    assert_eq!(reminders_to(&first, OWNER).await, (30, 0));
}

#[tokio::test]
async fn an_issue_arriving_late_gets_one_reminder_not_a_burst() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", OWNER, "acme-corp").await;
    let now = whole_seconds(app.clock.now());
    // 29.5 days into a 30-day window: past 50 % and 80 %, within 24 hours.
    s2_issue(&app, now - Duration::hours(29 * 24 + 12)).await;

    run_reminders(&app.state, now).await.unwrap();
    run_reminders(&app.state, now + Duration::hours(1))
        .await
        .unwrap();

    assert_eq!(reminders_to(&app, OWNER).await, (1, 0));
    let subject = app.last_email_to(OWNER).await.subject;
    assert!(subject.starts_with("Reminder:"), "{subject}");
    let kinds: Vec<String> = sqlx::query_scalar("select kind from issue_reminders")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(kinds, ["day_before"]);
}

#[tokio::test]
async fn an_issue_arriving_after_its_deadline_is_escalated_only() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", OWNER, "acme-corp").await;
    app.staff_account(STAFF, StaffRole::Admin).await;
    let now = whole_seconds(app.clock.now());
    s2_issue(&app, now - Duration::days(31)).await;

    run_reminders(&app.state, now).await.unwrap();
    run_reminders(&app.state, now).await.unwrap();

    assert_eq!(reminders_to(&app, OWNER).await, (0, 1));
    assert_eq!(
        emails_of_kind(&app, STAFF, "issue_escalation_staff").await,
        1
    );
}

#[tokio::test]
async fn a_closed_issue_gets_no_reminders() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", OWNER, "acme-corp").await;
    deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    deliver_and_apply(&app, &fixture("issue_close")).await;

    run_reminders(&app.state, app.clock.now() + Duration::days(100))
        .await
        .unwrap();

    assert_eq!(reminders_to(&app, OWNER).await, (0, 0));
}

#[tokio::test]
async fn a_downgrade_after_a_reminder_does_not_repeat_it() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", OWNER, "acme-corp").await;
    let now = whole_seconds(app.clock.now());
    let start = now - Duration::days(4);
    let open = labels(
        created_at(issue_id(fixture("issue_open_labelled"), 151301, 19), start),
        &["severity::1"],
    );
    deliver_and_apply(&app, &open).await;
    run_reminders(&app.state, now).await.unwrap();
    assert_eq!(
        reminders_to(&app, OWNER).await,
        (1, 0),
        "S1: half of 7 days gone"
    );

    let down = with(
        created_at(fixture("issue_update_severity_changed"), start),
        "/object_attributes/updated_at",
        gitlab_time(now),
    );
    deliver_and_apply(&app, &down).await;
    // S4, 60 days: 50 % (day 30) was already sent; the next is 80 % at day 48.
    run_reminders(&app.state, start + Duration::days(30))
        .await
        .unwrap();
    assert_eq!(reminders_to(&app, OWNER).await, (1, 0));
    run_reminders(&app.state, start + Duration::days(48))
        .await
        .unwrap();
    assert_eq!(reminders_to(&app, OWNER).await, (2, 0));
}

#[tokio::test]
async fn staff_get_one_digest_of_overdue_issues_a_day() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", OWNER, "acme-corp").await;
    app.staff_account(STAFF, StaffRole::Reviewer).await;
    let now = app.clock.now();
    assert!(
        !run_daily_digest(&app.state, now).await.unwrap(),
        "nothing overdue, no digest"
    );
    s2_issue(&app, whole_seconds(now - Duration::days(40))).await;

    let runs = (0..4).map(|_| run_daily_digest(&app.state, now));
    let sent = futures_util::future::join_all(runs)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(sent, 1);
    assert_eq!(emails_of_kind(&app, STAFF, "issue_digest").await, 1);
    let digest = app.last_email_to(STAFF).await;
    assert!(digest.text.contains("Acme Corp"), "{}", digest.text);
    assert!(
        digest
            .text
            .contains("acme-corp/integrations/runner-component#17")
    );

    // Later the same (UTC) day, whatever the hour the test runs at.
    let later_today = now
        .date_naive()
        .and_hms_opt(23, 59, 59)
        .expect("a valid time")
        .and_utc();
    run_daily_digest(&app.state, later_today).await.unwrap();
    assert_eq!(emails_of_kind(&app, STAFF, "issue_digest").await, 1);
    run_daily_digest(&app.state, now + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(emails_of_kind(&app, STAFF, "issue_digest").await, 2);
}

#[tokio::test]
async fn done_means_an_issue_16_days_old_gets_the_half_reminder_on_the_next_pass_once() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", OWNER, "acme-corp").await;
    let now = app.clock.now();
    s2_issue(&app, whole_seconds(now - Duration::days(16))).await;

    let first = run_reminders(&app.state, app.clock.now()).await.unwrap();
    app.clock.advance(Duration::minutes(1));
    let second = run_reminders(&app.state, app.clock.now()).await.unwrap();

    assert_eq!((first.reminders, second.reminders), (1, 0));
    let email = app.last_email_to(OWNER).await;
    assert!(
        email
            .text
            .contains("Half of the resolution window has passed"),
        "{}",
        email.text
    );
    assert!(email.text.contains("/issues/"), "links to the issue");
}
