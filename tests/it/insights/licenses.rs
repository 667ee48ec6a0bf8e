//! Licenses active and expiring in each of the next 90 days, against
//! hand-counted licenses: one that expired earlier today, one later today,
//! the first and last days shown and the day after them, and licenses
//! that are not active (revoked, waiting, expired) counted nowhere; a
//! renewal moves a license to its new expiry day.

use chrono::{DateTime, Days, Utc};

use super::support::*;
use crate::helpers::{TestApp, spawn_app};

async fn license(
    app: &TestApp,
    partner_id: i64,
    product: &str,
    state: &str,
    expires: DateTime<Utc>,
) -> i64 {
    let now = app.clock.now();
    let mut tx = writer(app).await;
    let id = sqlx::query_scalar(
        "insert into licenses (partner_id, product, state, users, purposes, license_key, issued_at, expires_at,
                               requested_at, decided_at)
         values ($1, $2, $3, 5, '{demos}', $4, $5, $6, $5, $5) returning id",
    )
    .bind(partner_id)
    .bind(product)
    .bind(state)
    .bind(format!("NFR-{partner_id}-{product}"))
    .bind(now - days(300))
    .bind(expires)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn licenses_are_counted_on_the_day_they_expire() {
    let app = spawn_app().await;
    let now = app.clock.now();
    let today = midnight(now.date_naive());
    let day = |n: u64| midnight(now.date_naive() + Days::new(n));
    let mut partners = Vec::new();
    for i in 0..8 {
        partners.push(partner(&app, &format!("Partner {i}")).await);
    }
    // Expired earlier today (or at midnight, if today just began).
    license(
        &app,
        partners[0],
        "saas",
        "active",
        today + (now - today) / 2,
    )
    .await;
    // Later today.
    let later_today = now + (day(1) - now) / 2;
    license(&app, partners[0], "self_managed", "active", later_today).await;
    license(&app, partners[1], "saas", "active", day(1) + hours(9)).await;
    let renewed = license(&app, partners[2], "saas", "active", day(1) + hours(10)).await;
    license(&app, partners[3], "saas", "active", day(89) + hours(23)).await;
    license(&app, partners[4], "saas", "active", day(90)).await;
    license(&app, partners[5], "saas", "revoked", day(5)).await;
    license(&app, partners[6], "saas", "active", now - days(3)).await;
    let mut tx = writer(&app).await;
    sqlx::query(
        "insert into licenses (partner_id, product, state, users, purposes, requested_at)
         values ($1, 'saas', 'pending', 20, '{demos}', $2)",
    )
    .bind(partners[7])
    .bind(now)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let staff = staff(&app).await;
    let rows = csv(&staff, "/admin/insights/licenses.csv").await;
    assert_eq!(
        rows[0],
        ["Day", "Expiring that day", "Active at the end of the day"]
    );
    assert_eq!(rows.len(), 91, "90 days and the header");
    let name = |n: u64| day_name(day(n));
    assert_eq!(rows[1][0], name(0));
    assert_eq!(rows[90][0], name(89));
    // Active now: the one later today, two tomorrow, one on day 89, one on day 90.
    assert_eq!(numbers(&rows, &name(0)), [1, 4]);
    assert_eq!(numbers(&rows, &name(1)), [2, 2]);
    assert_eq!(
        numbers(&rows, &name(5)),
        [0, 2],
        "the revoked license is not counted"
    );
    assert_eq!(numbers(&rows, &name(88)), [0, 2]);
    assert_eq!(numbers(&rows, &name(89)), [1, 1]);
    let page = staff.get("/admin/insights").await;
    assert!(
        page.body
            .contains("5 licenses are active now. 4 expire in the next 90 days"),
        "{}",
        page.snippet()
    );

    // Renewed for a year: it leaves tomorrow for a day past the 90 shown.
    let mut tx = writer(&app).await;
    sqlx::query("update licenses set expires_at = expires_at + interval '12 months' where id = $1")
        .bind(renewed)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let rows = csv(&staff, "/admin/insights/licenses.csv").await;
    assert_eq!(numbers(&rows, &name(0)), [1, 4]);
    assert_eq!(numbers(&rows, &name(1)), [1, 3]);
    assert_eq!(numbers(&rows, &name(89)), [1, 2]);
    assert_counts_consistent(&app).await;
}
