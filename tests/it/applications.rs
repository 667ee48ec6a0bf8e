//! The application through the pages: drafts, submission with the
//! agreement, every transition allowed and refused, staff decisions with
//! emailed reasons, the secure track, the agreement gate.

use partner_portal::accounts::staff::StaffRole;
use reqwest::StatusCode;

use crate::{
    agent::Agent,
    fixtures,
    helpers::{TestApp, spawn_app},
};

pub fn complete_form(company: &str) -> Vec<(&'static str, String)> {
    vec![
        ("company_name", company.to_owned()),
        ("website", "https://acme.example".to_owned()),
        ("country", "DE".to_owned()),
        ("partner_type", "technology".to_owned()),
        (
            "integration_description",
            "A dependency scanner that reports findings into merge requests.".to_owned(),
        ),
        ("stages", "verify".to_owned()),
        ("stages", "deploy".to_owned()),
        ("offerings", "saas".to_owned()),
        ("offerings", "self_managed".to_owned()),
        ("primary_contact_name", "Ada Lovelace".to_owned()),
        ("primary_contact_email", "ada@acme.example".to_owned()),
        ("technical_contact_name", "Linus".to_owned()),
        ("technical_contact_email", "linus@acme.example".to_owned()),
        ("agreement_accepted", "on".to_owned()),
    ]
}

