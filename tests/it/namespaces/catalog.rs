//! The badge reaches the catalog (§4, §9): every change of a namespace's
//! badge becomes one durable GraphQL call to GitLab's
//! `verifiedNamespaceCreate`, shown to the partner and staff, compared
//! daily with what the catalog shows.

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use partner_portal::{accounts::staff::StaffRole, calls, namespaces::catalog};
use reqwest::StatusCode;

use crate::{
    agent::Agent,
    fixtures::approved_partner,
    gitlab::{ADMIN_TOKEN, Answer, GitLabDouble, Kind},
    helpers::{Spawn, TestApp, spawn_app_with},
};

const OWNER: &str = "ada@acme.test";

/// An app publishing badges to `double` (namespaces on its host, 127.0.0.1).
async fn spawn_with(double: &GitLabDouble, admin_token: bool) -> TestApp {
    let mut overrides = vec![
        ("PORTAL_GITLAB_URL", double.url.as_str()),
        ("PORTAL_NAMESPACE_HOSTS", "gitlab.com,127.0.0.1"),
    ];
    if admin_token {
        overrides.push(("PORTAL_GITLAB_ADMIN_TOKEN", ADMIN_TOKEN));
    }
    spawn_app_with(Spawn {
        overrides: &overrides,
        ..Spawn::default()
    })
    .await
}

/// A pending namespace `https://{host}/{path}` of the partner.
async fn pending(app: &TestApp, partner_id: i64, host: &str, path: &str) -> i64 {
    sqlx::query_scalar(
        "insert into namespaces (partner_id, url, host, path, state, created_at)
         values ($1, $2, $3, $4, 'pending', $5) returning id",
    )
    .bind(partner_id)
    .bind(format!("https://{host}/{path}"))
    .bind(host)
    .bind(path)
    .bind(app.clock.now())
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.pool).await.unwrap()
}

async fn staff(app: &TestApp) -> Agent {
    app.staff_user("sam@portal.test", StaffRole::Admin).await
}

async fn verify(staff: &Agent, id: i64) {
    staff.get(&format!("/admin/namespaces/{id}")).await;
    staff
        .post(&format!("/admin/namespaces/{id}/verify"), &[("reason", "")])
        .await
        .assert_redirect(&format!("/admin/namespaces/{id}"));
}

async fn revoke(staff: &Agent, id: i64) {
    staff.get(&format!("/admin/namespaces/{id}")).await;
    staff
        .post(
            &format!("/admin/namespaces/{id}/revoke"),
            &[("reason", "The group was sold to another company.")],
        )
        .await
        .assert_redirect(&format!("/admin/namespaces/{id}"));
}

/// Rounds of the GitLab worker until nothing is left to do now.
async fn drain(app: &TestApp) -> partner_portal::outbox::Report {
    let worker = calls::worker(&app.state);
    let mut total = partner_portal::outbox::Report::default();
    loop {
        let report = worker.deliver_once().await.unwrap();
        total.sent += report.sent;
        total.dead += report.dead;
        total.retrying += report.retrying;
        total.waiting += report.waiting;
        if report.claimed() == 0 {
            return total;
        }
    }
}

