//! The staff side: the list and its filters, triage, issues entered by
//! hand, scorecards, the resolution windows.

use chrono::Duration;
use partner_portal::accounts::staff::StaffRole;
use reqwest::StatusCode;

use super::support::*;
use crate::fixtures::approved_partner;

#[tokio::test]
async fn staff_assign_a_triaged_issue_and_the_partner_is_emailed() {
    let app = spawn().await;
    let (owner, acme) = approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let staff = app
        .staff_user("sam@alliance.test", StaffRole::Reviewer)
        .await;
    let id = deliver_and_apply(&app, &fixture("issue_open_unlabelled")).await;

    let queue = staff.get("/admin/issues/triage").await;
    assert!(queue.body.contains(&format!("href=\"/admin/issues/{id}\"")));
    let home = staff.get("/admin").await;
    assert!(
        home.body.contains("1 open · 0 overdue · 1 awaiting triage"),
        "{}",
        home.snippet()
    );

    staff.get(&format!("/admin/issues/{id}")).await;
    let refused = staff
        .post(
            &format!("/admin/issues/{id}/assign"),
            &[("partner", ""), ("severity", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Enter the partner&#39;s name or number.")
    );
    assert_eq!(issue_of(&app, 151244).await.partner_id, None);

    let before = app.clock.now();
    staff
        .post(
            &format!("/admin/issues/{id}/assign"),
            &[("partner", &acme.to_string()), ("severity", "1")],
        )
        .await
        .assert_redirect(&format!("/admin/issues/{id}"));

    let issue = issue_of(&app, 151244).await;
    assert_eq!(issue.partner_id, Some(acme));
    assert_eq!(issue.severity, Some(1));
    let start = issue.clock_started_at.unwrap();
    assert!(
        start >= before - Duration::seconds(1),
        "the staff action's time"
    );
    assert_eq!(issue.deadline_at, Some(start + Duration::days(7)));
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "issue_shared").await,
        1
    );
    let page = owner.get(&format!("/issues/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Severity 1 set by the alliance team"),
        "{}",
        page.snippet()
    );
    assert!(
        !page.body.contains("sam@alliance.test"),
        "no staff address shown to partners"
    );
    let audited = count(&app, "select count(*) from audit_log where action in ('issue.shared', 'issue.severity_set') and actor = 'sam@alliance.test'").await;
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn staff_change_severity_close_and_reopen() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let staff = app
        .staff_user("sam@alliance.test", StaffRole::Reviewer)
        .await;
    let id = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    let created = issue_of(&app, 151230).await.clock_started_at.unwrap();

    staff.get(&format!("/admin/issues/{id}")).await;
    let bad = staff
        .post(
            &format!("/admin/issues/{id}/severity"),
            &[("severity", "9")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    staff
        .post(
            &format!("/admin/issues/{id}/severity"),
            &[("severity", "4")],
        )
        .await
        .assert_redirect(&format!("/admin/issues/{id}"));
    assert_eq!(
        issue_of(&app, 151230).await.deadline_at,
        Some(created + Duration::days(60))
    );

    staff.get(&format!("/admin/issues/{id}")).await;
    staff
        .post(&format!("/admin/issues/{id}/close"), &[])
        .await
        .assert_redirect(&format!("/admin/issues/{id}"));
    let closed = issue_of(&app, 151230).await;
    assert_eq!(closed.state, "closed");
    staff.get(&format!("/admin/issues/{id}")).await;
    staff
        .post(&format!("/admin/issues/{id}/reopen"), &[])
        .await
        .assert_redirect(&format!("/admin/issues/{id}"));
    let reopened = issue_of(&app, 151230).await;
    assert_eq!(
        (reopened.state.as_str(), reopened.deadline_at),
        ("open", Some(created + Duration::days(60)))
    );
    let kinds: Vec<String> = history(&app, id)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(
        kinds.ends_with(&[
            "severity_changed".into(),
            "closed".into(),
            "reopened".into()
        ]),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn staff_name_the_partner_by_its_name_a_part_only_it_has_or_its_number() {
    let app = spawn().await;
    let (_, acme) = approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let (_, acme_cloud) = approved_partner(&app, "Acme Cloud", "bob@acmecloud.test").await;
    let (_, globex) = approved_partner(&app, "Globex", "gil@globex.test").await;
    // Applied but not approved: issues cannot go to it.
    let (_, initech) = crate::fixtures::organisation(&app, "Initech", "ian@initech.test").await;
    let staff = app
        .staff_user("sam@alliance.test", StaffRole::Reviewer)
        .await;
    staff.get("/admin/issues/new").await;
    let enter = |partner: String| {
        let staff = &staff;
        async move {
            staff
                .post(
                    "/admin/issues/new",
                    &[
                        ("title", "Scanner crashes on empty reports"),
                        ("partner", partner.as_str()),
                        ("severity", ""),
                    ],
                )
                .await
        }
    };

    let several = enter("acme".into()).await;
    assert_eq!(several.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        several.body.contains(&format!(
            "2 approved partners match \u{201c}acme\u{201d}: Acme Cloud (#{acme_cloud}), Acme Corp (#{acme}). Enter the whole name or the number."
        )),
        "{}",
        several.snippet()
    );
    assert!(
        several.body.contains("value=\"acme\""),
        "keeps what was typed"
    );
    for unknown in [
        "Initech".to_owned(),
        initech.to_string(),
        "Umbrella".to_owned(),
    ] {
        let refused = enter(unknown.clone()).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused.body.contains(&format!(
                "No approved partner is called or numbered \u{201c}{unknown}\u{201d}."
            )),
            "{}",
            refused.snippet()
        );
    }
    assert_eq!(count(&app, "select count(*) from issues").await, 0);

    // The whole name wins over names that contain it; a part only one has,
    // or the number, is enough.
    for (typed, partner) in [
        ("acme corp".to_owned(), acme),
        ("Cloud".to_owned(), acme_cloud),
        (format!("#{globex}"), globex),
    ] {
        let res = enter(typed).await;
        let id: i64 = count(&app, "select max(id) from issues").await;
        res.assert_redirect(&format!("/admin/issues/{id}"));
        assert_eq!(issue_of_id(&app, id).await.partner_id, Some(partner));
    }

    // The same field assigns a triaged issue.
    let id = deliver_and_apply(&app, &fixture("issue_open_unlabelled")).await;
    let page = staff.get(&format!("/admin/issues/{id}")).await;
    assert!(
        page.body
            .contains("Its name, a part of it only it has, or its number.")
    );
    staff
        .post(
            &format!("/admin/issues/{id}/assign"),
            &[("partner", "globex"), ("severity", "2")],
        )
        .await
        .assert_redirect(&format!("/admin/issues/{id}"));
    assert_eq!(issue_of_id(&app, id).await.partner_id, Some(globex));
}

#[tokio::test]
async fn staff_enter_an_issue_by_hand() {
    let app = spawn().await;
    let (_owner, acme) = approved_partner(&app, "Acme Corp", "ada@acme.test").await;
    let staff = app
        .staff_user("sam@alliance.test", StaffRole::Reviewer)
        .await;
    staff.get("/admin/issues/new").await;

    let refused = staff
        .post(
            "/admin/issues/new",
            &[
                ("title", ""),
                ("url", "not a link"),
                ("partner", ""),
                ("severity", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("Enter the issue&#39;s title.")
            || refused.body.contains("Enter the issue's title.")
    );
    assert!(
        refused.body.contains("value=\"not a link\""),
        "keeps what was typed"
    );
    assert_eq!(count(&app, "select count(*) from issues").await, 0);

    let res = staff
        .post(
            "/admin/issues/new",
            &[
                ("title", "Scanner crashes on empty reports"),
                ("description", "Reported by email."),
                ("url", ""),
                ("project_path", "acme-corp/scanner"),
                ("partner", &acme.to_string()),
                ("severity", "3"),
            ],
        )
        .await;
    let id: i64 = count(&app, "select id from issues").await;
    res.assert_redirect(&format!("/admin/issues/{id}"));
    let issue = issue_of_id(&app, id).await;
    assert_eq!((issue.partner_id, issue.severity), (Some(acme), Some(3)));
    let (deadline, start) = (issue.deadline_at, issue.clock_started_at);
    assert_eq!(deadline, start.map(|s| s + Duration::days(45)));
    assert_eq!(
        emails_of_kind(&app, "ada@acme.test", "issue_shared").await,
        1
    );
}

#[tokio::test]
async fn the_staff_list_filters_by_partner_severity_state_and_overdue() {
    let app = spawn().await;
    let (_a, acme) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    partner_with_namespace(&app, "Other Co", "oz@other.test", "other-co").await;
    let staff = app
        .staff_user("sam@alliance.test", StaffRole::Reviewer)
        .await;
    let now = whole_seconds(app.clock.now());
    let acme_overdue = issue_id(
        created_at(fixture("issue_open_labelled"), now - Duration::days(40)),
        1,
        1,
    );
    let acme_s1 = labels(
        issue_id(created_at(fixture("issue_open_labelled"), now), 2, 2),
        &["severity::1"],
    );
    let other = in_project(
        issue_id(created_at(fixture("issue_open_labelled"), now), 3, 3),
        "https://gitlab.com",
        "other-co/x",
    );
    let mut ids = Vec::new();
    for body in [acme_overdue, acme_s1, other] {
        ids.push(deliver_and_apply(&app, &body).await);
    }
    let closed_id = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    deliver_and_apply(&app, &fixture("issue_close")).await;
    let shows = |body: &str, id: i64| body.contains(&format!("href=\"/admin/issues/{id}\""));

    let default = staff.get("/admin/issues").await.body;
    assert!(
        shows(&default, ids[0]) && !shows(&default, closed_id),
        "open ones by default"
    );
    let all = staff.get("/admin/issues?state=all").await.body;
    assert!(shows(&all, ids[0]) && shows(&all, closed_id));

    let by_partner = staff
        .get(&format!("/admin/issues?partner={acme}"))
        .await
        .body;
    assert!(
        shows(&by_partner, ids[0]) && shows(&by_partner, ids[1]) && !shows(&by_partner, ids[2])
    );
    // The partner field also takes part of a company name, any case.
    let by_name = staff.get("/admin/issues?partner=acme+c").await.body;
    assert!(shows(&by_name, ids[0]) && shows(&by_name, ids[1]) && !shows(&by_name, ids[2]));
    assert!(
        by_name.contains("value=\"acme c\""),
        "the field keeps what was typed"
    );
    let shouted = staff.get("/admin/issues?partner=ACME+C").await.body;
    assert!(
        shows(&shouted, ids[0]) && !shows(&shouted, ids[2]),
        "any case in what is typed, too"
    );
    let wildcard = staff.get("/admin/issues?partner=%25").await.body;
    assert!(
        !shows(&wildcard, ids[0]),
        "a % is a character, not a wildcard"
    );
    let by_severity = staff.get("/admin/issues?severity=1").await.body;
    assert!(
        !shows(&by_severity, ids[0]) && shows(&by_severity, ids[1]) && !shows(&by_severity, ids[2])
    );
    let overdue = staff.get("/admin/issues?overdue=on").await.body;
    assert!(shows(&overdue, ids[0]) && !shows(&overdue, ids[1]) && !shows(&overdue, ids[2]));
    assert!(overdue.contains("Overdue"));
    let closed = staff.get("/admin/issues?state=closed").await.body;
    assert!(!shows(&closed, ids[0]) && !shows(&closed, ids[1]) && shows(&closed, closed_id));
    let nonsense = staff
        .get("/admin/issues?severity=9&partner=x&state=zzz")
        .await;
    assert_eq!(nonsense.status, StatusCode::OK);

    let scorecards = staff.get("/admin/issues/scorecards").await.body;
    assert!(scorecards.contains("Acme Corp") && scorecards.contains("Other Co"));
}

#[tokio::test]
async fn partners_cannot_reach_the_staff_pages() {
    let app = spawn().await;
    let (owner, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let id = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    for path in [
        "/admin/issues",
        "/admin/issues.csv",
        "/admin/issues/triage",
        "/admin/issues/scorecards",
        "/admin/settings/sla",
        &format!("/admin/issues/{id}"),
    ] {
        assert_eq!(
            owner.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let post = owner.post(&format!("/admin/issues/{id}/close"), &[]).await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    assert_eq!(issue_of(&app, 151230).await.state, "open");
}

#[tokio::test]
async fn only_staff_admins_change_the_resolution_windows() {
    let app = spawn().await;
    let reviewer = app
        .staff_user("rev@alliance.test", StaffRole::Reviewer)
        .await;
    let admin = app.staff_user("adm@alliance.test", StaffRole::Admin).await;

    let page = reviewer.get("/admin/settings/sla").await;
    assert!(page.body.contains("30 days"));
    let refused = reviewer
        .post(
            "/admin/settings/sla",
            &[("s1", "3"), ("s2", "14"), ("s3", "21"), ("s4", "90")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    admin.get("/admin/settings/sla").await;
    let bad = admin
        .post(
            "/admin/settings/sla",
            &[("s1", "0"), ("s2", "x"), ("s3", "21"), ("s4", "90")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("between 1 and 365"));
    assert_eq!(
        count(&app, "select s2_days::bigint from sla_settings").await,
        30
    );

    admin
        .post(
            "/admin/settings/sla",
            &[("s1", "3"), ("s2", "14"), ("s3", "21"), ("s4", "90")],
        )
        .await
        .assert_redirect("/admin/settings/sla");
    assert_eq!(
        count(&app, "select s2_days::bigint from sla_settings").await,
        14
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from audit_log where action = 'settings.sla_changed'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn the_issue_tables_enforce_row_level_security() {
    let app = spawn().await;
    let unforced: Vec<String> = sqlx::query_scalar(
        "select relname::text from pg_class
          where relname in ('issues', 'issue_events', 'issue_updates', 'issue_reminders', 'calendar_feeds')
            and not (relrowsecurity and relforcerowsecurity)",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(unforced.is_empty(), "{unforced:?}");
}

/// The positions of each needle in `body`, in the order they appear.
fn order_of(body: &str, needles: &[String]) -> Vec<String> {
    let mut found: Vec<(usize, String)> = needles
        .iter()
        .map(|n| {
            (
                body.find(n.as_str())
                    .unwrap_or_else(|| panic!("{n} missing")),
                n.clone(),
            )
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, n)| n).collect()
}

#[tokio::test]
async fn staff_order_the_issue_list_and_export_it_as_csv() {
    let app = spawn().await;
    partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let staff = app
        .staff_user("sam@alliance.test", StaffRole::Reviewer)
        .await;
    // An S2 ten days overdue, an S1 due in 7 days, an S2 due in 30 days.
    let links = three_open_issues(&app)
        .await
        .map(|id| format!("href=\"/admin/issues/{id}\""));
    let [overdue, s1, later] = [links[0].clone(), links[1].clone(), links[2].clone()];

    let default = staff.get("/admin/issues").await.body;
    assert_eq!(
        order_of(&default, &links),
        [overdue.clone(), s1.clone(), later.clone()],
        "soonest deadline first"
    );
    let by_severity = staff.get("/admin/issues?sort=severity").await.body;
    assert_eq!(
        order_of(&by_severity, &links),
        [s1.clone(), overdue.clone(), later.clone()]
    );
    assert!(by_severity.contains("value=\"severity\" selected"));
    let newest = staff.get("/admin/issues?sort=newest").await.body;
    assert_eq!(
        order_of(&newest, &links),
        [later.clone(), s1.clone(), overdue.clone()]
    );
    assert!(
        newest.contains("href=\"/admin/issues.csv?partner=&#38;severity=&#38;state=&#38;overdue=&#38;sort=newest\""),
        "the export keeps the order"
    );
    let unknown = staff.get("/admin/issues?sort=zzz").await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(order_of(&unknown.body, &links), [overdue, s1, later]);

    let csv = staff.get("/admin/issues.csv?sort=severity").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.headers["content-disposition"],
        "attachment; filename=\"issues.csv\""
    );
    assert_eq!(csv.headers["cache-control"], "no-store", "partner data");
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "id,reference,title,partner,severity,status,deadline_state,clock_started_at,deadline_at,resolved_at,first_response_at,created_at"
    );
    assert_eq!(lines.len(), 4);
    assert!(
        lines[1].contains(",Acme Corp,Severity 1,open,"),
        "{}",
        lines[1]
    );
    let filtered = staff.get("/admin/issues.csv?overdue=on").await.body;
    assert_eq!(filtered.lines().count(), 2, "the list's filters apply");
}
