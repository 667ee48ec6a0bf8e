//! The application funnel and the time to decision, against hand-counted
//! histories: a resubmission that is not a second "submitted", a decision
//! across a weekend that took one business day, one that took ten, an
//! empty month, and an application through the real pages this month.

use chrono::{DateTime, Utc};
use partner_portal::accounts::staff::StaffRole;

use super::support::*;
use crate::{
    applications::{complete_form, submit},
    fixtures,
    helpers::{TestApp, spawn_app},
};

async fn application(app: &TestApp, company: &str, created: DateTime<Utc>) -> (i64, i64) {
    let partner_id = partner(app, company).await;
    let mut tx = writer(app).await;
    let id = sqlx::query_scalar(
        "insert into applications (partner_id, company_name, partner_type, created_at)
         values ($1, $2, 'technology', $3) returning id",
    )
    .bind(partner_id)
    .bind(company)
    .bind(created)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (partner_id, id)
}

/// One step of an application's history, as `applications::transition`
/// records it (the application's own state is not what is counted here).
async fn event(app: &TestApp, (partner_id, id): (i64, i64), to: &str, at: DateTime<Utc>) {
    let mut tx = writer(app).await;
    sqlx::query(
        "insert into application_events (partner_id, application_id, to_state, actor, occurred_at)
         values ($1, $2, $3, 'test', $4)",
    )
    .bind(partner_id)
    .bind(id)
    .bind(to)
    .bind(at)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_funnel_and_time_to_decision_are_counted_per_month_in_business_days() {
    let app = spawn_app().await;
    let now = app.clock.now();
    let m = |back| month_name(month(now, back));

    // m(3): submitted on a Monday at 09:00, changes requested on Wednesday
    // at 16:00 (55 business hours), resubmitted on Friday at 12:00 and
    // approved on Monday at 12:00: one business day, the weekend does not
    // count.
    let monday = first_monday(now, 3);
    let a = application(&app, "Acme Corp", month(now, 3)).await;
    event(&app, a, "submitted", monday + hours(9)).await;
    event(&app, a, "changes_requested", monday + days(2) + hours(16)).await;
    event(&app, a, "submitted", monday + days(4) + hours(12)).await;
    event(&app, a, "approved", monday + days(7) + hours(12)).await;
    // m(2): rejected two weeks after its submission (ten business days),
    // and a draft that was never submitted.
    let monday = first_monday(now, 2);
    let b = application(&app, "Globex", month(now, 2)).await;
    event(&app, b, "submitted", monday + hours(10)).await;
    event(&app, b, "rejected", monday + days(14) + hours(10)).await;
    application(&app, "Initech", month(now, 2) + days(3)).await;
    // m(1): nothing. m(0): an organisation applies through the pages and
    // staff approve it.
    let (owner, partner_id) = fixtures::organisation(&app, "Hooli", "gavin@hooli.test").await;
    submit(&owner, &complete_form("Hooli"))
        .await
        .assert_redirect("/application");
    let id: i64 = sqlx::query_scalar("select id from applications where partner_id = $1")
        .bind(partner_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let staff = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;
    staff.get(&format!("/admin/applications/{id}")).await;
    staff
        .post(
            &format!("/admin/applications/{id}/approve"),
            &[("reason", "Welcome to the program.")],
        )
        .await
        .assert_redirect(&format!("/admin/applications/{id}"));

    let funnel = csv(&staff, "/admin/insights/applications.csv?months=6").await;
    assert_eq!(
        funnel[0],
        ["Month", "Started", "Submitted", "Approved", "Rejected"]
    );
    assert_eq!(numbers(&funnel, &m(5)), [0, 0, 0, 0]);
    assert_eq!(numbers(&funnel, &m(4)), [0, 0, 0, 0]);
    assert_eq!(
        numbers(&funnel, &m(3)),
        [1, 1, 1, 0],
        "a resubmission is not counted again"
    );
    assert_eq!(numbers(&funnel, &m(2)), [2, 1, 0, 1]);
    assert_eq!(numbers(&funnel, &m(1)), [0, 0, 0, 0], "an empty month");
    assert_eq!(numbers(&funnel, &m(0)), [1, 1, 1, 0], "through the pages");

    let decisions = csv(&staff, "/admin/insights/decisions.csv?months=6").await;
    assert_eq!(
        decisions[0],
        [
            "Month",
            "Decisions",
            "Median (business days)",
            "90th percentile (business days)",
            "Within 5 business days",
            "Share within 5 business days"
        ]
    );
    // Two decisions: 1 and 55/24 = 2.29 business days.
    assert_eq!(cells(&decisions, &m(3)), ["2", "1.0", "2.3", "2", "100%"]);
    assert_eq!(cells(&decisions, &m(2)), ["1", "10.0", "10.0", "0", "0%"]);
    assert_eq!(
        cells(&decisions, &m(1)),
        ["0", "", "", "0", ""],
        "no decision, no median"
    );
    // Decided within the hour (or over a weekend, in no business time).
    assert_eq!(cells(&decisions, &m(0)), ["1", "0.0", "0.0", "1", "100%"]);
    let page = staff.get("/admin/insights?months=6").await;
    assert!(
        page.body.contains("4 decisions in the last 6 months"),
        "{}",
        page.snippet()
    );
    assert_counts_consistent(&app).await;
}
