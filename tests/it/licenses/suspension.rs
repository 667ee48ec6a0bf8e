//! A suspended partner's licenses (PRODUCT.md §5): suspension suspends the
//! active ones (no reminders, no renewal, shown as suspended, emailed,
//! audited); reinstatement restores those whose term has not ended.

use partner_portal::jobs;
use reqwest::StatusCode;

use super::*;
use crate::{
    browser::Browser,
    fixtures::approved_partner,
    helpers::{PASSWORD, spawn_app},
};

async fn application_of(app: &TestApp, partner_id: i64) -> i64 {
    sqlx::query_scalar("select id from applications where partner_id = $1")
        .bind(partner_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn decide(app: &TestApp, staff: &Agent, partner_id: i64, action: &str) {
    let application = application_of(app, partner_id).await;
    staff
        .get(&format!("/admin/applications/{application}"))
        .await;
    staff
        .post(
            &format!("/admin/applications/{application}/{action}"),
            &[("reason", "NFR licenses used in a customer environment")],
        )
        .await
        .assert_redirect(&format!("/admin/applications/{application}"));
}

/// Inserts a license of `partner_id` in `state` that ended long ago.
async fn ended(app: &TestApp, partner_id: i64, state: &str) -> i64 {
    let now = app.clock.now();
    let issued = state != "rejected";
    sqlx::query_scalar(
        "insert into licenses (partner_id, product, state, users, purposes, license_key, issued_at,
                               expires_at, requested_at, decided_at)
         values ($1, 'saas', $2, 3, '{training}', case when $3 then 'NFR-' || $2 end,
                 case when $3 then $4 end, case when $3 then $4 + interval '12 months' end, $4, $4)
         returning id",
    )
    .bind(partner_id)
    .bind(state)
    .bind(issued)
    .bind(now - days(500))
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn states(app: &TestApp, ids: &[i64]) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        out.push(license(app, *id).await.state);
    }
    out
}

#[tokio::test]
async fn suspension_suspends_active_licenses_and_reinstatement_restores_those_still_in_term() {
    let app = spawn_app().await;
    let (ada, acme) = approved_partner(&app, "Acme Corp", OWNER).await;
    // Active for a year.
    let long = requested(&ada, "saas", 5).await;
    // Active, ending in 10 days: it ends during the suspension.
    let short = requested(&ada, "self_managed", 4).await;
    let now = app.clock.now();
    sqlx::query("update licenses set expires_at = $2, next_reminder_at = $3 where id = $1")
        .bind(short)
        .bind(now + days(10))
        .bind(now + days(3))
        .execute(&app.pool)
        .await
        .unwrap();
    let revoked = ended(&app, acme, "revoked").await;
    let rejected = ended(&app, acme, "rejected").await;
    let lapsed = ended(&app, acme, "lapsed").await;
    let others = [revoked, rejected, lapsed];
    let staff = staff(&app).await;

    decide(&app, &staff, acme, "suspend").await;

    assert_eq!(
        states(&app, &[long, short]).await,
        ["suspended", "suspended"]
    );
    assert_eq!(
        states(&app, &others).await,
        ["revoked", "rejected", "lapsed"]
    );
    for id in [long, short] {
        assert_eq!(audited(&app, "license.suspended", id).await, 1);
    }
    for id in others {
        assert_eq!(audited(&app, "license.suspended", id).await, 0);
    }
    assert_eq!(
        subjects(&app, OWNER, "NFR license is suspended").await,
        [
            "Your SaaS NFR license is suspended",
            "Your Self-Managed NFR license is suspended"
        ]
    );
    // Shown as suspended to the partner…
    let list = ada.get("/licenses").await;
    assert_eq!(
        list.body.matches(">Suspended<").count(),
        2,
        "{}",
        list.snippet()
    );
    let page = ada.get(&format!("/licenses/{long}")).await;
    assert!(page.body.contains("Suspended"));
    assert!(page.body.contains("Suspended with the partnership"));
    // …and to staff, in the list and its export.
    let staff_list = staff.get("/admin/licenses").await;
    assert!(staff_list.body.contains("Licenses in their term (2)"));
    assert_eq!(staff_list.body.matches(">Suspended<").count(), 2);
    let csv = staff.get("/admin/licenses.csv").await;
    let rows: Vec<&str> = csv.body.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{}", csv.body);
    assert!(
        rows.iter().all(|r| r.ends_with(",suspended")),
        "{}",
        csv.body
    );
    // What a person sees, checked by axe.
    {
        let b = Browser::launch(&app.address).await;
        b.goto("/login").await;
        b.fill("Email address", OWNER).await;
        b.fill("Password", PASSWORD).await;
        b.click_button("Sign in").await;
        b.goto("/licenses").await;
        b.assert_text_contains("Suspended").await;
        b.screenshot("licenses-suspended").await;
        b.assert_accessible("licenses of a suspended partner").await;
        b.goto(&format!("/licenses/{long}")).await;
        b.assert_text_contains("Suspended with the partnership")
            .await;
        b.screenshot("license-suspended").await;
        b.assert_accessible("a suspended license").await;
    }

    // No reminder while suspended, even one that falls due.
    let before = app.emails_to(OWNER).await.len();
    jobs::run_at(&app.state, now + days(5)).await.unwrap();
    assert_eq!(app.emails_to(OWNER).await.len(), before);

    // Reinstated 20 days later: the short license ended meanwhile.
    app.clock.advance(days(20));
    let staff = app
        .staff_user(
            "rita@vendor.test",
            partner_portal::accounts::staff::StaffRole::Reviewer,
        )
        .await;
    decide(&app, &staff, acme, "reinstate").await;

    assert_eq!(states(&app, &[long, short]).await, ["active", "lapsed"]);
    assert_eq!(
        states(&app, &others).await,
        ["revoked", "rejected", "lapsed"]
    );
    assert_eq!(audited(&app, "license.restored", long).await, 1);
    assert_eq!(audited(&app, "license.lapsed", short).await, 1);
    assert_eq!(
        subjects(&app, OWNER, "SaaS NFR license is active again").await,
        ["Your SaaS NFR license is active again"]
    );
    assert_eq!(
        subjects(&app, OWNER, "ended during the suspension").await,
        ["Your Self-Managed NFR license ended during the suspension"]
    );
    // The restored license keeps its key and term, and its reminders.
    let restored = license(&app, long).await;
    assert!(restored.license_key.is_some());
    let due: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select next_reminder_at from licenses where id = $1")
            .bind(long)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(due, Some(restored.expires_at.unwrap() - days(30)));
    // The lapsed product can be requested again.
    app.sign_in(&ada, OWNER).await.assert_redirect("/dashboard");
    requested(&ada, "self_managed", 2).await;
}