#[tokio::test]
async fn a_staff_verification_badges_the_namespace_in_the_catalog() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double, true).await;
    let (owner, partner) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = pending(&app, partner, "127.0.0.1", "acme-corp").await;
    let staff = staff(&app).await;

    verify(&staff, id).await;
    let page = owner.get(&format!("/namespaces/{id}")).await;
    assert!(
        page.body.contains("Waiting to be published"),
        "{}",
        page.snippet()
    );

    assert_eq!(drain(&app).await.sent, 1);
    assert_eq!(
        double.mutations(),
        [(
            "acme-corp".to_owned(),
            "GITLAB_PARTNER_MAINTAINED".to_owned()
        )]
    );
    let call = &double.received_at(reqwest::Method::POST, "/api/graphql")[0];
    assert_eq!(call.private_token.as_deref(), Some(ADMIN_TOKEN));
    assert_eq!(
        double.catalog_level("acme-corp").as_deref(),
        Some("GITLAB_PARTNER_MAINTAINED")
    );
    let page = owner.get(&format!("/namespaces/{id}")).await;
    assert!(
        page.body.contains("Badge published on"),
        "{}",
        page.snippet()
    );
    assert!(
        owner
            .get("/namespaces")
            .await
            .body
            .contains("Badge published on")
    );
    assert!(
        staff
            .get(&format!("/admin/namespaces/{id}"))
            .await
            .body
            .contains("Badge published on")
    );
    assert!(
        staff
            .get("/admin/catalog")
            .await
            .body
            .contains("The catalog agrees with the portal on every namespace.")
    );

    // Staff take the badge back: the catalog follows.
    revoke(&staff, id).await;
    assert_eq!(drain(&app).await.sent, 1);
    assert_eq!(
        double.catalog_level("acme-corp").as_deref(),
        Some("UNVERIFIED")
    );
    let page = owner.get(&format!("/namespaces/{id}")).await;
    assert!(page.body.contains("Badge removed from the catalog on"));
    assert!(page.body.contains("The group was sold to another company."));
    assert_eq!(
        app.last_email_to(OWNER).await.subject,
        "Namespace no longer verified: https://127.0.0.1/acme-corp"
    );
}

#[tokio::test]
async fn suspending_a_partner_unbadges_its_namespaces_and_reinstating_badges_them_again() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double, true).await;
    let (_, partner) = approved_partner(&app, "Acme Corp", OWNER).await;
    let staff = staff(&app).await;
    for path in ["acme-corp", "acme-labs", "acme-ci"] {
        let id = pending(&app, partner, "127.0.0.1", path).await;
        verify(&staff, id).await;
    }
    assert_eq!(drain(&app).await.sent, 3);
    let application: i64 = sqlx::query_scalar("select id from applications where partner_id = $1")
        .bind(partner)
        .fetch_one(&app.pool)
        .await
        .unwrap();

    staff
        .get(&format!("/admin/applications/{application}"))
        .await;
    staff
        .post(
            &format!("/admin/applications/{application}/suspend"),
            &[("reason", "Licenses used in production")],
        )
        .await;
    assert_eq!(drain(&app).await.sent, 3);
    let unbadged: Vec<_> = double.mutations()[3..].to_vec();
    assert_eq!(unbadged.len(), 3);
    assert!(unbadged.iter().all(|(_, level)| level == "UNVERIFIED"));
    for path in ["acme-corp", "acme-labs", "acme-ci"] {
        assert_eq!(double.catalog_level(path).as_deref(), Some("UNVERIFIED"));
    }

    staff
        .get(&format!("/admin/applications/{application}"))
        .await;
    staff
        .post(
            &format!("/admin/applications/{application}/reinstate"),
            &[("reason", "Compliance confirmed")],
        )
        .await;
    assert_eq!(drain(&app).await.sent, 3);
    for path in ["acme-corp", "acme-labs", "acme-ci"] {
        assert_eq!(
            double.catalog_level(path).as_deref(),
            Some("GITLAB_PARTNER_MAINTAINED")
        );
    }
    assert_eq!(double.mutations().len(), 9);
}

#[tokio::test]
async fn a_second_change_before_the_call_goes_out_sends_only_the_latest_wish() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double, true).await;
    let (_, partner) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = pending(&app, partner, "127.0.0.1", "acme-corp").await;
    let staff = staff(&app).await;
    verify(&staff, id).await;
    revoke(&staff, id).await;

    assert_eq!(drain(&app).await.sent, 1);
    assert_eq!(
        double.mutations(),
        [("acme-corp".to_owned(), "UNVERIFIED".to_owned())]
    );
    assert_eq!(
        double.catalog_level("acme-corp").as_deref(),
        Some("UNVERIFIED")
    );
}

