//! Proven ownership (§4): a partner admin whose linked GitLab identity owns
//! the top-level group gets the namespace verified at once; anyone else
//! waits for staff with the reason shown; a proof never takes a namespace
//! another partner holds; staff see the proof and can revoke.

use chrono::Duration;
use partner_portal::accounts::staff::StaffRole;
use reqwest::StatusCode;

use super::*;
use crate::{fixtures, namespaces::register};

const ACME: &str = "https://gitlab.com/acme-corp";

/// An approved partner whose owner Ada linked her GitLab account `who`.
async fn linked_partner(app: &TestApp, double: &GitLabDouble, who: &GitLabUser) -> (Agent, i64) {
    let (agent, partner_id) = fixtures::approved_partner(app, "Acme Corp", "ada@acme.test").await;
    double.sign_in_as(Some(who));
    via_gitlab(&agent, "/auth/gitlab?next=/namespaces")
        .await
        .assert_redirect("/namespaces");
    (agent, partner_id)
}

struct Row {
    state: String,
    proven_by: Option<String>,
    problem: Option<String>,
    decided_by: Option<i64>,
}

async fn namespace(app: &TestApp, url: &str) -> Row {
    let (state, proven_by, problem, decided_by) = sqlx::query_as(
        "select state, proven_by_username, proof_problem, decided_by from namespaces where url = $1 order by id desc limit 1",
    )
    .bind(url)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    Row {
        state,
        proven_by,
        problem,
        decided_by,
    }
}

#[tokio::test]
async fn an_owner_on_gitlab_registers_and_the_namespace_is_verified_at_once() {
    let (double, app) = setup().await;
    let (agent, partner_id) = linked_partner(&app, &double, &ada()).await;

    register(&agent, "https://gitlab.com/Acme-Corp")
        .await
        .assert_redirect("/namespaces");

    let row = namespace(&app, ACME).await;
    assert_eq!(row.state, "verified");
    assert_eq!(row.proven_by.as_deref(), Some("ada"));
    assert_eq!(row.decided_by, None, "no staff step");
    let page = agent.get("/namespaces").await;
    assert!(
        page.body
            .contains("is verified: @ada is an Owner of the group"),
        "flash"
    );
    assert!(
        page.body.contains("ownership proven by @ada on"),
        "{}",
        page.snippet()
    );
    let proven = audited(&app, "namespace.ownership_proven").await;
    assert_eq!(proven[0]["proven_by"]["username"], "ada");
    assert_eq!(proven[0]["proven_by"]["gitlab_user_id"], 4242);
    let actor: String = sqlx::query_scalar(
        "select actor from audit_log where action = 'namespace.ownership_proven' and partner_id = $1",
    )
    .bind(partner_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(actor, "ada@acme.test");
    let email = app.last_email_to("ada@acme.test").await;
    assert!(
        email.subject.contains("Namespace verified"),
        "{}",
        email.subject
    );
    assert!(email.text.contains("proven by @ada"));
    // The badge follows, as for a namespace staff verified.
    let feed = crate::namespaces::feed_urls(&app).await;
    assert_eq!(feed, [ACME]);

    // Staff see the proof, and can still take it back.
    let staff = app.staff_user("sam@portal.test", StaffRole::Reviewer).await;
    let id = crate::namespaces::namespace_id(&app, ACME).await;
    let review = staff.get(&format!("/admin/namespaces/{id}")).await;
    assert!(
        review
            .body
            .contains("Ownership proven by @ada (GitLab user 4242)"),
        "{}",
        review.snippet()
    );
    staff
        .post(
            &format!("/admin/namespaces/{id}/revoke"),
            &[("reason", "The group changed hands; we will check again.")],
        )
        .await
        .assert_redirect(&format!("/admin/namespaces/{id}"));
    assert_eq!(namespace(&app, ACME).await.state, "rejected");
    assert_eq!(
        audited(&app, "namespace.revoked").await[0]["reason"],
        "The group changed hands; we will check again."
    );
    assert!(
        app.last_email_to("ada@acme.test")
            .await
            .text
            .contains("The group changed hands")
    );
    assert!(crate::namespaces::feed_urls(&app).await.is_empty());
}

#[tokio::test]
async fn someone_who_is_not_an_owner_waits_for_staff_with_the_reason_shown() {
    let (double, app) = setup().await;
    let maintainer = GitLabUser::new(4242, "ada", "ada@acme.test").owning(&["ada-sandbox"]);
    let (agent, _) = linked_partner(&app, &double, &maintainer).await;

    register(&agent, ACME).await.assert_redirect("/namespaces");

    let row = namespace(&app, ACME).await;
    assert_eq!(row.state, "pending");
    assert_eq!(row.proven_by, None);
    assert_eq!(
        row.problem.as_deref(),
        Some("@ada is not an Owner of acme-corp on GitLab.")
    );
    let page = agent.get("/namespaces").await;
    assert!(
        page.body
            .contains("Not proven: @ada is not an Owner of acme-corp on GitLab."),
        "{}",
        page.snippet()
    );
    assert!(page.body.contains("Waiting for verification"));
    assert_eq!(
        audited(&app, "namespace.ownership_not_proven").await.len(),
        1
    );
    let staff = app.staff_user("sam@portal.test", StaffRole::Reviewer).await;
    let id = crate::namespaces::namespace_id(&app, ACME).await;
    let review = staff.get(&format!("/admin/namespaces/{id}")).await;
    assert!(
        review
            .body
            .contains("@ada is not an Owner of acme-corp on GitLab.")
    );
    // Staff verify by hand, as before.
    staff
        .post(&format!("/admin/namespaces/{id}/verify"), &[("reason", "")])
        .await
        .assert_redirect(&format!("/admin/namespaces/{id}"));
    assert_eq!(namespace(&app, ACME).await.state, "verified");
    assert_eq!(audited(&app, "namespace.verified").await.len(), 1);
}

#[tokio::test]
async fn linking_after_registering_proves_the_namespaces_waiting() {
    let (double, app) = setup().await;
    let (agent, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    register(&agent, ACME).await.assert_redirect("/namespaces");
    register(&agent, "https://gitlab.com/someone-else").await;
    assert_eq!(namespace(&app, ACME).await.state, "pending");
    double.sign_in_as(Some(&ada()));

    via_gitlab(&agent, "/auth/gitlab?next=/namespaces")
        .await
        .assert_redirect("/namespaces");

    assert_eq!(namespace(&app, ACME).await.state, "verified");
    let other = namespace(&app, "https://gitlab.com/someone-else").await;
    assert_eq!(other.state, "pending");
    assert_eq!(
        other.problem.as_deref(),
        Some("@ada is not an Owner of someone-else on GitLab.")
    );
    let page = agent.get("/namespaces").await;
    assert!(
        page.body.contains(
            "Ownership proven by @ada on GitLab: https://gitlab.com/acme-corp is verified."
        ),
        "{}",
        page.snippet()
    );
}

#[tokio::test]
async fn a_proof_never_takes_a_namespace_another_partner_holds() {
    let (double, app) = setup().await;
    let (first, first_id) =
        fixtures::approved_partner(&app, "First Corp", "first@first.test").await;
    register(&first, ACME).await.assert_redirect("/namespaces");
    // Ada of another partner owns the group on GitLab.
    let (agent, _) = fixtures::approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    double.sign_in_as(Some(&ada()));
    via_gitlab(&agent, "/auth/gitlab?next=/namespaces").await;

    let page = register(&agent, ACME).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("already registered by another partner"));
    let (state, partner_id, proven): (String, i64, Option<String>) = sqlx::query_as(
        "select state, partner_id, proven_by_username from namespaces where url = $1",
    )
    .bind(ACME)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (state.as_str(), partner_id, proven),
        ("pending", first_id, None)
    );
    // Signing in with GitLab again touches only Ada's own organisation.
    via_gitlab(&agent, "/auth/gitlab").await;
    assert_eq!(namespace(&app, ACME).await.state, "pending");
    assert_eq!(count(&app, "select count(*) from namespaces").await, 1);
}