#[tokio::test]
async fn a_suspended_license_cannot_be_renewed_and_its_waiting_renewal_is_refused() {
    let app = spawn_app().await;
    let (ada, acme) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&ada, "saas", 5).await;
    let expires = license(&app, id).await.expires_at.unwrap();
    travel(&app, &ada, OWNER, expires - days(30)).await;
    ada.post(&format!("/licenses/{id}/renew"), &[("users", "12")])
        .await;
    ada.post(
        &format!("/licenses/{id}/renew"),
        &[("users", "12"), ("justification", JUSTIFICATION)],
    )
    .await
    .assert_redirect(&format!("/licenses/{id}"));
    let staff = staff(&app).await;

    decide(&app, &staff, acme, "suspend").await;

    let term_state: String = sqlx::query_scalar(
        "select state from license_terms where license_id = $1 and kind = 'renewal'",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(term_state, "rejected");
    let page = ada.get(&format!("/licenses/{id}")).await;
    assert!(!page.body.contains("Renew for 12 months"));
    let renew = ada.post(&format!("/licenses/{id}/renew"), &[]).await;
    assert_ne!(renew.status, StatusCode::SEE_OTHER, "{}", renew.snippet());
    assert_eq!(license(&app, id).await.expires_at, Some(expires));
}

#[tokio::test]
async fn a_waiting_request_of_a_suspended_partner_is_not_approved() {
    let app = spawn_app().await;
    let (ada, acme) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&ada, "saas", 25).await;
    let staff = staff(&app).await;

    decide(&app, &staff, acme, "suspend").await;

    assert_eq!(
        license(&app, id).await.state,
        "pending",
        "not active: not suspended"
    );
    staff.get(&format!("/admin/licenses/{id}")).await;
    let approve = staff
        .post(&format!("/admin/licenses/{id}/approve"), &[("reason", "")])
        .await;
    assert!(
        approve.body.contains("The partner is suspended"),
        "{}",
        approve.snippet()
    );
    assert_eq!(license(&app, id).await.state, "pending");
    assert_eq!(audited(&app, "license.approved", id).await, 0);

    decide(&app, &staff, acme, "reinstate").await;
    staff.get(&format!("/admin/licenses/{id}")).await;
    staff
        .post(&format!("/admin/licenses/{id}/approve"), &[("reason", "")])
        .await
        .assert_redirect(&format!("/admin/licenses/{id}"));
    assert_eq!(license(&app, id).await.state, "active");
}
