//! Linking and unlinking on `/account`; one identity per user and one user
//! per identity; an address alone never opens an account (takeover).

use reqwest::StatusCode;

use super::*;

async fn identities(app: &TestApp) -> Vec<(String, i64)> {
    sqlx::query_as(
        "select u.email, g.gitlab_user_id from gitlab_identities g join users u on u.id = g.user_id order by g.id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_gitlab_login_with_the_address_of_an_unlinked_account_does_not_open_it() {
    let (double, app) = setup().await;
    let owner = app.partner_user("Ada Lovelace", "ada@acme.test").await;
    owner.post("/logout", &[]).await;
    // Someone controls a GitLab account with the same, verified, address.
    double.sign_in_as(Some(&GitLabUser::new(666, "not-ada", "ADA@acme.test")));
    let agent = app.agent();

    let page = via_gitlab(&agent, "/auth/gitlab").await;

    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(
        page.body
            .contains("An account with this email address already exists"),
        "{}",
        page.snippet()
    );
    assert!(
        page.body.contains("sign in with its password"),
        "explains how to link"
    );
    assert!(page.body.contains("Link your GitLab account"));
    assert!(!signed_in(&agent).await);
    assert!(identities(&app).await.is_empty());
    assert_eq!(count(&app, "select count(*) from users").await, 1);
    assert_eq!(count(&app, "select count(*) from sessions").await, 0);
    let refused = audited(&app, "sign_in.gitlab_refused").await;
    assert!(
        refused[0]["reason"]
            .as_str()
            .unwrap()
            .contains("not linked")
    );
    let subject: Option<i64> = sqlx::query_scalar(
        "select subject_id from audit_log where action = 'sign_in.gitlab_refused'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        subject.is_some(),
        "the account it aimed at is named in the log"
    );
}

#[tokio::test]
async fn a_signed_in_user_links_then_unlinks_gitlab_on_the_account_page() {
    let (double, app) = setup().await;
    let agent = app.partner_user("Ada Lovelace", "ada@acme.test").await;
    assert!(
        agent
            .get("/account")
            .await
            .body
            .contains("Link your GitLab account")
    );
    double.sign_in_as(Some(&ada()));

    via_gitlab(&agent, "/auth/gitlab?next=/account")
        .await
        .assert_redirect("/account");

    assert_eq!(identities(&app).await, [("ada@acme.test".to_owned(), 4242)]);
    let page = agent.get("/account").await;
    assert!(
        page.body.contains("Your GitLab account @ada is linked"),
        "flash"
    );
    assert!(page.body.contains("Unlink @ada"));
    assert_eq!(
        audited(&app, "account.gitlab_linked").await[0]["gitlab_user_id"],
        4242
    );
    // Linking is not a sign-in: the session stays.
    assert_eq!(count(&app, "select count(*) from sessions").await, 1);

    agent
        .post("/account/gitlab/unlink", &[])
        .await
        .assert_redirect("/account#gitlab");

    assert!(identities(&app).await.is_empty());
    assert_eq!(
        audited(&app, "account.gitlab_unlinked").await[0]["username"],
        "ada"
    );
    let page = agent.get("/account").await;
    assert!(page.body.contains("is no longer linked"));
    // Signed out, GitLab no longer opens the account.
    agent.post("/logout", &[]).await;
    let page = via_gitlab(&app.agent(), "/auth/gitlab").await;
    assert_eq!(page.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn one_gitlab_account_cannot_be_linked_to_two_users() {
    let (double, app) = setup().await;
    let ada_agent = app.partner_user("Ada Lovelace", "ada@acme.test").await;
    double.sign_in_as(Some(&ada()));
    via_gitlab(&ada_agent, "/auth/gitlab").await;
    let bob = app.partner_user("Bob Builder", "bob@acme.test").await;

    let page = via_gitlab(&bob, "/auth/gitlab").await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.contains("linked to another portal account"),
        "{}",
        page.snippet()
    );
    assert_eq!(identities(&app).await, [("ada@acme.test".to_owned(), 4242)]);
    assert_eq!(audited(&app, "sign_in.gitlab_refused").await.len(), 1);
    // Nor one user to two GitLab accounts.
    double.sign_in_as(Some(&GitLabUser::new(5, "ada-alt", "alt@acme.test")));
    let page = via_gitlab(&ada_agent, "/auth/gitlab").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("linked to another GitLab account"));
    assert_eq!(identities(&app).await, [("ada@acme.test".to_owned(), 4242)]);
}

#[tokio::test]
async fn the_only_way_in_cannot_be_unlinked_until_a_password_is_set() {
    let (double, app) = setup().await;
    double.sign_in_as(Some(&ada()));
    let agent = app.agent();
    via_gitlab(&agent, "/auth/gitlab").await;
    agent.get("/account").await;

    let page = agent.post("/account/gitlab/unlink", &[]).await;

    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Set a password first"));
    assert_eq!(identities(&app).await.len(), 1);

    agent
        .post(
            "/account/password",
            &[("new_password", crate::helpers::PASSWORD)],
        )
        .await
        .assert_redirect("/account");
    assert!(
        agent
            .get("/account")
            .await
            .body
            .contains("Your password is set")
    );
    agent
        .post("/account/gitlab/unlink", &[])
        .await
        .assert_redirect("/account#gitlab");
    assert!(identities(&app).await.is_empty());
    // The password now opens the account.
    agent.post("/logout", &[]).await;
    app.sign_in(&agent, "ada@acme.test")
        .await
        .assert_redirect("/dashboard");
}

#[tokio::test]
async fn an_account_without_a_password_refuses_every_password_at_sign_in() {
    let (double, app) = setup().await;
    double.sign_in_as(Some(&ada()));
    via_gitlab(&app.agent(), "/auth/gitlab").await;
    let agent = app.agent();
    agent.get("/login").await;

    for password in ["!", "", crate::helpers::PASSWORD] {
        let page = agent
            .post(
                "/login",
                &[("email", "ada@acme.test"), ("password", password)],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{password:?}"
        );
    }
    assert!(!signed_in(&agent).await);
}
