//! The partner's side: the list, an issue's page, updates, and isolation.

use chrono::Duration;
use reqwest::StatusCode;

use super::support::*;

#[tokio::test]
async fn done_means_a_new_s2_issue_shows_with_its_deadline_and_the_partner_is_emailed() {
    let app = spawn().await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let created = whole_seconds(app.clock.now() - Duration::hours(2));
    let body = created_at(fixture("issue_open_labelled"), created);

    let id = deliver_and_apply(&app, &body).await;

    let due = created + Duration::days(30);
    let list = owner.get("/issues").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(&format!("href=\"/issues/{id}\"")));
    assert!(
        list.body
            .contains("Runner registration fails behind an HTTP proxy")
    );
    assert!(list.body.contains("Severity 2"));
    assert!(
        list.body
            .contains(&due.format("%-d %B %Y, %H:%M UTC").to_string())
    );
    assert!(list.body.contains("29 days left"), "{}", list.snippet());
    assert!(list.body.contains("On track"));

    let email = app.last_email_to("ada@acme.test").await;
    assert!(
        email.subject.starts_with("New issue for Acme Corp"),
        "{}",
        email.subject
    );
    assert_eq!(email.link("/issues/"), format!("/issues/{id}"));
    assert!(email.text.contains("Severity 2"));
}

#[tokio::test]
async fn the_issue_page_shows_history_and_the_first_update_stops_the_response_clock() {
    let app = spawn().await;
    let (owner, partner) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let member = member_of(&app, partner, "Max Member", "max@acme.test").await;
    let id = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    assert_eq!(
        emails_of_kind(&app, "max@acme.test", "issue_shared").await,
        1,
        "members too"
    );

    let page = owner.get(&format!("/issues/{id}")).await;
    assert!(
        page.body.contains("Awaiting a first response"),
        "{}",
        page.snippet()
    );
    assert!(page.body.contains("Raised in the tracker"));
    assert!(
        page.body
            .contains("Shared with Acme Corp through its verified namespace acme-corp")
    );

    member.get(&format!("/issues/{id}")).await;
    member
        .post(
            &format!("/issues/{id}/updates"),
            &[("body", "Reproduced; fix in 2.4.1.")],
        )
        .await
        .assert_redirect(&format!("/issues/{id}"));
    owner.get(&format!("/issues/{id}")).await;
    owner
        .post(
            &format!("/issues/{id}/updates"),
            &[("body", "2.4.1 is out.")],
        )
        .await
        .assert_redirect(&format!("/issues/{id}"));

    let page = owner.get(&format!("/issues/{id}")).await;
    assert!(!page.body.contains("Awaiting a first response"));
    assert!(page.body.contains("Reproduced; fix in 2.4.1."));
    assert!(page.body.contains("Your update is posted."));
    let first: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select first_response_at from issues where id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(first.is_some());
    assert_eq!(
        count(
            &app,
            "select count(*) from issue_events where kind = 'first_response'"
        )
        .await,
        1
    );
    assert_eq!(count(&app, "select count(*) from issue_updates").await, 2);
}

