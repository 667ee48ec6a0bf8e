//! Renewal: open from 60 days before expiry to 30 days after; the new term
//! runs 12 months from the old expiry, or from the day of renewal once
//! expired; the same approval rule as a new request.

use chrono::{DateTime, Datelike, TimeZone};
use reqwest::StatusCode;

use super::*;
use crate::{fixtures::approved_partner, helpers::spawn_app};

async fn terms(app: &TestApp, id: i64) -> Vec<(String, String, i32)> {
    sqlx::query_as("select kind, state, users from license_terms where license_id = $1 order by id")
        .bind(id)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn renewal_is_refused_61_days_before_expiry() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "saas", 5).await;
    let expires = license(&app, id).await.expires_at.unwrap();
    travel(&app, &agent, OWNER, expires - days(61)).await;

    let page = agent.get(&format!("/licenses/{id}")).await;
    assert!(!page.body.contains("Renew for 12 months"), "no button yet");
    assert!(page.body.contains("Renewal opens on"));
    let post = agent.post(&format!("/licenses/{id}/renew"), &[]).await;

    assert_eq!(post.status, StatusCode::CONFLICT);
    assert!(post.body.contains("Renewal opens on"));
    assert_eq!(license(&app, id).await.expires_at, Some(expires));
    assert_eq!(terms(&app, id).await.len(), 1);
}

#[tokio::test]
async fn renewal_opens_60_days_before_expiry_and_runs_on_from_the_old_expiry() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "saas", 5).await;
    let before = license(&app, id).await;
    let expires = before.expires_at.unwrap();
    travel(&app, &agent, OWNER, expires - days(60)).await;

    let page = agent.get(&format!("/licenses/{id}")).await;
    assert!(page.body.contains("Renew for 12 months"));
    agent
        .post(&format!("/licenses/{id}/renew"), &[])
        .await
        .assert_redirect(&format!("/licenses/{id}"));

    let after = license(&app, id).await;
    assert_eq!(
        after.expires_at,
        expires.checked_add_months(chrono::Months::new(12))
    );
    assert_eq!(after.license_key, before.license_key, "the key stays");
    assert_eq!(
        terms(&app, id).await[1],
        ("renewal".into(), "issued".into(), 5)
    );
    assert_eq!(
        subjects(&app, OWNER, "NFR license is renewed until")
            .await
            .len(),
        1
    );
    let page = agent.get(&format!("/licenses/{id}")).await;
    assert!(page.body.contains("Renewed for 12 more months."));
    assert!(
        !page.body.contains("Renew for 12 months"),
        "the window closed with the new term"
    );
    assert_eq!(audited(&app, "license.renewed", id).await, 1);
}

#[tokio::test]
async fn renewal_after_expiry_runs_from_the_day_of_renewal() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "saas", 5).await;
    let expires = license(&app, id).await.expires_at.unwrap();
    travel(
        &app,
        &agent,
        OWNER,
        expires + days(30) - Duration::minutes(5),
    )
    .await;
    assert!(agent.get("/licenses").await.body.contains("Expired"));

    let now = app.clock.now();
    agent
        .post(&format!("/licenses/{id}/renew"), &[])
        .await
        .assert_redirect(&format!("/licenses/{id}"));

    let new_expiry = license(&app, id).await.expires_at.unwrap();
    let from = new_expiry
        .checked_sub_months(chrono::Months::new(12))
        .unwrap();
    assert!(
        from >= now && from - now < Duration::seconds(30),
        "from {from}, now {now}"
    );
}

#[tokio::test]
async fn renewal_is_refused_31_days_after_expiry() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "saas", 5).await;
    let expires = license(&app, id).await.expires_at.unwrap();
    travel(&app, &agent, OWNER, expires + days(31)).await;

    let post = agent.post(&format!("/licenses/{id}/renew"), &[]).await;

    assert_eq!(post.status, StatusCode::CONFLICT);
    assert!(
        post.body
            .contains("expired more than 30 days ago; request a new one")
    );
    assert_eq!(terms(&app, id).await.len(), 1);
    // A new request for the product is now allowed, and closes the old one.
    let new_id = requested(&agent, "saas", 3).await;
    assert_ne!(new_id, id);
    assert_eq!(license(&app, id).await.state, "lapsed");
}

