//! Staff decisions: the queue, approve, reject, reduce, revoke, each with
//! its email and audit entry; the list of active licenses and its export.

use reqwest::StatusCode;

use super::*;
use crate::{fixtures::approved_partner, helpers::spawn_app};

#[tokio::test]
async fn staff_approve_a_waiting_request_then_reduce_it_after_an_audit() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "self_managed", 25).await;
    let staff = staff(&app).await;

    let queue = staff.get("/admin/licenses").await;
    assert!(queue.body.contains("Waiting for a decision (1)"));
    let detail = staff.get(&format!("/admin/licenses/{id}")).await;
    assert!(detail.body.contains(JUSTIFICATION));
    staff
        .post(&format!("/admin/licenses/{id}/approve"), &[("reason", "")])
        .await
        .assert_redirect(&format!("/admin/licenses/{id}"));

    let approved = license(&app, id).await;
    assert_eq!((approved.state.as_str(), approved.users), ("active", 25));
    assert!(approved.license_key.is_some());
    assert_eq!(
        subjects(&app, OWNER, "Self-Managed NFR license is ready")
            .await
            .len(),
        1
    );
    assert!(
        app.last_email_to(OWNER)
            .await
            .text
            .contains("The alliance team approved your request")
    );
    assert_eq!(audited(&app, "license.approved", id).await, 1);
    assert!(
        staff
            .get("/admin/licenses")
            .await
            .body
            .contains("Waiting for a decision (0)")
    );

    staff.get(&format!("/admin/licenses/{id}")).await;
    staff
        .post(
            &format!("/admin/licenses/{id}/reduce"),
            &[("users", "15"), ("reason", "Audit found 15 active users.")],
        )
        .await
        .assert_redirect(&format!("/admin/licenses/{id}"));

    assert_eq!(license(&app, id).await.users, 15);
    let email = app.last_email_to(OWNER).await;
    assert_eq!(
        email.subject,
        "Your Self-Managed NFR license now has 15 users"
    );
    assert!(
        email.text.contains("from 25 to 15 users")
            && email.text.contains("Audit found 15 active users.")
    );
    assert_eq!(audited(&app, "license.reduced", id).await, 1);
    let page = agent.get(&format!("/licenses/{id}")).await;
    assert!(page.body.contains("Reduced from 25 to 15 users"));
    assert!(page.body.contains("Audit found 15 active users."));
}

#[tokio::test]
async fn reducing_needs_fewer_users_a_reason_and_never_goes_below_one() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "saas", 5).await;
    let staff = staff(&app).await;
    staff.get(&format!("/admin/licenses/{id}")).await;
    let path = format!("/admin/licenses/{id}/reduce");

    for (users, reason, message) in [
        (
            "8",
            "Audit.",
            "Enter fewer users than the license has now (5).",
        ),
        ("0", "Audit.", "A license keeps at least 1 user"),
        (
            "3",
            "  ",
            "Give the reason; the partner receives it by email.",
        ),
    ] {
        let page = staff
            .post(&path, &[("users", users), ("reason", reason)])
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{users}");
        assert!(page.body.contains(message), "{message}");
    }
    assert_eq!(license(&app, id).await.users, 5);

    staff
        .post(&path, &[("users", "1"), ("reason", "One tester.")])
        .await
        .assert_redirect(&format!("/admin/licenses/{id}"));
    let at_one = staff
        .post(&path, &[("users", "1"), ("reason", "Again.")])
        .await;
    assert!(at_one.body.contains("cannot be reduced further"));
    assert_eq!(license(&app, id).await.users, 1);
}

#[tokio::test]
async fn rejecting_needs_a_reason_which_the_partner_receives() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "self_managed", 40).await;
    let staff = staff(&app).await;
    staff.get(&format!("/admin/licenses/{id}")).await;

    let empty = staff
        .post(&format!("/admin/licenses/{id}/reject"), &[("reason", "")])
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(license(&app, id).await.state, "pending");
    staff
        .post(
            &format!("/admin/licenses/{id}/reject"),
            &[("reason", "40 users is more than a demo team needs.")],
        )
        .await
        .assert_redirect(&format!("/admin/licenses/{id}"));

    assert_eq!(license(&app, id).await.state, "rejected");
    let email = app.last_email_to(OWNER).await;
    assert_eq!(
        email.subject,
        "Your Self-Managed NFR license request was not approved"
    );
    assert!(
        email
            .text
            .contains("40 users is more than a demo team needs.")
    );
    assert_eq!(audited(&app, "license.rejected", id).await, 1);
    let twice = staff
        .post(&format!("/admin/licenses/{id}/approve"), &[])
        .await;
    assert!(twice.body.contains("no request waiting for a decision"));
    // The product is free again.
    requested(&agent, "self_managed", 8).await;
}

#[tokio::test]
async fn revoking_ends_the_license_and_emails_the_reason() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "saas", 5).await;
    let key = license(&app, id).await.license_key.unwrap();
    let staff = staff(&app).await;
    staff.get(&format!("/admin/licenses/{id}")).await;

    staff
        .post(
            &format!("/admin/licenses/{id}/revoke"),
            &[("reason", "Used in a customer environment.")],
        )
        .await
        .assert_redirect(&format!("/admin/licenses/{id}"));

    assert_eq!(license(&app, id).await.state, "revoked");
    let email = app.last_email_to(OWNER).await;
    assert_eq!(email.subject, "Your SaaS NFR license was revoked");
    assert!(email.text.contains("Used in a customer environment."));
    assert_eq!(audited(&app, "license.revoked", id).await, 1);
    let page = agent.get(&format!("/licenses/{id}")).await;
    assert!(page.body.contains("Revoked") && !page.body.contains(&key));
    let renew = agent.post(&format!("/licenses/{id}/renew"), &[]).await;
    assert_eq!(renew.status, StatusCode::CONFLICT);
    let again = staff
        .post(
            &format!("/admin/licenses/{id}/revoke"),
            &[("reason", "Again.")],
        )
        .await;
    assert!(
        again
            .body
            .contains("Only an active license can be reduced or revoked.")
    );
}

