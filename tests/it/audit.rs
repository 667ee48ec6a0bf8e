//! The audit log pages: partner admins see their organisation's entries
//! only; staff see and filter everything, page by page, and export it.

use chrono::{DateTime, Duration, TimeZone, Utc};
use partner_portal::accounts::staff::StaffRole;
use reqwest::StatusCode;

use crate::{
    agent::{Agent, Page},
    fixtures,
    helpers::{TestApp, spawn_app},
};

async fn invite(admin: &Agent, email: &str, role: &str) {
    admin.get("/team").await;
    admin
        .post("/team/invitations", &[("email", email), ("role", role)])
        .await
        .assert_redirect("/team");
}

struct Raw<'a> {
    at: DateTime<Utc>,
    actor: &'a str,
    actor_user_id: Option<i64>,
    partner_id: Option<i64>,
    action: &'a str,
    ip: Option<&'a str>,
}

/// An entry written straight into the log, for times and actors the pages
/// cannot produce.
async fn add(app: &TestApp, e: Raw<'_>) {
    sqlx::query(
        "insert into audit_log (occurred_at, actor, actor_user_id, partner_id, action, ip)
         values ($1, $2, $3, $4, $5, $6::inet)",
    )
    .bind(e.at)
    .bind(e.actor)
    .bind(e.actor_user_id)
    .bind(e.partner_id)
    .bind(e.action)
    .bind(e.ip)
    .execute(&app.pool)
    .await
    .unwrap();
}

fn raw(at: DateTime<Utc>, action: &str) -> Raw<'_> {
    Raw {
        at,
        actor: "scheduler",
        actor_user_id: None,
        partner_id: None,
        action,
        ip: None,
    }
}

fn code(action: &str) -> String {
    format!("<code class=\"muted small\">{action}</code>")
}

/// The link to the next (older) page, if any.
fn older_link(page: &Page) -> Option<String> {
    let end = page.body.find("\" rel=\"next\"")?;
    let start = page.body[..end].rfind("href=\"")? + 6;
    Some(
        page.body[start..end]
            .replace("&amp;", "&")
            .replace("&#38;", "&"),
    )
}

/// Acme (Ada, owner) and Globex (Gina, owner), each having invited someone.
async fn two_organisations(app: &TestApp) -> ((Agent, i64), (Agent, i64)) {
    let acme = fixtures::organisation(app, "Acme Corp", "ada@acme.test").await;
    invite(&acme.0, "bob@acme.test", "member").await;
    let globex = fixtures::organisation(app, "Globex", "gina@globex.test").await;
    invite(&globex.0, "gus@globex.test", "admin").await;
    (acme, globex)
}

#[tokio::test]
async fn a_partner_admin_sees_only_their_organisations_entries() {
    let app = spawn_app().await;
    let ((_, acme_id), (gina, _)) = two_organisations(&app).await;

    for path in [
        "/audit".to_owned(),
        "/audit?action=team.".to_owned(),
        // Partners cannot name another organisation.
        format!("/audit?partner={acme_id}"),
        "/audit?actor=ada".to_owned(),
    ] {
        let page = gina.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        for other in ["Acme", "ada@acme.test", "bob@acme.test"] {
            assert!(!page.body.contains(other), "{path} shows {other}");
        }
    }
    let page = gina.get("/audit").await;
    assert!(page.body.contains("Activity of Globex"));
    assert!(page.body.contains("Invitation sent") && page.body.contains("gus@globex.test"));
    assert!(page.body.contains("Organisation created"));
    // Entries of no organisation (sign-ins) are not the organisation's.
    assert!(!page.body.contains(&code("sign_in.succeeded")));
}

