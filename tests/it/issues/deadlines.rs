//! Severity labels, the clock start of §6 and deadline recomputation.

use chrono::{Duration, Utc};
use serde_json::json;

use super::support::*;

/// A November time of the recorded fixtures, as replayed today.
fn at(d: u32, h: u32, mi: u32, s: u32) -> chrono::DateTime<Utc> {
    recorded(2019, 11, d, h, mi, s)
}

#[tokio::test]
async fn a_label_added_later_starts_the_clock_at_that_update() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let id = deliver_and_apply(&app, &fixture("issue_open_unlabelled")).await;
    assert_eq!(issue_of(&app, 151244).await.deadline_at, None);

    deliver_and_apply(&app, &fixture("issue_update_label_added")).await;

    let issue = issue_of(&app, 151244).await;
    assert_eq!(issue.clock_started_at, Some(at(12, 14, 30, 5)));
    assert_eq!(
        issue.deadline_at,
        Some(at(12, 14, 30, 5) + Duration::days(45))
    );
    let (kind, summary) = history(&app, id).await.pop().unwrap();
    assert_eq!(kind, "severity_set");
    assert!(summary.contains("Severity 3"), "{summary}");
}

#[tokio::test]
async fn a_downgrade_and_an_upgrade_recompute_from_the_same_start_and_are_recorded() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let created = at(2, 7, 45, 12);
    // The issue as first opened: severity::1.
    let open = labels(
        created_at(
            issue_id(fixture("issue_open_labelled"), 151301, 19),
            created,
        ),
        &["severity::1", "component::runner"],
    );
    let id = deliver_and_apply(&app, &open).await;
    assert_eq!(
        issue_of(&app, 151301).await.deadline_at,
        Some(created + Duration::days(7))
    );

    // Downgraded to severity::4 two days later.
    deliver_and_apply(&app, &fixture("issue_update_severity_changed")).await;
    let down = issue_of(&app, 151301).await;
    assert_eq!(down.severity, Some(4));
    assert_eq!(down.clock_started_at, Some(created));
    assert_eq!(down.deadline_at, Some(created + Duration::days(60)));

    // Upgraded to severity::2 later still.
    let up = with(
        labels(
            fixture("issue_update_severity_changed"),
            &["severity::2", "component::runner"],
        ),
        "/object_attributes/updated_at",
        gitlab_time(at(6, 9, 0, 0)),
    );
    let up = with(
        up,
        "/changes/labels/previous",
        json!([{ "title": "severity::4" }, { "title": "component::runner" }]),
    );
    deliver_and_apply(&app, &up).await;
    let upgraded = issue_of(&app, 151301).await;
    assert_eq!(upgraded.severity, Some(2));
    assert_eq!(upgraded.deadline_at, Some(created + Duration::days(30)));

    let changes: Vec<String> = history(&app, id)
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "severity_changed")
        .map(|(_, summary)| summary)
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(changes[0].contains("from 1 to 4"), "{}", changes[0]);
    assert!(changes[1].contains("from 4 to 2"), "{}", changes[1]);
}

#[tokio::test]
async fn removing_the_label_keeps_the_severity_and_the_clock() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    let before = issue_of(&app, 151230).await;
    let unlabelled = with(
        labels(fixture("issue_open_labelled"), &["component::runner"]),
        "/object_attributes/action",
        json!("update"),
    );
    let unlabelled = with(
        unlabelled,
        "/object_attributes/updated_at",
        gitlab_time(at(9, 0, 0, 0)),
    );

    deliver_and_apply(&app, &unlabelled).await;

    let after = issue_of(&app, 151230).await;
    assert_eq!(
        (after.severity, after.deadline_at),
        (before.severity, before.deadline_at)
    );
}

#[tokio::test]
async fn a_new_resolution_window_applies_to_deadlines_computed_afterwards() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    sqlx::query("update sla_settings set s2_days = 20, s3_days = 10")
        .execute(&app.pool)
        .await
        .unwrap();

    deliver_and_apply(&app, &fixture("issue_open_unlabelled")).await;
    deliver_and_apply(&app, &fixture("issue_update_label_added")).await;

    let running = issue_of(&app, 151230).await;
    assert_eq!(
        running.deadline_at,
        Some(at(8, 10, 15, 0) + Duration::days(30)),
        "unchanged"
    );
    let fresh = issue_of(&app, 151244).await;
    assert_eq!(
        fresh.deadline_at,
        Some(at(12, 14, 30, 5) + Duration::days(10))
    );
}

#[tokio::test]
async fn an_issue_can_arrive_with_part_of_its_window_gone() {
    let app = spawn().await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let created = whole_seconds(app.clock.now() - Duration::days(25));
    let id = deliver_and_apply(&app, &created_at(fixture("issue_open_labelled"), created)).await;

    let page = owner.get(&format!("/issues/{id}")).await;
    assert!(page.body.contains("Due soon"), "{}", page.snippet());
    assert!(page.body.contains("4 days left"), "{}", page.snippet());
}