/// Acme Corp's SaaS license for 5 users and self-managed one for 7, and
/// Globex's SaaS license for 2 that expires in 20 days: their ids.
async fn three_active_licenses(app: &crate::helpers::TestApp) -> [i64; 3] {
    let (acme, _) = approved_partner(app, "Acme Corp", OWNER).await;
    let (globex, _) = approved_partner(app, "Globex, Inc.", "hank@globex.test").await;
    let saas = requested(&acme, "saas", 5).await;
    let managed = requested(&acme, "self_managed", 7).await;
    let other = requested(&globex, "saas", 2).await;
    sqlx::query("update licenses set expires_at = $2 + interval '20 days' where id = $1")
        .bind(other)
        .bind(app.clock.now())
        .execute(&app.pool)
        .await
        .unwrap();
    [saas, managed, other]
}

#[tokio::test]
async fn staff_list_active_licenses_with_filters_and_export_them() {
    let app = spawn_app().await;
    let [saas, managed, other] = three_active_licenses(&app).await;
    let staff = staff(&app).await;

    let all = staff.get("/admin/licenses").await;
    assert!(all.body.contains("Licenses in their term (3)"));
    let saas_only = staff.get("/admin/licenses?product=saas").await;
    assert!(saas_only.body.contains("Licenses in their term (2)"));
    assert!(
        !saas_only
            .body
            .contains(&format!("/admin/licenses/{managed}\""))
    );
    let soon = staff.get("/admin/licenses?expiring=30").await;
    assert!(
        soon.body.contains("Licenses in their term (1)")
            && soon.body.contains(&format!("/admin/licenses/{other}\""))
    );
    let acme_only = staff.get("/admin/licenses?partner=acme").await;
    assert!(acme_only.body.contains("Licenses in their term (2)"));
    // Any case, as typed.
    let shouted = staff.get("/admin/licenses?partner=ACME%20c").await;
    assert!(shouted.body.contains("Licenses in their term (2)"));
    let bad = staff.get("/admin/licenses?expiring=soon").await;
    assert!(bad.body.contains("Enter a number of days from 0 to 3650."));

    let csv = staff.get("/admin/licenses.csv?product=saas").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "license_id,partner,product,users,purposes,license_key,issued_at,expires_at,days_left,status"
    );
    assert_eq!(lines.len(), 3);
    assert!(
        lines[1].starts_with(&format!("{other},\"Globex, Inc.\",SaaS,2,")),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with(&format!("{saas},Acme Corp,SaaS,5,")));
}

#[tokio::test]
async fn partners_cannot_reach_the_staff_pages() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = requested(&agent, "self_managed", 20).await;

    for path in [
        "/admin/licenses",
        "/admin/licenses.csv",
        &format!("/admin/licenses/{id}"),
    ] {
        assert_eq!(
            agent.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    agent.get("/licenses").await;
    let post = agent
        .post(&format!("/admin/licenses/{id}/approve"), &[])
        .await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    assert_eq!(license(&app, id).await.state, "pending");
}

#[tokio::test]
async fn the_staff_home_counts_waiting_requests() {
    let app = spawn_app().await;
    let (agent, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    requested(&agent, "self_managed", 20).await;

    let home = staff(&app).await.get("/admin").await;

    assert!(home.body.contains("href=\"/admin/licenses\""));
    assert!(home.body.contains("1 request is waiting for a decision."));
}

#[tokio::test]
async fn staff_order_active_licenses_and_the_export_keeps_the_order() {
    let app = spawn_app().await;
    let [saas, managed, other] = three_active_licenses(&app).await;
    let staff = staff(&app).await;
    let link = |id: i64| format!("/admin/licenses/{id}\"");
    let order = |body: &str| {
        let mut found: Vec<(usize, i64)> = [saas, managed, other]
            .into_iter()
            .map(|id| (body.find(&link(id)).expect("listed"), id))
            .collect();
        found.sort();
        found.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    };

    let default = staff.get("/admin/licenses").await.body;
    assert_eq!(
        order(&default),
        [other, saas, managed],
        "soonest expiry first"
    );
    let by_users = staff.get("/admin/licenses?sort=users").await.body;
    assert_eq!(order(&by_users), [managed, saas, other]);
    assert!(by_users.contains("value=\"users\" selected"));
    assert!(
        by_users.contains("/admin/licenses.csv?product=&#38;expiring=&#38;partner=&#38;sort=users")
    );
    let by_partner = staff.get("/admin/licenses?sort=partner").await.body;
    assert_eq!(order(&by_partner), [saas, managed, other]);
    let unknown = staff.get("/admin/licenses?sort=zzz").await.body;
    assert_eq!(order(&unknown), [other, saas, managed]);

    let csv = staff.get("/admin/licenses.csv?sort=users").await.body;
    let ids: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(
        ids,
        [managed.to_string(), saas.to_string(), other.to_string()]
    );
}
