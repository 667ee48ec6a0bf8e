//! The staff review: approve publishes, reject explains; a change to a live
//! listing waits for review while the approved version stays public.

use partner_portal::namespaces::{on_partner_reinstated, on_partner_suspended};
use reqwest::StatusCode;

use super::{
    approve_latest, fields, latest_version, ready_partner, slug_of, staff, submit, tiny_png, with,
};
use crate::{
    helpers::spawn_app,
    namespaces::{add_component, eventually},
};

#[tokio::test]
async fn staff_approve_a_listing_and_it_appears_in_the_directory() {
    let app = spawn_app().await;
    let (ada, partner_id, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    submit(
        &ada,
        &fields("Acme Security"),
        &[("logo", "a.png", "image/png", tiny_png())],
    )
    .await
    .assert_redirect("/listing");
    let id = latest_version(&app, partner_id).await;
    let slug = slug_of(&app, partner_id).await;
    assert!(
        !app.get("/partners")
            .await
            .text()
            .await
            .unwrap()
            .contains("Acme Security"),
        "not before approval"
    );
    let staff = staff(&app).await;

    assert!(
        staff
            .get("/admin")
            .await
            .body
            .contains("1 waiting for review.")
    );
    let queue = staff.get("/admin/listings").await;
    assert!(
        queue
            .body
            .contains(&format!("href=\"/admin/listings/{id}\""))
    );
    let review = staff.get(&format!("/admin/listings/{id}")).await;
    assert!(review.body.contains("Acme Security"));
    assert!(
        review
            .body
            .contains(&format!("src=\"/admin/listings/{id}/logo\""))
    );
    assert_eq!(
        staff
            .get_bytes(&format!("/admin/listings/{id}/logo"))
            .await
            .2,
        tiny_png()
    );

    approve_latest(&app, &staff, partner_id).await;

    let directory = app.get("/partners").await.text().await.unwrap();
    assert!(directory.contains(&format!("href=\"/partners/{slug}\"")));
    assert!(directory.contains("Acme Security"));
    let email = app.last_email_to("ada@acme.test").await;
    assert_eq!(
        email.subject,
        "Acme Security is live in the partner directory"
    );
    assert_eq!(email.link("/partners"), format!("/partners/{slug}"));
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'listing.approved' and partner_id = $1",
    )
    .bind(partner_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    assert!(
        ada.get("/listing")
            .await
            .body
            .contains("Your listing is live in the directory")
    );
    let again = staff
        .post(&format!("/admin/listings/{id}/approve"), &[("reason", "")])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_rejection_needs_a_reason_which_the_partner_receives() {
    let app = spawn_app().await;
    let (ada, partner_id, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    submit(&ada, &fields("Acme!!!"), &[])
        .await
        .assert_redirect("/listing");
    let id = latest_version(&app, partner_id).await;
    let staff = staff(&app).await;
    staff.get(&format!("/admin/listings/{id}")).await;

    let res = staff
        .post(&format!("/admin/listings/{id}/reject"), &[("reason", "")])
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    staff
        .post(
            &format!("/admin/listings/{id}/reject"),
            &[(
                "reason",
                "Use your company's name, without exclamation marks.",
            )],
        )
        .await
        .assert_redirect(&format!("/admin/listings/{id}"));

    let state: String = sqlx::query_scalar("select state from listing_versions where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(state, "rejected");
    let email = app.last_email_to("ada@acme.test").await;
    assert!(email.subject.contains("was not approved"));
    assert!(
        email
            .text
            .contains("Use your company's name, without exclamation marks.")
    );
    let page = ada.get("/listing").await;
    assert!(page.body.contains("Your last submission was not approved"));
    assert!(
        page.body
            .contains("Use your company&#39;s name, without exclamation marks.")
    );
    assert!(
        page.body.contains("value=\"Acme!!!\""),
        "the form shows what was sent, to correct it"
    );
}

#[tokio::test]
async fn a_change_to_an_approved_listing_goes_back_to_review_while_the_approved_version_stays_public()
 {
    let app = spawn_app().await;
    let (ada, partner_id, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    let slug = slug_of(&app, partner_id).await;
    let staff = staff(&app).await;
    submit(&ada, &fields("Acme Security"), &[])
        .await
        .assert_redirect("/listing");
    approve_latest(&app, &staff, partner_id).await;

    let changed = with(
        fields("Acme Security"),
        "short_description",
        "Now with secret detection.",
    );
    submit(&ada, &changed, &[])
        .await
        .assert_redirect("/listing");
    let page = ada.get("/listing").await;
    assert!(page.body.contains(
        "Your changes were sent for review. Your approved listing stays in the directory"
    ));
    assert!(page.body.contains("Your listing is live in the directory"));

    let public = app
        .get(&format!("/partners/{slug}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        public.contains("Acme Security scans merge requests for vulnerabilities."),
        "the approved version stays"
    );
    assert!(!public.contains("Now with secret detection."));
    let id = latest_version(&app, partner_id).await;
    let review = staff.get(&format!("/admin/listings/{id}")).await;
    assert!(
        review
            .body
            .contains("It changes a listing already in the directory")
    );
    assert!(
        review
            .body
            .contains("Short description <span class=\"badge\">Changed</span>")
    );
    assert!(
        !review
            .body
            .contains("Website <span class=\"badge\">Changed</span>")
    );
    assert!(
        staff
            .get("/admin/listings")
            .await
            .body
            .contains("Change to a live listing")
    );

    staff
        .post(
            &format!("/admin/listings/{id}/reject"),
            &[("reason", "Secret detection is not released yet.")],
        )
        .await
        .assert_redirect(&format!("/admin/listings/{id}"));
    let public = app
        .get(&format!("/partners/{slug}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        public.contains("Acme Security scans merge requests for vulnerabilities."),
        "still the approved version"
    );
    assert!(
        app.last_email_to("ada@acme.test")
            .await
            .text
            .contains("Your previously approved listing stays in the directory unchanged.")
    );

    let changed = with(
        fields("Acme Security"),
        "short_description",
        "Scans pipelines, now faster.",
    );
    submit(&ada, &changed, &[])
        .await
        .assert_redirect("/listing");
    approve_latest(&app, &staff, partner_id).await;
    let public = app
        .get(&format!("/partners/{slug}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(public.contains("Scans pipelines, now faster."));
}

#[tokio::test]
async fn a_suspended_partner_leaves_the_directory_and_returns_on_reinstatement() {
    let app = spawn_app().await;
    let (ada, partner_id, ns) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    let slug = slug_of(&app, partner_id).await;
    add_component(&ada, ns, "acme-corp/sast", "SAST scanner")
        .await
        .assert_redirect(&format!("/namespaces/{ns}"));
    submit(&ada, &fields("Acme Security"), &[])
        .await
        .assert_redirect("/listing");
    approve_latest(&app, &staff(&app).await, partner_id).await;
    assert_eq!(
        app.get(&format!("/partners/{slug}")).await.status(),
        StatusCode::OK
    );

    let now = app.clock.now();
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("update applications set state = 'suspended' where partner_id = $1")
        .bind(partner_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    on_partner_suspended(&mut tx, partner_id, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    eventually("the suspended partner leaves the directory", || async {
        app.get(&format!("/partners/{slug}")).await.status() == StatusCode::NOT_FOUND
    })
    .await;
    assert!(
        !app.get("/partners")
            .await
            .text()
            .await
            .unwrap()
            .contains("Acme Security")
    );

    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("update applications set state = 'approved' where partner_id = $1")
        .bind(partner_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    on_partner_reinstated(&mut tx, partner_id, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    eventually(
        "the reinstated partner is back with its components",
        || async {
            let res = app.get(&format!("/partners/{slug}")).await;
            res.status() == StatusCode::OK && res.text().await.unwrap().contains("SAST scanner")
        },
    )
    .await;
}

#[tokio::test]
async fn the_dashboard_steps_follow_namespaces_components_and_the_listing() {
    let app = spawn_app().await;
    let (ada, partner_id, ns) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    let step = |body: &str, title: &str| -> String {
        let at = body
            .find(title)
            .unwrap_or_else(|| panic!("no step {title}"));
        let rest = &body[at..];
        let status_at = rest.find("class=\"status ").unwrap();
        let status = &rest[status_at..];
        status[status.find('>').unwrap() + 1..status.find("</span>").unwrap()].to_owned()
    };
    let page = ada.get("/dashboard").await.body;
    assert_eq!(step(&page, "Solution development"), "In progress");
    assert_eq!(
        step(&page, "Documentation and demonstration"),
        "Not started"
    );
    assert_eq!(step(&page, "Promotion"), "Not started");

    add_component(&ada, ns, "acme-corp/sast", "SAST")
        .await
        .assert_redirect(&format!("/namespaces/{ns}"));
    submit(&ada, &fields("Acme Security"), &[])
        .await
        .assert_redirect("/listing");
    let page = ada.get("/dashboard").await.body;
    assert_eq!(step(&page, "Solution development"), "Done");
    assert_eq!(step(&page, "Documentation and demonstration"), "Done");
    assert_eq!(step(&page, "Promotion"), "In progress");
    assert!(page.contains("Your listing is waiting for review"));

    approve_latest(&app, &staff(&app).await, partner_id).await;
    let page = ada.get("/dashboard").await.body;
    assert_eq!(step(&page, "Promotion"), "Done");
    assert!(page.contains("4 of 4 steps done"));
}

#[tokio::test]
async fn staff_sort_the_listing_queue_and_export_it_as_csv() {
    let app = spawn_app().await;
    let (zeta, _, _) =
        ready_partner(&app, "Zeta Ltd", "zoe@zeta.test", "https://gitlab.com/zeta").await;
    submit(&zeta, &fields("Zeta Scanner"), &[])
        .await
        .assert_redirect("/listing");
    app.clock.advance(chrono::Duration::minutes(5));
    let (acme, _, _) = ready_partner(
        &app,
        "Acme Corp",
        "ada@acme.test",
        "https://gitlab.com/acme-corp",
    )
    .await;
    submit(&acme, &fields("Acme Security"), &[])
        .await
        .assert_redirect("/listing");
    let staff = staff(&app).await;
    let position = |body: &str, needle: &str| body.find(needle).expect(needle);

    let queue = staff.get("/admin/listings").await;
    assert!(
        position(&queue.body, "Zeta Scanner") < position(&queue.body, "Acme Security"),
        "oldest waiting first"
    );
    for sort in ["newest", "partner"] {
        let sorted = staff.get(&format!("/admin/listings?sort={sort}")).await;
        assert!(
            position(&sorted.body, "Acme Security") < position(&sorted.body, "Zeta Scanner"),
            "sorted by {sort}"
        );
        assert!(
            sorted.body.contains(&format!(
                "href=\"/admin/listings.csv?state=&#38;sort={sort}\""
            )),
            "the export keeps the order"
        );
    }

    let csv = staff.get("/admin/listings.csv?sort=partner").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "id,listing,partner,state,change_to_live_listing,submitted_at"
    );
    assert!(lines[1].contains(",Acme Security,Acme Corp,submitted,false,"));
    assert!(lines[2].contains(",Zeta Scanner,Zeta Ltd,submitted,false,"));
    assert_eq!(lines.len(), 3);
    assert_eq!(csv.headers["cache-control"], "no-store", "partner data");

    let partner = acme.get("/admin/listings.csv").await;
    assert_ne!(partner.status, StatusCode::OK, "staff only");
    assert!(!partner.body.contains("Zeta"));
}