#[tokio::test]
async fn graphql_errors_are_failures_with_their_text_and_staff_publish_again() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double, true).await;
    let (owner, partner) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = pending(&app, partner, "127.0.0.1", "acme-corp").await;
    let staff = staff(&app).await;
    double.script(
        Kind::GraphQl,
        [Answer::MutationErrors(
            "Cannot use gitlab_partner_maintained on a non-Gitlab.com instance.".into(),
        )],
    );
    verify(&staff, id).await;

    assert_eq!(drain(&app).await.dead, 1);
    assert_eq!(
        double.catalog_level("acme-corp"),
        None,
        "a 200 with errors is no success"
    );
    let failure = "Publishing failed: GitLab refused: Cannot use gitlab_partner_maintained on a non-Gitlab.com instance.";
    assert!(
        owner
            .get(&format!("/namespaces/{id}"))
            .await
            .body
            .contains(failure)
    );
    let list = staff.get("/admin/catalog").await;
    assert!(list.body.contains(failure), "{}", list.snippet());
    assert!(list.body.contains("https://127.0.0.1/acme-corp"));
    assert!(
        staff
            .get("/admin")
            .await
            .body
            .contains("1 namespace</strong> where")
    );

    staff
        .post(&format!("/admin/catalog/{id}/publish"), &[])
        .await
        .assert_redirect("/admin/catalog");
    assert_eq!(drain(&app).await.sent, 1);
    assert_eq!(
        double.catalog_level("acme-corp").as_deref(),
        Some("GITLAB_PARTNER_MAINTAINED")
    );
    assert!(
        staff
            .get("/admin/catalog")
            .await
            .body
            .contains("agrees with the portal on every namespace")
    );
}

#[tokio::test]
async fn a_top_level_graphql_error_is_a_failure_too() {
    let double = GitLabDouble::start().await;
    // The portal holds the service account's token where an administrator's
    // is needed: GitLab answers 200 with a permission error.
    let app = spawn_app_with(Spawn {
        overrides: &[
            ("PORTAL_GITLAB_URL", &double.url),
            ("PORTAL_NAMESPACE_HOSTS", "127.0.0.1"),
            ("PORTAL_GITLAB_ADMIN_TOKEN", crate::gitlab::API_TOKEN),
        ],
        ..Spawn::default()
    })
    .await;
    let (owner, partner) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = pending(&app, partner, "127.0.0.1", "acme-corp").await;
    verify(&staff(&app).await, id).await;
    assert_eq!(drain(&app).await.dead, 1);
    let page = owner.get(&format!("/namespaces/{id}")).await;
    assert!(
        page.body
            .contains("Publishing failed: GitLab refused: The resource that you are attempting to access does not exist"),
        "{}",
        page.snippet()
    );
}

#[tokio::test]
async fn a_namespace_on_another_instance_is_not_sent() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double, true).await;
    let (owner, partner) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = pending(&app, partner, "gitlab.com", "acme-corp").await;
    verify(&staff(&app).await, id).await;
    assert_eq!(drain(&app).await.claimed(), 0);
    assert!(double.mutations().is_empty());
    assert!(
        owner
            .get(&format!("/namespaces/{id}"))
            .await
            .body
            .contains("On another instance: not published")
    );
}