#[tokio::test]
async fn an_empty_update_is_refused_next_to_the_field_and_nothing_is_stored() {
    let app = spawn().await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let id = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    owner.get(&format!("/issues/{id}")).await;

    let res = owner
        .post(&format!("/issues/{id}/updates"), &[("body", "   ")])
        .await;

    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("Write your update before posting it."));
    assert!(res.body.contains("id=\"body-error\""));
    assert_eq!(count(&app, "select count(*) from issue_updates").await, 0);
    assert_eq!(
        count(
            &app,
            "select count(*) from issues where first_response_at is not null"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn another_tenants_issue_is_not_found_everywhere() {
    let app = spawn().await;
    let (_acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let (other, _) = partner_with_namespace(&app, "Other Co", "oz@other.test", "other-co").await;
    let acme_issue = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    let triage = deliver_and_apply(
        &app,
        &in_project(
            issue_id(fixture("issue_open_labelled"), 5, 5),
            "https://gitlab.com",
            "nobody/x",
        ),
    )
    .await;

    other.get("/issues").await;
    for id in [acme_issue, triage, 999_999] {
        let page = other.get(&format!("/issues/{id}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "GET {id}");
        let post = other
            .post(&format!("/issues/{id}/updates"), &[("body", "hello")])
            .await;
        assert_eq!(post.status, StatusCode::NOT_FOUND, "POST {id}");
        let admin = other.get(&format!("/admin/issues/{id}")).await;
        assert_eq!(admin.status, StatusCode::NOT_FOUND, "admin {id}");
    }
    let list = other.get("/issues").await;
    assert!(!list.body.contains("Runner registration"));
    let dashboard = other.get("/dashboard").await;
    assert!(dashboard.body.contains("0 open"), "{}", dashboard.snippet());
    assert_eq!(count(&app, "select count(*) from issue_updates").await, 0);
}

#[tokio::test]
async fn the_dashboard_shows_the_scorecard() {
    let app = spawn().await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let now = whole_seconds(app.clock.now());
    // Met: resolved 15 days before its deadline.
    let met = issue_id(
        created_at(fixture("issue_open_labelled"), now - Duration::days(20)),
        1,
        1,
    );
    deliver_and_apply(&app, &met).await;
    let close = with(
        issue_id(
            created_at(fixture("issue_close"), now - Duration::days(20)),
            1,
            1,
        ),
        "/object_attributes/closed_at",
        gitlab_time(now - Duration::days(5)),
    );
    let close = with(
        close,
        "/object_attributes/updated_at",
        gitlab_time(now - Duration::days(5)),
    );
    deliver_and_apply(&app, &close).await;
    // Missed: still open 5 days past its deadline.
    let missed = issue_id(
        created_at(fixture("issue_open_labelled"), now - Duration::days(35)),
        2,
        2,
    );
    deliver_and_apply(&app, &missed).await;
    // On track.
    let fresh = issue_id(created_at(fixture("issue_open_labelled"), now), 3, 3);
    deliver_and_apply(&app, &fresh).await;

    let dashboard = owner.get("/dashboard").await;
    assert!(
        dashboard.body.contains("2 open · 1 overdue"),
        "{}",
        dashboard.snippet()
    );
    assert!(
        dashboard.body.contains("1 deadlines met, 1 missed (50 %)"),
        "{}",
        dashboard.snippet()
    );
    // The issue list shows the same scorecard, whether the page has lines
    // or not (page 9 has none).
    for path in ["/issues", "/issues?page=9"] {
        let list = owner.get(path).await;
        for tile in [
            r#"<p class="score-number">2</p><p>Open</p>"#,
            r#"<p class="score-number">1</p><p>Overdue</p>"#,
            r#"<p class="score-number">1 / 2</p><p>Deadlines met in the last 90 days (50 %)</p>"#,
        ] {
            assert!(
                list.body.contains(tile),
                "{path}: {tile}\n{}",
                list.snippet()
            );
        }
    }
    let list = owner.get("/issues?status=closed").await;
    assert!(list.body.contains("Met"));
    assert!(
        list.body.contains("Resolved 15 days early"),
        "{}",
        list.snippet()
    );
}

#[tokio::test]
async fn partners_order_their_issues() {
    let app = spawn().await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let ids = three_open_issues(&app).await;
    let order = |body: &str| {
        let mut found: Vec<(usize, i64)> = ids
            .iter()
            .map(|id| {
                (
                    body.find(&format!("href=\"/issues/{id}\""))
                        .expect("listed"),
                    *id,
                )
            })
            .collect();
        found.sort();
        found.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    };

    let default = owner.get("/issues").await.body;
    assert_eq!(
        order(&default),
        [ids[0], ids[1], ids[2]],
        "most urgent first"
    );
    let newest = owner.get("/issues?sort=newest").await.body;
    assert_eq!(order(&newest), [ids[2], ids[1], ids[0]]);
    assert!(newest.contains("value=\"newest\" selected"));
    assert!(newest.contains("href=\"/issues?status=open&amp;sort=newest\""));
    let by_severity = owner.get("/issues?sort=severity&status=open").await.body;
    assert_eq!(order(&by_severity), [ids[1], ids[0], ids[2]]);
    let unknown = owner.get("/issues?sort=zzz").await.body;
    assert_eq!(order(&unknown), [ids[0], ids[1], ids[2]]);

    // Closed issues come after the open ones, the latest resolved first.
    let now = app.clock.now();
    for (id, days_ago) in [(ids[0], 2), (ids[1], 1)] {
        sqlx::query("update issues set state = 'closed', resolved_at = $2 where id = $1")
            .bind(id)
            .bind(now - Duration::days(days_ago))
            .execute(&app.pool)
            .await
            .unwrap();
    }
    let default = owner.get("/issues").await.body;
    assert_eq!(order(&default), [ids[2], ids[1], ids[0]]);
}