pub async fn submit(agent: &Agent, fields: &[(&'static str, String)]) -> crate::agent::Page {
    agent.get("/application").await;
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    agent.post("/application/submit", &pairs).await
}

async fn state_of(app: &TestApp, partner_id: i64) -> String {
    sqlx::query_scalar("select state from applications where partner_id = $1")
        .bind(partner_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn application_id(app: &TestApp, partner_id: i64) -> i64 {
    sqlx::query_scalar("select id from applications where partner_id = $1")
        .bind(partner_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_draft_is_saved_and_a_submission_needs_every_answer_and_the_agreement() {
    let app = spawn_app().await;
    let (owner, partner_id) = fixtures::organisation(&app, "Acme Corp", "ada@acme.example").await;

    owner.get("/application").await;
    owner
        .post(
            "/application",
            &[
                ("company_name", "Acme Corp GmbH"),
                ("website", "acme.example"),
            ],
        )
        .await
        .assert_redirect("/application");
    let page = owner.get("/application").await;
    assert!(page.body.contains("Draft saved"));
    assert!(
        page.body.contains("value=\"https://acme.example\""),
        "normalised and kept"
    );

    let mut missing = complete_form("Acme Corp GmbH");
    missing.retain(|(k, _)| *k != "agreement_accepted" && *k != "country");
    let refused = submit(&owner, &missing).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("id=\"agreement_accepted-error\""));
    assert!(refused.body.contains("id=\"country-error\""));
    assert!(
        refused.body.contains("value=\"Ada Lovelace\""),
        "typed answers are kept"
    );
    assert_eq!(state_of(&app, partner_id).await, "draft");

    submit(&owner, &complete_form("Acme Corp GmbH"))
        .await
        .assert_redirect("/application");
    assert_eq!(state_of(&app, partner_id).await, "submitted");
    let acceptance: (String, Option<String>) = sqlx::query_as(
        "select v.version, host(a.ip) from agreement_acceptances a join agreement_versions v on v.id = a.version_id where a.partner_id = $1",
    )
    .bind(partner_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(acceptance.0, "2026-01");
    assert_eq!(
        acceptance.1.as_deref(),
        Some("127.0.0.1"),
        "the acceptance records the address"
    );
    assert!(
        owner
            .get("/application")
            .await
            .body
            .contains("Application submitted — we&#39;ll email you")
    );
    assert_eq!(
        app.last_email_to("ada@acme.example").await.subject,
        "Your partner application was submitted"
    );
}

#[tokio::test]
async fn a_member_cannot_change_or_submit_the_application() {
    let app = spawn_app().await;
    let (_owner, partner_id) = fixtures::organisation(&app, "Acme Corp", "ada@acme.example").await;
    let member = app.partner_user("Mo Member", "mo@acme.example").await;
    sqlx::query("insert into partner_members (partner_id, user_id, role) select $1, id, 'member' from users where email = 'mo@acme.example'")
        .bind(partner_id)
        .execute(&app.pool)
        .await
        .unwrap();

    let page = member.get("/application").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("action=\"/application/submit\""),
        "no form for members"
    );
    let res = submit(&member, &complete_form("Mallory Inc")).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(
        res.body
            .contains("Only your organisation&#39;s admins can do this.")
    );
    assert_eq!(state_of(&app, partner_id).await, "draft");
}

#[tokio::test]
async fn staff_request_changes_the_partner_resubmits_staff_approve_with_emailed_reasons() {
    let app = spawn_app().await;
    let (owner, partner_id) = fixtures::organisation(&app, "Acme Corp", "ada@acme.example").await;
    submit(&owner, &complete_form("Acme Corp"))
        .await
        .assert_redirect("/application");
    let id = application_id(&app, partner_id).await;
    let staff = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;

    let queue = staff.get("/admin/applications").await;
    assert!(
        queue
            .body
            .contains(&format!("href=\"/admin/applications/{id}\""))
    );
    staff.get(&format!("/admin/applications/{id}")).await;
    staff
        .post(
            &format!("/admin/applications/{id}/request-changes"),
            &[("reason", "Please describe the data the scanner sends.")],
        )
        .await
        .assert_redirect(&format!("/admin/applications/{id}"));
    assert_eq!(state_of(&app, partner_id).await, "changes_requested");
    let mail = app.last_email_to("ada@acme.example").await;
    assert_eq!(
        mail.subject,
        "Changes requested on your partner application"
    );
    assert!(
        mail.text
            .contains("Please describe the data the scanner sends.")
    );
    assert!(
        owner
            .get("/application")
            .await
            .body
            .contains("Please describe the data the scanner sends.")
    );

    let mut fixed = complete_form("Acme Corp");
    fixed[4].1 =
        "A dependency scanner; it sends package names and versions only, never source code.".into();
    submit(&owner, &fixed).await.assert_redirect("/application");
    staff.get(&format!("/admin/applications/{id}")).await;
    staff
        .post(
            &format!("/admin/applications/{id}/approve"),
            &[("reason", "Welcome aboard!")],
        )
        .await;
    assert_eq!(state_of(&app, partner_id).await, "approved");
    let mail = app.last_email_to("ada@acme.example").await;
    assert_eq!(mail.subject, "Your partner application is approved");
    assert!(mail.text.contains("Welcome aboard!"));
    let events: Vec<String> = sqlx::query_scalar(
        "select to_state from application_events where partner_id = $1 order by id",
    )
    .bind(partner_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        events,
        ["submitted", "changes_requested", "submitted", "approved"]
    );
}

#[tokio::test]
async fn transitions_that_do_not_fit_the_state_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let (owner, partner_id) = fixtures::organisation(&app, "Acme Corp", "ada@acme.example").await;
    let id = application_id(&app, partner_id).await;
    let staff = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;
    staff.get(&format!("/admin/applications/{id}")).await;

    // Approving a draft.
    let res = staff
        .post(
            &format!("/admin/applications/{id}/approve"),
            &[("reason", "Looks good to me")],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(
        res.body
            .contains("An application that is draft cannot be approved.")
    );
    assert_eq!(state_of(&app, partner_id).await, "draft");
    // Withdrawing a draft.
    owner.get("/application").await;
    assert_eq!(
        owner.post("/application/withdraw", &[]).await.status,
        StatusCode::CONFLICT
    );

    submit(&owner, &complete_form("Acme Corp")).await;
    // A decision without a reason.
    staff.get(&format!("/admin/applications/{id}")).await;
    assert_eq!(
        staff
            .post(
                &format!("/admin/applications/{id}/reject"),
                &[("reason", " ")]
            )
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(state_of(&app, partner_id).await, "submitted");
    // Submitting twice.
    assert_eq!(
        submit(&owner, &complete_form("Acme Corp")).await.status,
        StatusCode::CONFLICT
    );

    staff
        .post(
            &format!("/admin/applications/{id}/approve"),
            &[("reason", "Welcome aboard!")],
        )
        .await;
    // Re-submitting an approved application; approving twice; reinstating an approved partner.
    assert_eq!(
        submit(&owner, &complete_form("Acme Corp")).await.status,
        StatusCode::CONFLICT
    );
    staff.get(&format!("/admin/applications/{id}")).await;
    assert_eq!(
        staff
            .post(
                &format!("/admin/applications/{id}/approve"),
                &[("reason", "Again please")]
            )
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        staff
            .post(
                &format!("/admin/applications/{id}/reinstate"),
                &[("reason", "Not suspended")]
            )
            .await
            .status,
        StatusCode::CONFLICT
    );

    staff
        .post(
            &format!("/admin/applications/{id}/suspend"),
            &[("reason", "Licenses used in production")],
        )
        .await;
    assert_eq!(state_of(&app, partner_id).await, "suspended");
    assert_eq!(
        app.last_email_to("ada@acme.example").await.subject,
        "Your partnership is suspended"
    );
    staff.get(&format!("/admin/applications/{id}")).await;
    staff
        .post(
            &format!("/admin/applications/{id}/reinstate"),
            &[("reason", "Compliance confirmed")],
        )
        .await;
    assert_eq!(state_of(&app, partner_id).await, "approved");
}

#[tokio::test]
async fn a_withdrawn_application_can_be_changed_and_submitted_again() {
    let app = spawn_app().await;
    let (owner, partner_id) = fixtures::organisation(&app, "Acme Corp", "ada@acme.example").await;
    submit(&owner, &complete_form("Acme Corp")).await;
    owner.get("/application").await;
    owner
        .post("/application/withdraw", &[])
        .await
        .assert_redirect("/application");
    assert_eq!(state_of(&app, partner_id).await, "withdrawn");
    submit(&owner, &complete_form("Acme Corp AG"))
        .await
        .assert_redirect("/application");
    assert_eq!(state_of(&app, partner_id).await, "submitted");
}

#[tokio::test]
async fn only_the_owner_deletes_a_draft() {
    let app = spawn_app().await;
    let (owner, partner_id) = fixtures::organisation(&app, "Acme Corp", "ada@acme.example").await;
    let admin = app.partner_user("Al Admin", "al@acme.example").await;
    sqlx::query("insert into partner_members (partner_id, user_id, role) select $1, id, 'admin' from users where email = 'al@acme.example'")
        .bind(partner_id)
        .execute(&app.pool)
        .await
        .unwrap();
    admin.get("/application").await;
    assert_eq!(
        admin.post("/application/delete", &[]).await.status,
        StatusCode::FORBIDDEN
    );

    owner.get("/application").await;
    owner
        .post("/application/delete", &[])
        .await
        .assert_redirect("/application");
    let left: i64 = sqlx::query_scalar("select count(*) from applications")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert!(
        owner
            .get("/application")
            .await
            .body
            .contains("Start an application")
    );
}

#[tokio::test]
async fn a_secure_track_application_needs_the_checklist_ticked() {
    let app = spawn_app().await;
    let (owner, partner_id) = fixtures::organisation(&app, "Acme Corp", "ada@acme.example").await;
    let mut form = complete_form("Acme Corp");
    form.push(("stages", "secure".into()));
    submit(&owner, &form).await;
    assert!(
        owner
            .get("/application")
            .await
            .body
            .contains("Secure Partner Integration track")
    );
    let id = application_id(&app, partner_id).await;
    let staff = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;
    let detail = staff.get(&format!("/admin/applications/{id}")).await;
    assert!(detail.body.contains("Secure Partner Integration checklist"));

    let partial = staff
        .post(
            &format!("/admin/applications/{id}/approve"),
            &[("reason", "Welcome"), ("checklist", "public_apis")],
        )
        .await;
    assert_eq!(partial.status, StatusCode::CONFLICT);
    assert_eq!(state_of(&app, partner_id).await, "submitted");

    let all = [
        ("reason", "Welcome"),
        ("checklist", "findings_format"),
        ("checklist", "public_apis"),
        ("checklist", "disclosure_policy"),
        ("checklist", "data_handling"),
    ];
    staff
        .post(&format!("/admin/applications/{id}/approve"), &all)
        .await;
    assert_eq!(state_of(&app, partner_id).await, "approved");
    let secure: (bool, Vec<String>) =
        sqlx::query_as("select secure_track, secure_checklist from applications where id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(secure.0);
    assert_eq!(secure.1.len(), 4);
}

#[tokio::test]
async fn the_staff_queue_filters_searches_and_exports() {
    let app = spawn_app().await;
    for (company, email, stage, kind) in [
        ("Acme Corp", "a@acme.example", "verify", "technology"),
        ("Globex Cloud", "g@globex.example", "secure", "cloud"),
        (
            "Initech Platform",
            "i@initech.example",
            "deploy",
            "platform",
        ),
    ] {
        let (owner, _) = fixtures::organisation(&app, company, email).await;
        let mut form = complete_form(company);
        form[3].1 = kind.into();
        form.retain(|(k, _)| *k != "stages");
        form.push(("stages", stage.into()));
        submit(&owner, &form).await.assert_redirect("/application");
    }
    let staff = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;

    let all = staff.get("/admin/applications").await.body;
    assert!(
        all.contains("Acme Corp")
            && all.contains("Globex Cloud")
            && all.contains("Initech Platform")
    );
    assert!(
        all.find("Acme Corp").unwrap() < all.find("Initech Platform").unwrap(),
        "oldest first"
    );
    let cloud = staff.get("/admin/applications?type=cloud").await.body;
    assert!(cloud.contains("Globex Cloud") && !cloud.contains("Acme Corp"));
    let secure = staff.get("/admin/applications?secure=yes").await.body;
    assert!(secure.contains("Globex Cloud") && !secure.contains("Initech Platform"));
    let stage = staff.get("/admin/applications?stage=deploy").await.body;
    assert!(stage.contains("Initech Platform") && !stage.contains("Globex Cloud"));
    let search = staff.get("/admin/applications?q=init").await.body;
    assert!(search.contains("Initech Platform") && !search.contains("Acme Corp"));
    let csv = staff.get("/admin/applications.csv?type=cloud").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with("id,company,partner_type,state"));
    assert_eq!(csv.body.lines().count(), 2);

    // Over the 5-business-day target after a week.
    app.clock.advance(chrono::Duration::days(8));
    let next_week = app.staff_user("sam@portal.test", StaffRole::Reviewer).await;
    assert!(
        next_week
            .get("/admin/applications")
            .await
            .body
            .contains("Over target")
    );
}

#[tokio::test]
async fn after_a_new_agreement_version_approved_partners_must_accept_it_again() {
    let app = spawn_app().await;
    let (owner, partner_id) =
        fixtures::approved_partner(&app, "Acme Corp", "ada@acme.example").await;
    let admin = app.staff_user("grace@portal.test", StaffRole::Admin).await;
    admin.get("/admin/agreements").await;
    let body = "Technology Partner Agreement, version 2027-01.\n\n".to_owned()
        + &"The partner maintains its components. ".repeat(10);
    admin
        .post(
            "/admin/agreements",
            &[("version", "2027-01"), ("body", &body)],
        )
        .await
        .assert_redirect("/admin/agreements");

    let mail = app.last_email_to("ada@acme.example").await;
    assert_eq!(
        mail.subject,
        "A new Technology Partner Agreement needs your acceptance"
    );
    let dashboard = owner.get("/dashboard").await.body;
    assert!(dashboard.contains("A new Technology Partner Agreement was published."));
    {
        let mut tx = partner_portal::organizations::begin_tenant(&app.pool, partner_id)
            .await
            .unwrap();
        let standing = partner_portal::organizations::Standing::load(&mut tx, partner_id)
            .await
            .unwrap();
        assert_eq!(
            standing.gate(),
            Err(partner_portal::organizations::GateProblem::AgreementOutdated)
        );
    }

    owner.get("/agreement").await;
    let refused = owner.post("/agreement", &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    owner
        .post("/agreement", &[("agreement_accepted", "on")])
        .await
        .assert_redirect("/dashboard");
    let mut tx = partner_portal::organizations::begin_tenant(&app.pool, partner_id)
        .await
        .unwrap();
    let standing = partner_portal::organizations::Standing::load(&mut tx, partner_id)
        .await
        .unwrap();
    assert_eq!(standing.gate(), Ok(()));
    assert_eq!(standing.agreement_version, "2027-01");
}

#[tokio::test]
async fn a_reviewer_cannot_publish_an_agreement() {
    let app = spawn_app().await;
    let reviewer = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;
    reviewer.get("/admin/agreements").await;
    let body = "x".repeat(300);
    let res = reviewer
        .post(
            "/admin/agreements",
            &[("version", "2027-01"), ("body", &body)],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let versions: i64 = sqlx::query_scalar("select count(*) from agreement_versions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(versions, 1);
}

#[tokio::test]
async fn the_dashboard_shows_the_four_onboarding_steps() {
    let app = spawn_app().await;
    let newcomer = app.partner_user("Nia", "nia@example.com").await;
    assert!(
        newcomer
            .get("/dashboard")
            .await
            .body
            .contains("Create your organisation")
    );
    let (owner, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.example").await;
    let page = owner.get("/dashboard").await.body;
    for step in [
        "Registration",
        "Solution development",
        "Documentation and demonstration",
        "Promotion",
    ] {
        assert!(page.contains(step), "{step}");
    }
    assert!(page.contains("0 of 4 steps done"));
    assert!(page.contains("href=\"/application\""));
}

#[tokio::test]
async fn suspending_a_partner_revokes_its_namespaces_and_reinstating_restores_them() {
    let app = spawn_app().await;
    let (_owner, partner_id) =
        fixtures::approved_partner(&app, "Acme Corp", "ada@acme.example").await;
    sqlx::query(
        "insert into namespaces (partner_id, url, host, path, state, created_at, verified_at)
         values ($1, 'https://gitlab.com/acme-corp', 'gitlab.com', 'acme-corp', 'verified', now(), now())",
    )
    .bind(partner_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let id = application_id(&app, partner_id).await;
    let staff = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;
    let feed_has_acme = |body: String| body.contains("acme-corp");

    staff.get(&format!("/admin/applications/{id}")).await;
    staff
        .post(
            &format!("/admin/applications/{id}/suspend"),
            &[("reason", "Licenses used in production")],
        )
        .await;
    let state: String = sqlx::query_scalar("select state from namespaces where partner_id = $1")
        .bind(partner_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(state, "revoked");
    app.state.directory.invalidate();
    assert!(!feed_has_acme(
        app.get("/api/v1/verified-namespaces")
            .await
            .text()
            .await
            .unwrap()
    ));

    staff.get(&format!("/admin/applications/{id}")).await;
    staff
        .post(
            &format!("/admin/applications/{id}/reinstate"),
            &[("reason", "Compliance confirmed")],
        )
        .await;
    let state: String = sqlx::query_scalar("select state from namespaces where partner_id = $1")
        .bind(partner_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(state, "verified");
    app.state.directory.invalidate();
    assert!(feed_has_acme(
        app.get("/api/v1/verified-namespaces")
            .await
            .text()
            .await
            .unwrap()
    ));
}
