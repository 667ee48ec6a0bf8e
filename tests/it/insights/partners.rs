//! Approved partners by type and by stage, and how many were approved
//! within the period, against hand-counted applications: one approved
//! before the period, suspended and waiting partners counted nowhere, a
//! partner counted under each of its stages; suspension and reinstatement
//! take it out and bring it back.

use chrono::{DateTime, Utc};

use super::support::*;
use crate::helpers::{TestApp, spawn_app};

async fn application(
    app: &TestApp,
    company: &str,
    partner_type: &str,
    stages: &[&str],
    state: &str,
    decided: Option<DateTime<Utc>>,
) -> i64 {
    let partner_id = partner(app, company).await;
    let stages: Vec<String> = stages.iter().map(|s| s.to_string()).collect();
    let mut tx = writer(app).await;
    sqlx::query(
        "insert into applications (partner_id, company_name, partner_type, stages, state, submitted_at, decided_at, created_at)
         values ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(partner_id)
    .bind(company)
    .bind(partner_type)
    .bind(&stages)
    .bind(state)
    .bind(decided)
    .bind(app.clock.now() - days(800))
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    partner_id
}

async fn set_state(app: &TestApp, partner_id: i64, state: &str) {
    let mut tx = writer(app).await;
    sqlx::query("update applications set state = $2 where partner_id = $1")
        .bind(partner_id)
        .bind(state)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn approved_partners_are_counted_by_type_and_stage() {
    let app = spawn_app().await;
    let now = app.clock.now();
    let start = month(now, 11);
    let acme = application(
        &app,
        "Acme",
        "technology",
        &["verify", "deploy"],
        "approved",
        Some(month(now, 2) + days(3)),
    )
    .await;
    application(
        &app,
        "Globex",
        "cloud",
        &["plan"],
        "approved",
        Some(start - hours(1)),
    )
    .await;
    application(
        &app,
        "Initech",
        "technology",
        &["verify"],
        "approved",
        Some(start),
    )
    .await;
    application(
        &app,
        "Umbrella",
        "cloud",
        &["secure", "govern"],
        "suspended",
        Some(month(now, 1)),
    )
    .await;
    application(
        &app,
        "Hooli",
        "platform",
        &["plan", "create"],
        "submitted",
        None,
    )
    .await;

    let staff = staff(&app).await;
    let since = format!("Approved since {}", month_name(start));
    let types = csv(&staff, "/admin/insights/partner-types.csv").await;
    assert_eq!(types[0], ["Type", "Approved partners", since.as_str()]);
    assert_eq!(
        numbers(&types, "Cloud Partner"),
        [1, 0],
        "approved an hour before the period"
    );
    assert_eq!(numbers(&types, "Platform Partner"), [0, 0]);
    assert_eq!(
        numbers(&types, "Technology (ISV) Partner"),
        [2, 2],
        "one in the period's first second"
    );
    let stages = csv(&staff, "/admin/insights/partner-stages.csv").await;
    assert_eq!(stages[0], ["Stage", "Approved partners", since.as_str()]);
    let expect = [
        ("Plan", [1, 0]),
        ("Create", [0, 0]),
        ("Verify", [2, 2]),
        ("Package", [0, 0]),
        ("Secure", [0, 0]),
        ("Govern", [0, 0]),
        ("Deploy", [1, 1]),
        ("Monitor", [0, 0]),
    ];
    for (stage, counts) in expect {
        assert_eq!(numbers(&stages, stage), counts, "{stage}");
    }
    assert_eq!(stages.len(), 9);

    set_state(&app, acme, "suspended").await;
    let types = csv(&staff, "/admin/insights/partner-types.csv").await;
    assert_eq!(
        numbers(&types, "Technology (ISV) Partner"),
        [1, 1],
        "suspended: not counted"
    );
    let stages = csv(&staff, "/admin/insights/partner-stages.csv").await;
    assert_eq!(numbers(&stages, "Deploy"), [0, 0]);
    set_state(&app, acme, "approved").await;
    let types = csv(&staff, "/admin/insights/partner-types.csv").await;
    assert_eq!(
        numbers(&types, "Technology (ISV) Partner"),
        [2, 2],
        "reinstated"
    );
    assert_counts_consistent(&app).await;
}
