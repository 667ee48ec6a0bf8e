//! Signing up and signing in with GitLab: the address GitLab vouches for,
//! sessions made exactly as a password sign-in makes them, and the button
//! only where the OAuth application is configured.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;

use super::*;
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_visitor_signs_up_with_gitlab_and_a_verified_address_needs_no_confirmation() {
    let (double, app) = setup().await;
    double.sign_in_as(Some(&ada()));
    let agent = app.agent();

    let landed = via_gitlab(&agent, "/auth/gitlab").await;

    landed.assert_redirect("/dashboard");
    let (email, name, hash, verified): (String, String, String, Option<DateTime<Utc>>) =
        sqlx::query_as("select email, name, password_hash, email_verified_at from users")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (email.as_str(), name.as_str()),
        ("ada@acme.test", "Ada Example")
    );
    assert_eq!(hash, "!", "no password until they set one");
    assert!(verified.is_some(), "GitLab said email_verified");
    let (gitlab_id, username, groups): (i64, String, Vec<String>) =
        sqlx::query_as("select gitlab_user_id, username, owner_groups from gitlab_identities")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((gitlab_id, username.as_str()), (4242, "ada"));
    assert_eq!(groups, ["acme-corp"], "top-level groups only");
    assert!(
        app.emails_to("ada@acme.test").await.is_empty(),
        "nothing to confirm"
    );
    assert!(signed_in(&agent).await);
    assert_eq!(agent.get("/dashboard").await.status, StatusCode::OK);
    let signed_up = audited(&app, "account.signed_up").await;
    assert_eq!(signed_up[0]["via"], "gitlab");
    assert_eq!(audited(&app, "account.gitlab_linked").await.len(), 1);
    assert_eq!(audited(&app, "sign_in.gitlab").await[0]["username"], "ada");
    // Their account page offers to set a password, without asking for one.
    let account = agent.get("/account").await;
    assert!(account.body.contains("Set a password"));
    assert!(!account.body.contains("Current password"));
    assert!(account.body.contains("@ada"));
}