#[tokio::test]
async fn renewal_terms_across_a_leap_day() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "saas", 5).await;
    // Issued on the next 29 February (a leap day): expires 28 February of
    // the year after.
    let y = next_leap_year(app.clock.now());
    let leap_day = Utc.with_ymd_and_hms(y, 2, 29, 10, 0, 0).unwrap();
    let expiry = partner_portal::licenses::term_end(leap_day);
    assert_eq!(
        expiry,
        Utc.with_ymd_and_hms(y + 1, 2, 28, 10, 0, 0).unwrap()
    );
    sqlx::query("update licenses set issued_at = $2, expires_at = $3 where id = $1")
        .bind(id)
        .bind(leap_day)
        .bind(expiry)
        .execute(&app.pool)
        .await
        .unwrap();
    travel(
        &app,
        &agent,
        OWNER,
        Utc.with_ymd_and_hms(y + 1, 1, 10, 12, 0, 0).unwrap(),
    )
    .await;

    agent
        .post(&format!("/licenses/{id}/renew"), &[])
        .await
        .assert_redirect(&format!("/licenses/{id}"));

    assert_eq!(
        license(&app, id).await.expires_at,
        Some(Utc.with_ymd_and_hms(y + 2, 2, 28, 10, 0, 0).unwrap())
    );
}

/// The first year after `now` that has a 29 February.
fn next_leap_year(now: DateTime<Utc>) -> i32 {
    (now.year() + 1..)
        .find(|&y| chrono::NaiveDate::from_ymd_opt(y, 2, 29).is_some())
        .expect("a leap year within four years")
}

#[tokio::test]
async fn renewing_more_than_ten_users_waits_for_staff() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "self_managed", 5).await;
    let expires = license(&app, id).await.expires_at.unwrap();
    travel(&app, &agent, OWNER, expires - days(10)).await;

    let short = agent
        .post(&format!("/licenses/{id}/renew"), &[("users", "12")])
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short
            .body
            .contains("More than 10 users needs a staff review")
    );
    agent
        .post(
            &format!("/licenses/{id}/renew"),
            &[("users", "12"), ("justification", JUSTIFICATION)],
        )
        .await
        .assert_redirect(&format!("/licenses/{id}"));

    assert_eq!(
        license(&app, id).await.expires_at,
        Some(expires),
        "not extended yet"
    );
    assert_eq!(
        terms(&app, id).await[1],
        ("renewal".into(), "pending".into(), 12)
    );
    assert_eq!(
        subjects(&app, OWNER, "renewal is waiting for review")
            .await
            .len(),
        1
    );
    let again = agent.post(&format!("/licenses/{id}/renew"), &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("already waiting for review"));
}

#[tokio::test]
async fn concurrent_renewals_extend_the_license_once() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "saas", 5).await;
    let expires = license(&app, id).await.expires_at.unwrap();
    travel(&app, &agent, OWNER, expires - days(5)).await;
    agent.get(&format!("/licenses/{id}")).await;
    let path = format!("/licenses/{id}/renew");

    let pages = futures_util::future::join_all((0..5).map(|_| agent.post(&path, &[]))).await;

    assert_eq!(
        pages
            .iter()
            .filter(|p| p.status == StatusCode::SEE_OTHER)
            .count(),
        1
    );
    assert_eq!(terms(&app, id).await.len(), 2);
    assert_eq!(
        license(&app, id).await.expires_at,
        expires.checked_add_months(chrono::Months::new(12))
    );
}

#[tokio::test]
async fn a_member_sees_the_license_but_cannot_renew_it() {
    let app = spawn_app().await;
    let (agent, partner_id) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "saas", 5).await;
    let member = app.partner_user("Mo Member", "mo@acme.test").await;
    sqlx::query(
        "insert into partner_members (partner_id, user_id, role, created_at)
         select $1, id, 'member', now() from users where email = 'mo@acme.test'",
    )
    .bind(partner_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let expires = license(&app, id).await.expires_at.unwrap();
    travel(&app, &member, "mo@acme.test", expires - days(10)).await;

    let page = member.get(&format!("/licenses/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Only your organisation&#39;s admins can do this.")
    );
    assert!(!page.body.contains("Renew for 12 months"));
    let post = member.post(&format!("/licenses/{id}/renew"), &[]).await;

    assert_eq!(post.status, StatusCode::FORBIDDEN);
    assert_eq!(license(&app, id).await.expires_at, Some(expires));
    assert_eq!(terms(&app, id).await.len(), 1);
}
