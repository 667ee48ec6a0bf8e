//! The calendar feed: a secret, revocable address per organisation, whose
//! feed parses and holds only that organisation's deadlines.

use reqwest::StatusCode;

use super::support::*;

/// Makes the organisation's address through the page; returns its path.
async fn make_address(agent: &crate::agent::Agent) -> String {
    agent.get("/issues/calendar").await;
    agent
        .post("/issues/calendar", &[])
        .await
        .assert_redirect("/issues/calendar");
    let page = agent.get("/issues/calendar").await;
    let at = page
        .body
        .find("/calendar/")
        .expect("the address is shown once");
    let rest = &page.body[at..];
    rest[..rest.find(".ics").unwrap() + 4].to_owned()
}

#[tokio::test]
async fn the_feed_parses_and_holds_only_the_organisations_deadlines() {
    let app = spawn().await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let (other, _) = partner_with_namespace(&app, "Other Co", "oz@other.test", "other-co").await;
    let mine = deliver_and_apply(&app, &fixture("issue_open_labelled")).await;
    let theirs = deliver_and_apply(
        &app,
        &in_project(
            issue_id(fixture("issue_open_labelled"), 7, 7),
            "https://gitlab.com",
            "other-co/x",
        ),
    )
    .await;
    let path = make_address(&acme).await;
    make_address(&other).await;

    let res = app.get(&path).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = res.text().await.unwrap();

    let calendar: icalendar::Calendar = ics.parse().expect("the feed parses");
    let uids: Vec<String> = calendar
        .components
        .iter()
        .filter_map(|c| c.as_event())
        .filter_map(|e| icalendar::Component::get_uid(e).map(str::to_owned))
        .collect();
    assert_eq!(uids.len(), 1, "{ics}");
    assert!(uids[0].starts_with(&format!("issue-{mine}@")));
    assert!(!ics.contains(&format!("issue-{theirs}@")));
    assert!(ics.contains("Runner registration fails"));
    let due = recorded(2019, 11, 8, 10, 15, 0) + chrono::Duration::days(30);
    let start = format!("DTSTART:{}", due.format("%Y%m%dT%H%M%SZ"));
    assert!(ics.contains(&start), "{start} in {ics}");
}

#[tokio::test]
async fn a_new_address_replaces_the_old_and_a_revoked_one_stops_working() {
    let app = spawn().await;
    let (acme, _) = partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let first = make_address(&acme).await;
    let second = make_address(&acme).await;
    assert_ne!(first, second);
    assert_eq!(app.get(&first).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&second).await.status(), StatusCode::OK);

    acme.get("/issues/calendar").await;
    acme.post("/issues/calendar/revoke", &[])
        .await
        .assert_redirect("/issues/calendar");

    assert_eq!(app.get(&second).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/calendar/guess.ics").await.status(),
        StatusCode::NOT_FOUND
    );
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select token_hash from calendar_feeds")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    let token = second
        .trim_start_matches("/calendar/")
        .trim_end_matches(".ics");
    assert!(
        stored.iter().all(|h| h.as_slice() != token.as_bytes()),
        "only hashes are stored"
    );
}

#[tokio::test]
async fn members_see_the_page_but_only_admins_make_or_revoke_the_address() {
    let app = spawn().await;
    let (_owner, acme) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let member = member_of(&app, acme, "Max Member", "max@acme.test").await;

    let page = member.get("/issues/calendar").await;
    assert!(page.body.contains("Ask an admin"));
    assert_eq!(
        member.post("/issues/calendar", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        member.post("/issues/calendar/revoke", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(count(&app, "select count(*) from calendar_feeds").await, 0);
}

#[tokio::test]
async fn the_feed_holds_the_organisations_license_expiries_only() {
    let app = spawn().await;
    let (acme, acme_id) =
        partner_with_namespace(&app, "Acme Corp", "ada@acme.test", "acme-corp").await;
    let (other, other_id) =
        partner_with_namespace(&app, "Other Co", "oz@other.test", "other-co").await;
    for agent in [&acme, &other] {
        agent.get("/licenses").await;
        let res = agent
            .post(
                "/licenses",
                &[
                    ("products", "saas"),
                    ("users", "5"),
                    ("purposes", "training"),
                    ("terms_accepted", "on"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.snippet());
    }
    let license = |partner: i64| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("select id from licenses where partner_id = $1")
                .bind(partner)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let (mine, theirs) = (license(acme_id).await, license(other_id).await);
    let path = make_address(&acme).await;

    let ics = app.get(&path).await.text().await.unwrap();

    let _: icalendar::Calendar = ics.parse().expect("the feed parses");
    assert!(ics.contains(&format!("UID:license-{mine}-")), "{ics}");
    assert!(ics.contains("SaaS NFR license expires (5 users)"));
    assert!(!ics.contains(&format!("license-{theirs}-")));
    assert!(
        ics.contains("DTSTART;VALUE=DATE:"),
        "an all-day event: {ics}"
    );
}
