//! Everything that must not sign anyone in: a callback that belongs to no
//! sign-in of this browser, a replayed one, an ID token that does not check
//! out, a person who cancelled, staff. Each gets a page that says so, and
//! no session, no account.

use reqwest::StatusCode;

use super::*;
use crate::gitlab::oidc::Tamper;

/// Nobody was signed in or signed up, and the agent has no session.
async fn nothing_happened(app: &TestApp, agent: &Agent) {
    assert!(!signed_in(agent).await, "no session");
    assert_eq!(
        count(app, "select count(*) from users").await,
        0,
        "no account"
    );
    assert_eq!(count(app, "select count(*) from sessions").await, 0);
    assert_eq!(
        count(app, "select count(*) from gitlab_identities").await,
        0
    );
}

#[tokio::test]
async fn a_callback_with_a_state_this_browser_never_sent_is_refused() {
    let (double, app) = setup().await;
    double.sign_in_as(Some(&ada()));
    let agent = app.agent();
    let callback = to_gitlab_and_back(&agent, "/auth/gitlab").await;
    let forged = callback.replace("state=", "state=forged");

    let page = agent.get(&forged).await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("This sign-in link does not work"),
        "{}",
        page.snippet()
    );
    nothing_happened(&app, &agent).await;
    let page = agent.get("/auth/gitlab/callback?code=abc").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    nothing_happened(&app, &agent).await;
}

#[tokio::test]
async fn a_replayed_callback_does_nothing_the_second_time() {
    let (double, app) = setup().await;
    double.sign_in_as(Some(&ada()));
    let agent = app.agent();
    let callback = to_gitlab_and_back(&agent, "/auth/gitlab").await;
    agent.get(&callback).await.assert_redirect("/dashboard");
    agent.get("/account").await;
    agent.post("/logout", &[]).await;

    let again = agent.get(&callback).await;

    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(again.body.contains("already used"), "{}", again.snippet());
    assert!(!signed_in(&agent).await);
    assert_eq!(count(&app, "select count(*) from sessions").await, 0);
}

#[tokio::test]
async fn a_code_used_once_is_refused_by_gitlab_when_replayed_into_a_new_sign_in() {
    let (double, app) = setup().await;
    double.sign_in_as(Some(&ada()));
    let victim = app.agent();
    let used = to_gitlab_and_back(&victim, "/auth/gitlab").await;
    victim.get(&used).await.assert_redirect("/dashboard");
    let code = url::Url::parse(&format!("http://x{used}"))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();

    // Someone starts a sign-in of their own and feeds it the used code.
    let attacker = app.agent();
    let theirs = to_gitlab_and_back(&attacker, "/auth/gitlab").await;
    let state = url::Url::parse(&format!("http://x{theirs}"))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let page = attacker
        .get(&format!("/auth/gitlab/callback?code={code}&state={state}"))
        .await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("answer was refused"),
        "{}",
        page.snippet()
    );
    assert!(page.body.contains("invalid_grant"), "{}", page.snippet());
    assert_eq!(double.replays_refused(), 1);
    assert!(!signed_in(&attacker).await);
    assert_eq!(
        count(&app, "select count(*) from sessions").await,
        1,
        "only the victim's"
    );
    let refused = audited(&app, "sign_in.gitlab_refused").await;
    assert!(
        refused[0]["reason"]
            .as_str()
            .unwrap()
            .contains("invalid_grant")
    );
}

#[tokio::test]
async fn a_callback_carried_to_another_browser_is_refused() {
    let (double, app) = setup().await;
    double.sign_in_as(Some(&ada()));
    let starter = app.agent();
    let callback = to_gitlab_and_back(&starter, "/auth/gitlab").await;

    let other = app.agent();
    let page = other.get(&callback).await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("started in another browser"),
        "{}",
        page.snippet()
    );
    nothing_happened(&app, &other).await;
    // Used up: the first browser cannot finish it either.
    assert_eq!(starter.get(&callback).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_sign_in_not_finished_within_ten_minutes_is_refused() {
    let (double, app) = setup().await;
    double.sign_in_as(Some(&ada()));
    let agent = app.agent();
    let callback = to_gitlab_and_back(&agent, "/auth/gitlab").await;
    app.clock.advance(chrono::Duration::minutes(11));

    let page = agent.get(&callback).await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("took too long"), "{}", page.snippet());
    nothing_happened(&app, &agent).await;
}

