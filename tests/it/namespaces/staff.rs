//! The staff verification queue: evidence, verify, reject with a reason;
//! emailed and audited.

use partner_portal::accounts::staff::StaffRole;
use reqwest::StatusCode;

use super::{namespace_id, register, state_of};
use crate::{fixtures, helpers::spawn_app};

#[tokio::test]
async fn staff_verify_a_namespace_from_the_queue_with_its_evidence_and_the_partner_is_emailed() {
    let app = spawn_app().await;
    let (ada, partner_id) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    register(&ada, "https://gitlab.com/acme-corp")
        .await
        .assert_redirect("/namespaces");
    let id = namespace_id(&app, "https://gitlab.com/acme-corp").await;
    let staff = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;

    let home = staff.get("/admin").await;
    assert!(home.body.contains("href=\"/admin/namespaces\""));
    assert!(home.body.contains("1 waiting for verification."));
    let queue = staff.get("/admin/namespaces").await;
    assert!(
        queue
            .body
            .contains(&format!("href=\"/admin/namespaces/{id}\""))
    );
    assert!(queue.body.contains("Acme Corp"));

    let evidence = staff.get(&format!("/admin/namespaces/{id}")).await;
    assert_eq!(evidence.status, StatusCode::OK);
    assert!(
        evidence
            .body
            .contains("<a href=\"https://gitlab.com/acme-corp\""),
        "the URL is a link"
    );
    assert!(evidence.body.contains("Acme Corp"));
    assert!(evidence.body.contains("ada@acme.test"), "who registered it");
    assert!(
        evidence.body.contains("<time datetime="),
        "when it was registered"
    );

    staff
        .post(&format!("/admin/namespaces/{id}/verify"), &[("reason", "")])
        .await
        .assert_redirect(&format!("/admin/namespaces/{id}"));

    assert_eq!(state_of(&app, id).await, "verified");
    let email = app.last_email_to("ada@acme.test").await;
    assert_eq!(
        email.subject,
        "Namespace verified: https://gitlab.com/acme-corp"
    );
    assert_eq!(email.link("/namespaces"), format!("/namespaces/{id}"));
    let (action, actor): (String, String) = sqlx::query_as(
        "select action, actor from audit_log where subject_type = 'namespace' and subject_id = $1 order by id desc limit 1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (action.as_str(), actor.as_str()),
        ("namespace.verified", "rita@portal.test")
    );
    assert!(
        staff
            .get("/admin/namespaces")
            .await
            .body
            .contains("No namespace is waiting")
    );
    let _ = partner_id;
}

#[tokio::test]
async fn a_rejection_needs_a_reason_which_the_partner_receives() {
    let app = spawn_app().await;
    let (ada, partner_id) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    register(&ada, "https://gitlab.com/not-acme")
        .await
        .assert_redirect("/namespaces");
    let id = namespace_id(&app, "https://gitlab.com/not-acme").await;
    let staff = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;
    staff.get(&format!("/admin/namespaces/{id}")).await;

    let res = staff
        .post(
            &format!("/admin/namespaces/{id}/reject"),
            &[("reason", " ")],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.body.contains("Give a reason"));
    assert_eq!(state_of(&app, id).await, "pending");

    staff
        .post(
            &format!("/admin/namespaces/{id}/reject"),
            &[("reason", "The group's members are not Acme employees.")],
        )
        .await
        .assert_redirect(&format!("/admin/namespaces/{id}"));
    assert_eq!(state_of(&app, id).await, "rejected");
    let email = app.last_email_to("ada@acme.test").await;
    assert_eq!(
        email.subject,
        "Namespace not verified: https://gitlab.com/not-acme"
    );
    assert!(
        email
            .text
            .contains("The group's members are not Acme employees.")
    );
    let page = ada.get("/namespaces").await;
    assert!(page.body.contains("Rejected"));
    assert!(
        page.body
            .contains("The group&#39;s members are not Acme employees.")
    );
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'namespace.rejected' and partner_id = $1",
    )
    .bind(partner_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    let again = staff
        .post(&format!("/admin/namespaces/{id}/verify"), &[("reason", "")])
        .await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "a decided namespace is not decided again"
    );
    assert_eq!(state_of(&app, id).await, "rejected");
}

#[tokio::test]
async fn partners_and_visitors_do_not_find_the_staff_queue() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    register(&ada, "https://gitlab.com/acme-corp")
        .await
        .assert_redirect("/namespaces");
    let id = namespace_id(&app, "https://gitlab.com/acme-corp").await;
    for path in [
        "/admin/namespaces".to_owned(),
        format!("/admin/namespaces/{id}"),
    ] {
        assert_eq!(ada.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let res = ada
        .post(&format!("/admin/namespaces/{id}/verify"), &[("reason", "")])
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(state_of(&app, id).await, "pending");
}

/// The position of each needle in `body`, in the order they appear.
fn order_of<'a>(body: &str, needles: &[&'a str]) -> Vec<&'a str> {
    let mut found: Vec<(usize, &str)> = needles
        .iter()
        .map(|n| (body.find(n).unwrap_or_else(|| panic!("{n} missing")), *n))
        .collect();
    found.sort();
    found.into_iter().map(|(_, n)| n).collect()
}

#[tokio::test]
async fn staff_sort_the_namespace_queue_and_export_it_as_csv() {
    let app = spawn_app().await;
    let (zeta, _) = fixtures::approved_partner(&app, "Zeta Ltd", "zoe@zeta.test").await;
    register(&zeta, "https://gitlab.com/zeta")
        .await
        .assert_redirect("/namespaces");
    app.clock.advance(chrono::Duration::minutes(5));
    let (acme, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    register(&acme, "https://gitlab.com/acme-corp")
        .await
        .assert_redirect("/namespaces");
    let staff = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;
    let both = ["https://gitlab.com/zeta", "https://gitlab.com/acme-corp"];

    let queue = staff.get("/admin/namespaces").await;
    assert_eq!(order_of(&queue.body, &both), both, "oldest waiting first");
    assert!(queue.body.contains("2 namespaces waiting, oldest first."));
    for sort in ["newest", "partner"] {
        let sorted = staff.get(&format!("/admin/namespaces?sort={sort}")).await;
        assert_eq!(
            order_of(&sorted.body, &both),
            [both[1], both[0]],
            "sorted by {sort}"
        );
        assert!(sorted.body.contains(&format!("value=\"{sort}\" selected")));
        assert!(
            sorted.body.contains(&format!(
                "href=\"/admin/namespaces.csv?state=&#38;sort={sort}\""
            )),
            "the export keeps the order"
        );
    }

    let csv = staff.get("/admin/namespaces.csv?sort=partner").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "id,namespace,partner,state,registered_at");
    assert!(lines[1].contains(",https://gitlab.com/acme-corp,Acme Corp,pending,"));
    assert!(lines[2].contains(",https://gitlab.com/zeta,Zeta Ltd,pending,"));
    assert_eq!(lines.len(), 3);

    let partner = acme.get("/admin/namespaces.csv").await;
    assert_ne!(partner.status, StatusCode::OK, "staff only");
    assert!(!partner.body.contains("zeta"));
}
