//! An issue belongs to the partner whose verified namespace is its project's
//! root, on the same host; otherwise it waits for staff triage.

use super::support::*;
use crate::fixtures::approved_partner;

#[tokio::test]
async fn a_project_under_a_verified_namespace_goes_to_its_partner() {
    let app = spawn().await;
    let (_acme, acme) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let (_x, x) = partner_with_namespace(&app, "Acme Corp X", "bo@x.test", "acme-corpx").await;

    let nested = in_project(
        issue_id(fixture("issue_open_labelled"), 1, 1),
        "https://gitlab.com",
        "Acme-Corp/deep/nested/runner",
    );
    let lookalike = in_project(
        issue_id(fixture("issue_open_labelled"), 2, 1),
        "https://gitlab.com",
        "acme-corpx/tools",
    );
    deliver_and_apply(&app, &nested).await;
    deliver_and_apply(&app, &lookalike).await;

    assert_eq!(issue_of(&app, 1).await.partner_id, Some(acme));
    assert_eq!(issue_of(&app, 2).await.partner_id, Some(x));
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "issue_shared").await,
        1
    );
    assert_eq!(emails_of_kind(&app, "bo@x.test", "issue_shared").await, 1);
}

#[tokio::test]
async fn a_path_that_merely_starts_with_the_namespace_is_not_under_it() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let lookalike = in_project(
        fixture("issue_open_labelled"),
        "https://gitlab.com",
        "acme-corpx/tools",
    );

    deliver_and_apply(&app, &lookalike).await;

    let issue = issue_of(&app, 151230).await;
    assert_eq!(issue.partner_id, None, "waits in the triage queue");
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "issue_shared").await,
        0
    );
    // The clock runs (it has a severity) but nobody is reminded yet.
    assert!(issue.deadline_at.is_some());
    assert_eq!(
        count(
            &app,
            "select count(*) from issues where next_reminder_at is not null"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn only_verified_namespaces_of_approved_partners_on_the_same_host_route() {
    let app = spawn().await;
    let (_a, acme) = approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    // Verified on another host.
    verified_namespace(&app, acme, "gitlab.example.com", "acme-corp").await;
    // Pending on gitlab.com.
    sqlx::query(
        "insert into namespaces (partner_id, url, host, path, state, created_at)
         values ($1, 'https://gitlab.com/acme-pending', 'gitlab.com', 'acme-pending', 'pending', now())",
    )
    .bind(acme)
    .execute(&app.pool)
    .await
    .unwrap();
    // Verified, but the partnership is suspended.
    let (_s, suspended) = approved_partner(&app, "Suspended Co", "sue@sus.test").await;
    verified_namespace(&app, suspended, "gitlab.com", "suspended-co").await;
    sqlx::query("update applications set state = 'suspended' where partner_id = $1")
        .bind(suspended)
        .execute(&app.pool)
        .await
        .unwrap();

    for (n, (base, path)) in [
        ("https://gitlab.com", "acme-corp/runner"),
        ("https://gitlab.com", "acme-pending/runner"),
        ("https://gitlab.com", "suspended-co/runner"),
    ]
    .into_iter()
    .enumerate()
    {
        let body = in_project(
            issue_id(fixture("issue_open_labelled"), n as i64 + 1, 1),
            base,
            path,
        );
        deliver_and_apply(&app, &body).await;
        assert_eq!(
            issue_of(&app, n as i64 + 1).await.partner_id,
            None,
            "{path}"
        );
    }
    // The self-managed host does route.
    let body = in_project(
        issue_id(fixture("issue_open_labelled"), 9, 1),
        "https://gitlab.example.com",
        "acme-corp/runner",
    );
    deliver_and_apply(&app, &body).await;
    assert_eq!(issue_of(&app, 9).await.partner_id, Some(acme));
}

#[tokio::test]
async fn an_issue_waiting_for_triage_is_routed_once_its_namespace_is_verified() {
    let app = spawn().await;
    let (_a, acme) = approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    deliver_and_apply(&app, &fixture("issue_open_unlabelled")).await;
    assert_eq!(issue_of(&app, 151244).await.partner_id, None);

    verified_namespace(&app, acme, "gitlab.com", "acme-corp").await;
    deliver_and_apply(&app, &fixture("issue_update_label_added")).await;

    let issue = issue_of(&app, 151244).await;
    assert_eq!(issue.partner_id, Some(acme));
    // Its history moved with it.
    assert_eq!(
        count(
            &app,
            "select count(*) from issue_events where partner_id is null"
        )
        .await,
        0
    );
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "issue_shared").await,
        1
    );
}