/// Each way an ID token can be wrong: refused, with the reason audited.
#[tokio::test]
async fn an_id_token_that_does_not_check_out_signs_nobody_in() {
    let (double, app) = setup().await;
    double.sign_in_as(Some(&ada()));
    for (tamper, why) in [
        (Tamper::WrongNonce, "nonce"),
        (Tamper::BadSignature, "Signature verification failed"),
        (Tamper::Expired, "Expired"),
        (Tamper::WrongAudience, "audience"),
    ] {
        let agent = app.agent();
        double.tamper_next(tamper);

        let page = via_gitlab(&agent, "/auth/gitlab").await;

        assert_eq!(page.status, StatusCode::FORBIDDEN, "{tamper:?}");
        assert!(
            page.body.contains("did not pass the portal"),
            "{tamper:?}: {}",
            page.snippet()
        );
        assert!(page.body.contains(why), "{tamper:?}: {}", page.snippet());
        nothing_happened(&app, &agent).await;
    }
    let reasons: Vec<String> = audited(&app, "sign_in.gitlab_refused")
        .await
        .iter()
        .map(|r| r["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(
        reasons
            .iter()
            .all(|r| r.starts_with("the ID token was refused")),
        "{reasons:?}"
    );
    // The same GitLab answer, untampered, signs in.
    via_gitlab(&app.agent(), "/auth/gitlab")
        .await
        .assert_redirect("/dashboard");
}

#[tokio::test]
async fn cancelling_on_gitlab_changes_nothing() {
    let (double, app) = setup().await;
    double.sign_in_as(None);
    let agent = app.agent();

    let page = via_gitlab(&agent, "/auth/gitlab").await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("GitLab did not sign you in"),
        "{}",
        page.snippet()
    );
    nothing_happened(&app, &agent).await;
}

#[tokio::test]
async fn gitlab_out_of_reach_is_said_plainly() {
    let (double, app) = setup().await;
    let agent = app.agent();
    drop(double);

    let page = agent.get("/auth/gitlab").await;

    assert_eq!(page.status, StatusCode::BAD_GATEWAY);
    assert!(
        page.body.contains("GitLab cannot be reached right now"),
        "{}",
        page.snippet()
    );
    nothing_happened(&app, &agent).await;
}

#[tokio::test]
async fn staff_cannot_sign_in_or_link_with_gitlab() {
    let (double, app) = setup().await;
    let staff = app
        .staff_user(
            "sam@portal.test",
            partner_portal::accounts::staff::StaffRole::Admin,
        )
        .await;
    // Signed in, staff are not sent to GitLab.
    let page = staff.get("/auth/gitlab").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Staff accounts do not use GitLab"));
    assert!(
        !staff
            .get("/account")
            .await
            .body
            .contains("Link your GitLab account")
    );
    // An identity linked to a staff account (by any means) opens nothing.
    sqlx::query(
        "insert into gitlab_identities (user_id, gitlab_user_id, username, linked_at)
         select id, 9001, 'sam', now() from users where email = 'sam@portal.test'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    double.sign_in_as(Some(&GitLabUser::new(9001, "sam", "sam@elsewhere.test")));
    let agent = app.agent();

    let page = via_gitlab(&agent, "/auth/gitlab").await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("Staff accounts do not use GitLab"),
        "{}",
        page.snippet()
    );
    assert!(!signed_in(&agent).await);
    assert_eq!(audited(&app, "sign_in.gitlab_refused").await.len(), 1);
}

#[tokio::test]
async fn starting_sign_ins_without_end_from_one_address_is_paused() {
    let (_double, app) = setup().await;
    let agent = app.agent();
    for _ in 0..30 {
        assert_eq!(
            agent.get("/auth/gitlab").await.status,
            StatusCode::SEE_OTHER
        );
    }

    let page = agent.get("/auth/gitlab").await;

    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("Too many sign-ins with GitLab"));
    assert_eq!(
        count(&app, "select count(*) from gitlab_sign_in_attempts").await,
        30
    );
    // The attempts nobody came back for are swept away by housekeeping.
    app.clock.advance(chrono::Duration::minutes(11));
    partner_portal::jobs::run_at(&app.state, app.clock.now())
        .await
        .unwrap();
    assert_eq!(
        count(&app, "select count(*) from gitlab_sign_in_attempts").await,
        0
    );
}