#[tokio::test]
async fn without_the_admin_token_nothing_is_published_and_the_pages_say_so() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double, false).await;
    let (owner, partner) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = pending(&app, partner, "127.0.0.1", "acme-corp").await;
    let staff = staff(&app).await;
    verify(&staff, id).await;
    assert_eq!(count(&app, "select count(*) from gitlab_calls").await, 0);
    assert!(
        owner
            .get(&format!("/namespaces/{id}"))
            .await
            .body
            .contains("Not published (no catalog token)")
    );
    assert!(staff.get("/admin").await.body.contains("no catalog token"));
    let refused = staff
        .post(&format!("/admin/catalog/{id}/publish"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_level_changed_by_hand_on_the_platform_shows_on_the_staff_page_the_next_day() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double, true).await;
    let (owner, partner) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = pending(&app, partner, "127.0.0.1", "acme-corp").await;
    let staff = staff(&app).await;
    verify(&staff, id).await;
    drain(&app).await;
    crate::namespaces::add_component(&owner, id, "acme-corp/ci/sast", "SAST scanner").await;
    double.add_catalog_resource("acme-corp/ci/sast");

    // Today's comparison: the catalog agrees.
    assert_eq!(
        catalog::compare(&app.state, app.clock.now()).await.unwrap(),
        1
    );
    assert!(staff.get("/admin/catalog").await.body.contains("agrees"));
    // Someone removes the badge by hand on the platform.
    double.set_catalog_level("acme-corp", "UNVERIFIED");
    // Not looked at again the same day.
    assert_eq!(
        catalog::compare(&app.state, app.clock.now() + Duration::hours(2))
            .await
            .unwrap(),
        0
    );
    app.clock.advance(Duration::days(1));
    assert_eq!(
        catalog::compare(&app.state, app.clock.now()).await.unwrap(),
        1
    );
    // A day later: signed in again.
    let staff = app
        .staff_user("rita@portal.test", StaffRole::Reviewer)
        .await;
    let list = staff.get("/admin/catalog").await;
    assert!(
        list.body.contains("https://127.0.0.1/acme-corp"),
        "{}",
        list.snippet()
    );
    assert!(list.body.contains("<code>UNVERIFIED</code>"));
    assert!(list.body.contains("<code>GITLAB_PARTNER_MAINTAINED</code>"));
    let page = staff.get(&format!("/admin/namespaces/{id}")).await;
    assert!(
        page.body
            .contains("The catalog shows UNVERIFIED, not what the portal told it.")
    );

    staff
        .post(&format!("/admin/catalog/{id}/publish"), &[])
        .await;
    drain(&app).await;
    assert_eq!(
        double.catalog_level("acme-corp").as_deref(),
        Some("GITLAB_PARTNER_MAINTAINED")
    );
}

#[tokio::test]
async fn without_a_readable_component_the_wish_is_told_again_daily() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double, true).await;
    let (_, partner) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = pending(&app, partner, "127.0.0.1", "acme-corp").await;
    verify(&staff(&app).await, id).await;
    drain(&app).await;
    double.set_catalog_level("acme-corp", "UNVERIFIED");
    app.clock.advance(Duration::days(1));
    catalog::compare(&app.state, app.clock.now()).await.unwrap();
    drain(&app).await;
    assert_eq!(double.mutations().len(), 2);
    assert_eq!(
        double.catalog_level("acme-corp").as_deref(),
        Some("GITLAB_PARTNER_MAINTAINED")
    );
}

#[tokio::test]
async fn two_instances_send_each_wish_once() {
    let double = GitLabDouble::start().await;
    let one = spawn_with(&double, true).await;
    let two = spawn_app_with(Spawn {
        db: Some(one.db.clone()),
        overrides: &[
            ("PORTAL_GITLAB_URL", &double.url),
            ("PORTAL_NAMESPACE_HOSTS", "gitlab.com,127.0.0.1"),
            ("PORTAL_GITLAB_ADMIN_TOKEN", ADMIN_TOKEN),
        ],
        ..Spawn::default()
    })
    .await;
    let (_, partner) = approved_partner(&one, "Acme Corp", OWNER).await;
    for n in 0..40 {
        pending(&one, partner, "127.0.0.1", &format!("acme-{n}")).await;
    }
    // Verified in one statement, through the instance's own connection (the
    // trigger sees the catalog host there).
    sqlx::query(
        "update namespaces set state = 'verified', verified_at = now() where partner_id = $1",
    )
    .bind(partner)
    .execute(&one.state.pool)
    .await
    .unwrap();
    let (a, b) = tokio::join!(drain(&one), drain(&two));
    assert_eq!(a.sent + b.sent, 40);
    let mut paths: Vec<String> = double.mutations().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths.len(), 40);
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 40, "each wish once");
}