#[tokio::test]
async fn members_cannot_read_their_organisations_log() {
    let app = spawn_app().await;
    let (owner, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    invite(&owner, "carl@acme.test", "member").await;
    let link = app
        .emails_to("carl@acme.test")
        .await
        .pop()
        .unwrap()
        .link("/invitations/accept");
    let carl = app.partner_user("Carl", "carl@acme.test").await;
    carl.get(&link).await;
    carl.post(
        "/invitations/accept",
        &[("token", link.split_once("token=").unwrap().1)],
    )
    .await
    .assert_redirect("/dashboard");

    let res = carl.get("/audit").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(!res.body.contains("bob@") && !res.body.contains("Invitation sent"));
}

#[tokio::test]
async fn the_staff_log_is_not_found_for_partner_users() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    for path in ["/admin/audit", "/admin/audit.csv", "/admin/audit?partner=1"] {
        let res = ada.get(path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!res.body.contains("ada@acme.test,"), "{path}");
    }
    app.agent()
        .get("/admin/audit")
        .await
        .assert_redirect("/login?next=%2Fadmin%2Faudit");
    let staff = app
        .staff_user("rita@vendor.test", StaffRole::Reviewer)
        .await;
    let home = staff.get("/admin").await;
    assert!(home.body.contains("href=\"/admin/audit\""));
}

#[tokio::test]
async fn staff_see_everything_and_filter_by_action_organisation_actor_and_dates() {
    let app = spawn_app().await;
    let ((_, acme_id), _) = two_organisations(&app).await;
    let mallory = app.agent();
    mallory.get("/login").await;
    mallory
        .post(
            "/login",
            &[("email", "ada@acme.test"), ("password", "not the password")],
        )
        .await;
    add(
        &app,
        raw(
            Utc.with_ymd_and_hms(2020, 1, 15, 12, 0, 0).unwrap(),
            "test.january",
        ),
    )
    .await;
    add(
        &app,
        raw(
            Utc.with_ymd_and_hms(2020, 3, 15, 12, 0, 0).unwrap(),
            "test.march",
        ),
    )
    .await;
    let staff = app
        .staff_user("rita@vendor.test", StaffRole::Reviewer)
        .await;

    let all = staff.get("/admin/audit").await;
    assert_eq!(all.status, StatusCode::OK);
    for seen in [
        "Acme Corp",
        "Globex",
        "bob@acme.test",
        "gus@globex.test",
        "Sign-in failed",
        "Test january",
    ] {
        assert!(all.body.contains(seen), "{seen}");
    }

    let team = staff.get("/admin/audit?action=team.").await;
    assert!(team.body.contains(&code("team.invitation_sent")));
    assert!(
        !team.body.contains(&code("sign_in.failed"))
            && !team.body.contains(&code("organization.created"))
    );

    let globex = staff.get("/admin/audit?partner=glob").await;
    assert!(
        globex.body.contains("Showing the entries of Globex"),
        "{}",
        globex.snippet()
    );
    assert!(globex.body.contains("gus@globex.test") && !globex.body.contains("bob@acme.test"));
    let by_id = staff.get(&format!("/admin/audit?partner={acme_id}")).await;
    assert!(by_id.body.contains("bob@acme.test") && !by_id.body.contains("gus@globex.test"));
    let several = staff.get("/admin/audit?partner=o").await;
    assert!(several.body.contains("2 organisations match"));
    assert!(several.body.contains(&format!("partner={acme_id}")));
    let none = staff.get("/admin/audit?partner=Initech").await;
    assert!(none.body.contains("No organisation matches") && none.body.contains("aria-invalid"));

    let by_ada = staff.get("/admin/audit?actor=ADA@acme").await;
    assert!(by_ada.body.contains(&code("team.invitation_sent")));
    assert!(!by_ada.body.contains("gus@globex.test"));

    let january = staff
        .get("/admin/audit?from=2020-01-01&to=2020-01-31")
        .await;
    assert!(january.body.contains(&code("test.january")));
    assert!(
        !january.body.contains(&code("test.march"))
            && !january.body.contains(&code("team.invitation_sent"))
    );
    let bad = staff.get("/admin/audit?from=31%2F01%2F2020").await;
    assert!(
        bad.body.contains("Enter a date like 2027-03-12.") && bad.body.contains("aria-invalid")
    );
}