#[tokio::test]
async fn what_gitlab_said_an_hour_ago_no_longer_proves_until_checked_again() {
    let (double, app) = setup().await;
    let (agent, _) = linked_partner(&app, &double, &ada()).await;
    // An hour and a bit of work later (the session kept alive meanwhile).
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(21));
        double.advance(21 * 60);
        agent.get("/namespaces").await;
    }

    register(&agent, ACME).await.assert_redirect("/namespaces");

    let row = namespace(&app, ACME).await;
    assert_eq!(row.state, "pending");
    assert!(row.problem.unwrap().contains("sign in with GitLab again"));
    via_gitlab(&agent, "/auth/gitlab?next=/namespaces")
        .await
        .assert_redirect("/namespaces");
    assert_eq!(namespace(&app, ACME).await.state, "verified");
    assert_eq!(audited(&app, "account.gitlab_refreshed").await.len(), 1);
}

#[tokio::test]
async fn a_member_who_is_not_an_admin_proves_nothing() {
    let (double, app) = setup().await;
    let (owner, partner_id) =
        fixtures::approved_partner(&app, "Acme Corp", "owner@acme.test").await;
    register(&owner, ACME).await;
    let member =
        crate::namespaces::member_of(&app, partner_id, "Ada Lovelace", "ada@acme.test").await;
    double.sign_in_as(Some(&ada()));

    via_gitlab(&member, "/auth/gitlab")
        .await
        .assert_redirect("/account");

    let row = namespace(&app, ACME).await;
    assert_eq!((row.state.as_str(), row.problem), ("pending", None));
}