#[tokio::test]
async fn a_burst_of_fifty_is_spread_within_the_platforms_rate_limit() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double, true).await;
    let (_, partner) = approved_partner(&app, "Acme Corp", OWNER).await;
    for n in 0..50 {
        pending(&app, partner, "127.0.0.1", &format!("acme-{n}")).await;
    }
    sqlx::query(
        "update namespaces set state = 'verified', verified_at = now() where partner_id = $1",
    )
    .bind(partner)
    .execute(&app.state.pool)
    .await
    .unwrap();
    double.limit_graphql(10);

    let started = Instant::now();
    let mut dead = 0;
    while (0..50).any(|n| double.catalog_level(&format!("acme-{n}")).is_none()) {
        assert!(started.elapsed() < StdDuration::from_secs(30), "never done");
        dead += drain(&app).await.dead;
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    assert_eq!(dead, 0, "a rate limit is waited out, never given up");
    assert_eq!(double.mutations().len(), 50, "no call repeated");
    let attempts: i64 = count(&app, "select max(attempts)::bigint from gitlab_calls").await;
    assert_eq!(attempts, 1, "waiting is no attempt");
}

#[tokio::test]
async fn staff_see_a_disagreement_in_a_browser() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double, true).await;
    let (_, partner) = approved_partner(&app, "Acme Corp", OWNER).await;
    let id = pending(&app, partner, "127.0.0.1", "acme-corp").await;
    verify(&staff(&app).await, id).await;
    double.script(Kind::GraphQl, [Answer::Status(403)]);
    drain(&app).await;

    let b = crate::browser::Browser::launch(&app.address).await;
    crate::listings::journey::sign_in_staff(&app, &b, "rita@portal.test", StaffRole::Reviewer)
        .await;
    b.goto("/admin").await;
    b.assert_text_contains("1 namespace where the catalog and the portal disagree")
        .await;
    b.goto("/admin/catalog").await;
    b.assert_text_contains("Publishing failed: GitLab answered 403 Forbidden")
        .await;
    b.screenshot("staff-catalog-disagreement").await;
    b.assert_accessible("catalog disagreements").await;
    b.click_button("Publish again https://127.0.0.1/acme-corp")
        .await;
    b.assert_text_contains("will be published to the catalog again shortly")
        .await;
    drain(&app).await;
    b.goto(&format!("/admin/namespaces/{id}")).await;
    b.assert_text_contains("Badge published on").await;
    b.screenshot("staff-namespace-badged").await;
    b.assert_accessible("a badged namespace").await;
}

#[tokio::test]
async fn a_namespace_proven_through_gitlab_is_badged_in_the_catalog_too() {
    let double = GitLabDouble::start().await;
    let app = spawn_with(&double, true).await;
    let (owner, _) = approved_partner(&app, "Acme Corp", OWNER).await;
    // The owner signed in with GitLab a moment ago, as an Owner of acme-corp.
    sqlx::query(
        "insert into gitlab_identities (user_id, gitlab_user_id, username, linked_at, owner_groups, groups_checked_at)
         select id, 9001, 'ada', $2, '{acme-corp}', $2 from users where email = $1",
    )
    .bind(OWNER)
    .bind(app.clock.now())
    .execute(&app.pool)
    .await
    .unwrap();
    crate::namespaces::register(&owner, "https://127.0.0.1/acme-corp")
        .await
        .assert_redirect("/namespaces");
    let page = owner.get("/namespaces").await;
    assert!(page.body.contains("Verified"), "{}", page.snippet());
    assert!(page.body.contains("Waiting to be published"));
    assert_eq!(drain(&app).await.sent, 1);
    assert_eq!(
        double.catalog_level("acme-corp").as_deref(),
        Some("GITLAB_PARTNER_MAINTAINED")
    );
}