#[tokio::test]
async fn the_staff_log_pages_newest_first_50_at_a_time_missing_nothing() {
    let app = spawn_app().await;
    let base = app.clock.now() + Duration::days(1);
    // Pairs share a moment: the id breaks the tie.
    for n in 0..120 {
        let action = format!("test.entry_{n:03}");
        add(&app, raw(base + Duration::minutes(n / 2), &action)).await;
    }
    let staff = app
        .staff_user("rita@vendor.test", StaffRole::Reviewer)
        .await;

    let mut seen = Vec::new();
    let mut path = Some("/admin/audit?action=test.".to_owned());
    let mut pages = 0;
    while let Some(p) = path.filter(|_| pages < 5) {
        let page = staff.get(&p).await;
        assert_eq!(page.status, StatusCode::OK);
        let codes: Vec<String> = page
            .body
            .match_indices("test.entry_")
            .map(|(i, _)| page.body[i..i + 14].to_owned())
            .collect();
        assert!(codes.len() <= 50, "{} on a page: {p}", codes.len());
        seen.extend(codes);
        pages += 1;
        path = older_link(&page);
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..120)
        .rev()
        .map(|n| format!("test.entry_{n:03}"))
        .collect();
    assert_eq!(seen, expected, "newest first, each entry once");
}

#[tokio::test]
async fn the_csv_export_follows_the_filters_and_defuses_formulas() {
    let app = spawn_app().await;
    let ((_, acme_id), _) = two_organisations(&app).await;
    add(
        &app,
        Raw {
            actor: "=HYPERLINK(\"http://evil.test\")",
            partner_id: Some(acme_id),
            ..raw(app.clock.now(), "team.odd")
        },
    )
    .await;
    let staff = app
        .staff_user("rita@vendor.test", StaffRole::Reviewer)
        .await;
    let page = staff.get("/admin/audit?action=team.").await;
    assert!(page.body.contains("/admin/audit.csv?action=team."));

    let csv = staff.get("/admin/audit.csv?action=team.").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].starts_with("id,occurred_at,actor"));
    assert_eq!(lines.len(), 4, "{}", csv.body);
    assert!(
        lines.iter().skip(1).all(|l| l.contains(",team.")),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains("\"'=HYPERLINK(\"\"http://evil.test\"\")\"")
    );

    let acme = staff
        .get(&format!("/admin/audit.csv?partner={acme_id}"))
        .await;
    assert!(acme.body.contains("bob@acme.test") && !acme.body.contains("gus@globex.test"));
}

#[tokio::test]
async fn partners_see_staff_actions_as_the_alliance_team() {
    let app = spawn_app().await;
    let (ada, acme_id) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let staff = app
        .staff_user("rita@vendor.test", StaffRole::Reviewer)
        .await;
    let rita: i64 = sqlx::query_scalar("select id from users where email = 'rita@vendor.test'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    add(
        &app,
        Raw {
            actor: "rita@vendor.test",
            actor_user_id: Some(rita),
            partner_id: Some(acme_id),
            ip: Some("10.9.8.7"),
            ..raw(app.clock.now(), "application.approved")
        },
    )
    .await;

    let page = ada.get("/audit").await;
    assert!(page.body.contains("Application approved") && page.body.contains("Alliance team"));
    assert!(!page.body.contains("rita@vendor.test") && !page.body.contains("10.9.8.7"));
    let page = staff.get("/admin/audit").await;
    assert!(page.body.contains("rita@vendor.test") && page.body.contains("from 10.9.8.7"));
}

#[tokio::test]
async fn an_entry_shows_when_who_where_what_and_before_and_after() {
    let app = spawn_app().await;
    let (ada, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    invite(&ada, "bob@acme.test", "member").await;
    let id: i64 = sqlx::query_scalar("select id from partner_invitations")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    ada.get("/team").await;
    ada.post(&format!("/team/invitations/{id}/cancel"), &[])
        .await
        .assert_redirect("/team");
    let staff = app
        .staff_user("rita@vendor.test", StaffRole::Reviewer)
        .await;

    for page in [
        ada.get("/audit").await,
        staff.get("/admin/audit?action=team.").await,
    ] {
        let body = &page.body;
        assert!(body.contains("Invitation cancelled"));
        assert!(body.contains("<time datetime=\"") && body.contains(" UTC\">just now</time>"));
        assert!(body.contains("ada@acme.test") && body.contains("from 127.0.0.1"));
        assert!(body.contains(&format!("invitation #{id}")));
        assert!(
            body.contains("<strong>cancelled</strong>: false → true"),
            "{}",
            page.snippet()
        );
        assert!(
            body.contains("<details class=\"audit-data\">")
                && (body.contains("cancelled&#34;: true")
                    || body.contains("cancelled&quot;: true"))
        );
    }
}