#[tokio::test]
async fn an_address_gitlab_has_not_verified_is_confirmed_by_email_first() {
    let (double, app) = setup().await;
    let bob = GitLabUser::new(77, "bob", "bob@widgets.test").unverified();
    double.sign_in_as(Some(&bob));
    let agent = app.agent();

    via_gitlab(&agent, "/auth/gitlab")
        .await
        .assert_redirect("/verify-email/pending");

    let verified: Option<DateTime<Utc>> =
        sqlx::query_scalar("select email_verified_at from users where email = 'bob@widgets.test'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(verified.is_none());
    agent
        .get("/dashboard")
        .await
        .assert_redirect("/verify-email/pending");
    let link = app
        .last_email_to("bob@widgets.test")
        .await
        .link("/verify-email");
    agent.get(&link).await;
    assert_eq!(
        count(
            &app,
            "select count(*) from users where email_verified_at is not null"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_linked_user_signs_in_with_gitlab_and_gets_a_session_like_a_password_sign_in() {
    let (double, app) = setup().await;
    let agent = app.partner_user("Ada Lovelace", "ada@acme.test").await;
    double.sign_in_as(Some(&ada()));
    via_gitlab(&agent, "/auth/gitlab?next=/account")
        .await
        .assert_redirect("/account");
    agent.get("/account").await;
    agent.post("/logout", &[]).await;
    assert!(!signed_in(&agent).await);

    let browser = app.agent();
    browser.get("/login").await;
    let stale = browser.cookie("pp_session");
    let landed = via_gitlab(&browser, "/auth/gitlab?next=/licenses").await;

    landed.assert_redirect("/licenses");
    assert!(signed_in(&browser).await);
    assert_ne!(browser.cookie("pp_session"), stale);
    let (created, expires): (DateTime<Utc>, DateTime<Utc>) = sqlx::query_as(
        "select s.created_at, s.expires_at from sessions s join users u on u.id = s.user_id
          where u.email = 'ada@acme.test' order by s.id desc limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(expires - created, Duration::hours(12), "the absolute limit");
    assert_eq!(
        count(&app, "select count(*) from users").await,
        1,
        "nobody new"
    );
    // The idle limit holds as for any session.
    app.clock.advance(Duration::minutes(31));
    browser
        .get("/account")
        .await
        .assert_redirect("/login?next=%2Faccount");
}

#[tokio::test]
async fn every_sign_in_with_gitlab_gets_a_new_session_id() {
    let (double, app) = setup().await;
    let linking = app.partner_user("Ada Lovelace", "ada@acme.test").await;
    double.sign_in_as(Some(&ada()));
    via_gitlab(&linking, "/auth/gitlab").await;

    let agent = app.agent();
    via_gitlab(&agent, "/auth/gitlab")
        .await
        .assert_redirect("/dashboard");
    let first = agent.cookie("pp_session").unwrap();
    agent.get("/account").await;
    agent.post("/logout", &[]).await;
    via_gitlab(&agent, "/auth/gitlab")
        .await
        .assert_redirect("/dashboard");

    assert_ne!(agent.cookie("pp_session").unwrap(), first);
    assert_eq!(
        count(&app, "select count(*) from sessions s join users u on u.id = s.user_id where u.email = 'ada@acme.test'").await,
        2,
        "the linking session and the new one; the signed-out one ended"
    );
}

#[tokio::test]
async fn the_button_shows_only_when_the_oauth_application_is_configured() {
    let (_double, app) = setup().await;
    let visitor = app.agent();
    for page in ["/login", "/signup"] {
        let body = visitor.get(page).await.body;
        assert!(body.contains("href=\"/auth/gitlab\""), "{page}");
    }
    assert!(
        visitor
            .get("/login")
            .await
            .body
            .contains("Sign in with GitLab")
    );
    assert!(
        visitor
            .get("/signup")
            .await
            .body
            .contains("Sign up with GitLab")
    );
    assert!(
        visitor
            .get("/login?next=/licenses")
            .await
            .body
            .contains("href=\"/auth/gitlab?next=%2Flicenses\"")
    );

    let plain = spawn_app().await;
    let visitor = plain.agent();
    for page in ["/login", "/signup"] {
        assert!(!visitor.get(page).await.body.contains("GitLab"), "{page}");
    }
    assert_eq!(
        visitor.get("/auth/gitlab").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        visitor
            .get("/auth/gitlab/callback?code=x&state=y")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_callback_url_comes_from_the_public_url() {
    let double = GitLabDouble::start().await;
    let app = spawn_app_with(Spawn {
        overrides: &[
            ("PORTAL_GITLAB_URL", &double.url),
            ("PORTAL_GITLAB_OAUTH_CLIENT_ID", OAUTH_CLIENT_ID),
            ("PORTAL_GITLAB_OAUTH_CLIENT_SECRET", OAUTH_CLIENT_SECRET),
            ("PORTAL_PUBLIC_URL", "https://partners.example.com"),
        ],
        ..Spawn::default()
    })
    .await;
    let leave = app.agent().get("/auth/gitlab").await;
    let to = url::Url::parse(leave.location.as_deref().unwrap()).unwrap();
    let query: std::collections::HashMap<_, _> = to.query_pairs().into_owned().collect();
    assert!(
        to.as_str()
            .starts_with(&format!("{}/oauth/authorize?", double.url))
    );
    assert_eq!(
        query["redirect_uri"],
        "https://partners.example.com/auth/gitlab/callback"
    );
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["scope"], "openid profile email");
    assert!(query["state"].len() >= 22 && query["nonce"].len() >= 22);
    // The flow's cookie: Lax so it comes back with GitLab's redirect, short-lived.
    let cookie = leave.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-pp_gitlab="), "{cookie}");
    for part in [
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Max-Age=600",
        "Path=/",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    // The verifier and nonce stay on the server; the state only as a hash.
    let (verifier, nonce, state_hash): (String, String, Vec<u8>) =
        sqlx::query_as("select pkce_verifier, nonce, state_hash from gitlab_sign_in_attempts")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(!to.as_str().contains(&verifier));
    assert_eq!(nonce, query["nonce"]);
    assert_ne!(state_hash, query["state"].as_bytes());
}
