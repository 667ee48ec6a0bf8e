//! Accounts and sessions through real HTTP: sign-up, verification, sign-in,
//! lockout, reset, CSRF, redirects, staff second factor.

use chrono::Duration;
use partner_portal::accounts::{staff::StaffRole, totp};
use reqwest::StatusCode;

use crate::{
    agent::csrf_in,
    helpers::{PASSWORD, Spawn, spawn_app, spawn_app_with},
};

async fn user_count(app: &crate::helpers::TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The body with the per-visitor CSRF token taken out, to compare answers.
fn without_token(body: &str) -> String {
    match csrf_in(body) {
        Some(token) => body.replace(&token, "TOKEN"),
        None => body.to_owned(),
    }
}

#[tokio::test]
async fn sign_up_sends_a_single_use_verification_link() {
    let app = spawn_app().await;
    let agent = app.agent();
    agent.get("/signup").await;

    let res = agent
        .post(
            "/signup",
            &[
                ("name", "Ada Lovelace"),
                ("email", "Ada@Example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;

    res.assert_redirect("/signup/check-email?email=Ada%40Example.com");
    let email = app.last_email_to("ada@example.com").await;
    assert_eq!(
        email.subject,
        "Confirm your email address for the Partner Portal"
    );
    let link = email.link("/verify-email?token=");
    assert!(email.html.contains(&link.replace('&', "&amp;")));

    agent
        .get(&link)
        .await
        .assert_redirect("/login?notice=verified&email=Ada%40Example.com");
    let again = agent.get(&link).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.contains("This link no longer works"));
}

#[tokio::test]
async fn a_verification_link_expires_after_48_hours() {
    let app = spawn_app().await;
    let agent = app.agent();
    agent.get("/signup").await;
    agent
        .post(
            "/signup",
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let link = app
        .last_email_to("ada@example.com")
        .await
        .link("/verify-email?token=");

    app.clock.advance(Duration::hours(49));

    assert!(
        agent
            .get(&link)
            .await
            .body
            .contains("This link no longer works")
    );
    let verified: bool = sqlx::query_scalar("select email_verified_at is not null from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!verified);
}

#[tokio::test]
async fn signing_up_with_a_taken_address_reveals_nothing_and_tells_the_owner() {
    let app = spawn_app().await;
    app.partner_user("Ada", "ada@example.com").await;
    let fresh = app.agent();
    fresh.get("/signup").await;
    let new = fresh
        .post(
            "/signup",
            &[
                ("name", "Bob"),
                ("email", "bob@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let stranger = app.agent();
    stranger.get("/signup").await;

    let taken = stranger
        .post(
            "/signup",
            &[
                ("name", "Mallory"),
                ("email", "ADA@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;

    assert_eq!(taken.status, new.status);
    assert_eq!(
        taken.location.unwrap().to_lowercase(),
        new.location.unwrap().replace("bob", "ada").to_lowercase()
    );
    assert_eq!(user_count(&app).await, 2);
    let owner_mail = app.last_email_to("ada@example.com").await;
    assert_eq!(
        owner_mail.subject,
        "Someone tried to sign up with your email address"
    );
}

#[tokio::test]
async fn weak_passwords_and_bad_fields_are_explained_next_to_the_field() {
    let app = spawn_app().await;
    let agent = app.agent();
    agent.get("/signup").await;

    let res = agent
        .post(
            "/signup",
            &[
                ("name", "Ada"),
                ("email", "not-an-address"),
                ("password", "password1234"),
            ],
        )
        .await;

    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"email-error\""), "{}", res.snippet());
    assert!(
        res.body
            .contains("Enter an email address like name@example.com.")
    );
    assert!(res.body.contains("id=\"password-error\""));
    assert!(res.body.contains("too easy to guess"));
    assert!(res.body.contains("value=\"Ada\""), "typed values are kept");
    assert!(res.body.contains("value=\"not-an-address\""));
    assert!(
        !res.body.contains("password1234"),
        "the password is never echoed"
    );
    assert_eq!(user_count(&app).await, 0);
}

#[tokio::test]
async fn until_verified_a_user_only_sees_the_check_your_email_page() {
    let app = spawn_app().await;
    let agent = app.agent();
    agent.get("/signup").await;
    agent
        .post(
            "/signup",
            &[
                ("name", "Ada"),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;

    app.sign_in(&agent, "ada@example.com")
        .await
        .assert_redirect("/verify-email/pending");
    agent
        .get("/account")
        .await
        .assert_redirect("/verify-email/pending");

    let pending = agent.get("/verify-email/pending").await;
    assert!(pending.body.contains("Check your email"));
    let before = app.emails_to("ada@example.com").await.len();
    agent
        .post("/verify-email/resend", &[])
        .await
        .assert_redirect("/verify-email/pending?sent=1");
    assert_eq!(app.emails_to("ada@example.com").await.len(), before + 1);
    // A second request within the minute is refused, and sends nothing.
    agent
        .post("/verify-email/resend", &[])
        .await
        .assert_redirect("/verify-email/pending?sent=wait");
    assert_eq!(app.emails_to("ada@example.com").await.len(), before + 1);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_address_get_the_same_answer() {
    let app = spawn_app().await;
    app.partner_user("Ada", "ada@example.com").await;
    let a = app.agent();
    a.get("/login").await;
    let b = app.agent();
    b.get("/login").await;

    let wrong = a
        .post(
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", "not the right one at all"),
            ],
        )
        .await;
    let unknown = b
        .post(
            "/login",
            &[
                ("email", "nobody@example.com"),
                ("password", "not the right one at all"),
            ],
        )
        .await;

    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(
        without_token(&wrong.body).replace("ada@example.com", "X"),
        without_token(&unknown.body).replace("nobody@example.com", "X")
    );
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in_and_the_old_cookie_dies_at_sign_out() {
    let app = spawn_app().await;
    let agent = app.partner_user("Ada", "ada@example.com").await;
    let first = agent.cookie("pp_session").expect("signed in");

    // Signing in again (from a page of the signed-in session) replaces the ID.
    agent
        .post(
            "/login",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await
        .assert_redirect("/dashboard");
    let second = agent.cookie("pp_session").unwrap();
    assert_ne!(first, second, "a fresh session ID at every sign-in");

    // A session ID planted before sign-in (fixation) is never adopted.
    let fixated = app.agent();
    fixated.jar.add_cookie_str(
        "pp_session=chosen-by-an-attacker; Path=/",
        &app.address.parse().unwrap(),
    );
    app.sign_in(&fixated, "ada@example.com")
        .await
        .assert_redirect("/dashboard");
    assert_ne!(
        fixated.cookie("pp_session").as_deref(),
        Some("chosen-by-an-attacker")
    );

    agent.get("/account").await;
    agent
        .post("/logout", &[])
        .await
        .assert_redirect("/login?notice=signed_out");

    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for cookie in [first, second] {
        let res = replay
            .get(app.url("/account"))
            .header("cookie", format!("pp_session={cookie}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/login?next=%2Faccount");
    }
}

#[tokio::test]
async fn a_session_ends_after_30_idle_minutes() {
    let app = spawn_app().await;
    let agent = app.partner_user("Ada", "ada@example.com").await;

    app.clock.advance(Duration::minutes(29));
    assert_eq!(agent.get("/account").await.status, StatusCode::OK);
    app.clock.advance(Duration::minutes(29));
    assert_eq!(
        agent.get("/account").await.status,
        StatusCode::OK,
        "activity keeps it alive"
    );
    app.clock.advance(Duration::minutes(31));

    agent
        .get("/account")
        .await
        .assert_redirect("/login?next=%2Faccount");
}

#[tokio::test]
async fn a_session_ends_12_hours_after_sign_in_however_active() {
    let app = spawn_app().await;
    let agent = app.partner_user("Ada", "ada@example.com").await;

    for _ in 0..(11 * 60 / 20) {
        app.clock.advance(Duration::minutes(20));
        assert_eq!(agent.get("/account").await.status, StatusCode::OK);
    }
    app.clock.advance(Duration::minutes(61));

    agent
        .get("/account")
        .await
        .assert_redirect("/login?next=%2Faccount");
}

#[tokio::test]
async fn ten_failures_lock_the_account_across_two_instances() {
    let first = spawn_app().await;
    first.partner_user("Ada", "ada@example.com").await;
    let second = spawn_app_with(Spawn {
        db: Some(first.db.clone()),
        ..Spawn::default()
    })
    .await;

    for i in 0..10 {
        let app = if i % 2 == 0 { &first } else { &second };
        let agent = app.agent();
        agent.get("/login").await;
        let res = agent
            .post(
                "/login",
                &[
                    ("email", "ada@example.com"),
                    ("password", "wrong wrong wrong"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {i}");
    }

    for app in [&first, &second] {
        let agent = app.agent();
        agent.get("/login").await;
        let res = agent
            .post(
                "/login",
                &[("email", "ada@example.com"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(res.body.contains("Sign-in is paused for 15 minutes"));
        assert!(agent.cookie("pp_session").is_none());
    }
    let locked: Vec<_> = first
        .emails_to("ada@example.com")
        .await
        .into_iter()
        .filter(|e| e.subject == "Sign-in to your Partner Portal account is paused")
        .collect();
    assert_eq!(locked.len(), 1, "the owner is told once");

    first.clock.advance(Duration::minutes(16));
    let agent = first.agent();
    first
        .sign_in(&agent, "ada@example.com")
        .await
        .assert_redirect("/dashboard");
}

#[tokio::test]
async fn password_reset_is_single_use_ends_sessions_and_does_not_sign_in() {
    let app = spawn_app().await;
    let old_session = app.partner_user("Ada", "ada@example.com").await;
    let agent = app.agent();
    agent.get("/password/forgot").await;
    let unknown = agent
        .post("/password/forgot", &[("email", "nobody@example.com")])
        .await;
    let known = agent
        .post("/password/forgot", &[("email", "ada@example.com")])
        .await;
    assert_eq!(unknown.status, known.status);
    assert_eq!(
        without_token(&unknown.body).replace("nobody@example.com", "X"),
        without_token(&known.body).replace("ada@example.com", "X")
    );

    let link = app
        .last_email_to("ada@example.com")
        .await
        .link("/password/reset?token=");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    agent.get(&link).await;
    let res = agent
        .post(
            "/password/reset",
            &[
                ("token", &token),
                ("password", "a brand new long passphrase"),
            ],
        )
        .await;

    res.assert_redirect("/login?notice=password_reset");
    assert!(agent.cookie("pp_session").is_none(), "no automatic sign-in");
    old_session
        .get("/account")
        .await
        .assert_redirect("/login?next=%2Faccount");
    assert_eq!(
        app.last_email_to("ada@example.com").await.subject,
        "Your Partner Portal password was changed"
    );
    let again = agent
        .post(
            "/password/reset",
            &[
                ("token", &token),
                ("password", "yet another long passphrase"),
            ],
        )
        .await;
    assert!(again.body.contains("This link no longer works"));
    agent.get("/login").await;
    let res = agent
        .post(
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", "a brand new long passphrase"),
            ],
        )
        .await;
    res.assert_redirect("/dashboard");
}

#[tokio::test]
async fn a_reset_link_expires_after_an_hour() {
    let app = spawn_app().await;
    app.partner_user("Ada", "ada@example.com").await;
    let agent = app.agent();
    agent.get("/password/forgot").await;
    agent
        .post("/password/forgot", &[("email", "ada@example.com")])
        .await;
    let link = app
        .last_email_to("ada@example.com")
        .await
        .link("/password/reset?token=");

    app.clock.advance(Duration::minutes(61));

    assert!(
        agent
            .get(&link)
            .await
            .body
            .contains("This link no longer works")
    );
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one() {
    let app = spawn_app().await;
    let agent = app.partner_user("Ada", "ada@example.com").await;
    agent.get("/account").await;

    let wrong = agent
        .post(
            "/account/password",
            &[
                ("current_password", "not my password at all"),
                ("new_password", "a brand new long passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("That is not your current password."));

    let ok = agent
        .post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new long passphrase"),
            ],
        )
        .await;
    ok.assert_redirect("/account");
    assert!(
        agent
            .get("/account")
            .await
            .body
            .contains("Your password has been changed")
    );
}

#[tokio::test]
async fn a_post_without_the_right_csrf_token_changes_nothing() {
    let app = spawn_app().await;
    let agent = app.partner_user("Ada", "ada@example.com").await;
    agent.get("/account").await;

    let missing = agent
        .post_raw(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new long passphrase"),
            ],
        )
        .await;
    let wrong = agent
        .post_raw(
            "/account/password",
            &[
                ("csrf_token", "forged"),
                ("current_password", PASSWORD),
                ("new_password", "a brand new long passphrase"),
            ],
        )
        .await;

    for res in [&missing, &wrong] {
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(res.body.contains("That action was refused"));
    }
    let stranger = app.agent();
    let signup = stranger
        .post_raw(
            "/signup",
            &[
                ("name", "Eve"),
                ("email", "eve@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(signup.status, StatusCode::FORBIDDEN);
    assert_eq!(user_count(&app).await, 1);
    agent.post("/logout", &[]).await;
    app.sign_in(&agent, "ada@example.com")
        .await
        .assert_redirect("/dashboard");
}

#[tokio::test]
async fn a_post_from_another_origin_is_refused_even_with_a_token() {
    let app = spawn_app().await;
    let agent = app.agent();
    let page = agent.get("/signup").await;
    let token = csrf_in(&page.body).unwrap();

    let res = agent
        .client
        .post(app.url("/signup"))
        .header("origin", "https://evil.example")
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", "Eve"),
            ("email", "eve@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(user_count(&app).await, 0);
}

#[tokio::test]
async fn after_sign_in_only_paths_of_this_site_are_followed() {
    let app = spawn_app().await;
    app.partner_user("Ada", "ada@example.com").await;

    for (next, expected) in [
        ("/account", "/account"),
        ("https://evil.example/", "/dashboard"),
        ("//evil.example", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
    ] {
        let agent = app.agent();
        agent.get(&format!("/login?next={}", urlencode(next))).await;
        let res = agent
            .post(
                "/login",
                &[
                    ("email", "ada@example.com"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        res.assert_redirect(expected);
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn staff_need_the_second_factor_before_reaching_admin() {
    let app = spawn_app().await;
    let secret = app
        .staff_account("grace@example.com", StaffRole::Admin)
        .await;
    let agent = app.agent();

    app.sign_in(&agent, "grace@example.com")
        .await
        .assert_redirect("/login/second-factor");
    agent
        .get("/admin")
        .await
        .assert_redirect("/login/second-factor");
    agent
        .get("/account")
        .await
        .assert_redirect("/login/second-factor");

    let enrol = agent.get("/login/second-factor").await;
    assert!(enrol.body.contains("Set up two-factor sign-in"));
    assert!(enrol.body.contains(&secret), "the secret is shown as text");
    assert!(
        enrol.body.contains("data:image/svg+xml;base64,"),
        "and as a QR code"
    );

    let wrong = agent
        .post("/login/second-factor", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let code = totp::current_code(&secret, app.clock.now()).unwrap();
    let done = agent.post("/login/second-factor", &[("code", &code)]).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("Save your recovery codes"));
    agent.get("/admin").await;
    let recovery: Vec<String> = done
        .body
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(agent.get("/admin").await.status, StatusCode::OK);

    // Next time: a recovery code works once; the same TOTP code cannot be replayed.
    agent.post("/logout", &[]).await;
    app.sign_in(&agent, "grace@example.com")
        .await
        .assert_redirect("/login/second-factor");
    let form = agent.get("/login/second-factor").await;
    assert!(form.body.contains("Enter your code"), "{}", form.snippet());
    let replay = agent.post("/login/second-factor", &[("code", &code)]).await;
    assert_eq!(replay.status, StatusCode::UNPROCESSABLE_ENTITY);
    agent
        .post("/login/second-factor", &[("code", &recovery[0])])
        .await
        .assert_redirect("/admin");
    agent.get("/admin").await;
    agent.post("/logout", &[]).await;
    app.sign_in(&agent, "grace@example.com").await;
    agent.get("/login/second-factor").await;
    let reused = agent
        .post("/login/second-factor", &[("code", &recovery[0])])
        .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_partner_user_can_never_reach_admin() {
    let app = spawn_app().await;
    let agent = app.partner_user("Ada", "ada@example.com").await;

    for path in ["/admin", "/admin/staff"] {
        let res = agent.get(path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
    }
    agent.get("/account").await;
    let res = agent
        .post(
            "/admin/staff/invitations",
            &[
                ("name", "Eve"),
                ("email", "eve@example.com"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(user_count(&app).await, 1);
    let signed_out = app.agent();
    signed_out
        .get("/admin")
        .await
        .assert_redirect("/login?next=%2Fadmin");
}

#[tokio::test]
async fn a_staff_admin_invites_a_reviewer_who_sets_a_password_and_enrols() {
    let app = spawn_app().await;
    let admin = app.staff_user("grace@example.com", StaffRole::Admin).await;
    admin.get("/admin/staff").await;

    admin
        .post(
            "/admin/staff/invitations",
            &[
                ("name", "Rita Reviewer"),
                ("email", "rita@example.com"),
                ("role", "reviewer"),
            ],
        )
        .await
        .assert_redirect("/admin/staff");

    let invite = app.last_email_to("rita@example.com").await;
    let link = invite.link("/staff/invitation?token=");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let rita = app.agent();
    assert!(
        rita.get(&link)
            .await
            .body
            .contains("Welcome, Rita Reviewer")
    );
    rita.post(
        "/staff/invitation",
        &[("token", &token), ("password", PASSWORD)],
    )
    .await
    .assert_redirect("/login?notice=invitation_accepted");
    app.sign_in(&rita, "rita@example.com")
        .await
        .assert_redirect("/login/second-factor");
    // A reviewer does not manage staff.
    let secret = app.totp_secret_of("rita@example.com").await;
    rita.get("/login/second-factor").await;
    let code = totp::current_code(&secret, app.clock.now()).unwrap();
    rita.post("/login/second-factor", &[("code", &code)]).await;
    assert_eq!(rita.get("/admin").await.status, StatusCode::OK);
    assert_eq!(rita.get("/admin/staff").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn your_sessions_lists_them_and_ends_any() {
    let app = spawn_app().await;
    let laptop = app.partner_user("Ada", "ada@example.com").await;
    let phone = app.agent();
    app.sign_in(&phone, "ada@example.com").await;

    let page = laptop.get("/account").await;
    assert_eq!(page.body.matches("/end\"").count(), 2, "{}", page.snippet());
    let phone_session: i64 = sqlx::query_scalar("select max(id) from sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    laptop
        .post(&format!("/account/sessions/{phone_session}/end"), &[])
        .await
        .assert_redirect("/account#sessions");

    phone
        .get("/account")
        .await
        .assert_redirect("/login?next=%2Faccount");
    assert_eq!(laptop.get("/account").await.status, StatusCode::OK);
    // Another person's session is not theirs to end.
    let bob = app.partner_user("Bob", "bob@example.com").await;
    bob.get("/account").await;
    let own: i64 = sqlx::query_scalar("select min(id) from sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        bob.post(&format!("/account/sessions/{own}/end"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn sign_ins_failures_and_resets_are_audited_without_secrets() {
    let app = spawn_app().await;
    let agent = app.partner_user("Ada", "ada@example.com").await;
    agent.post("/logout", &[]).await;
    agent.get("/login").await;
    agent
        .post(
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", "wrong wrong wrong"),
            ],
        )
        .await;

    let actions: Vec<String> = sqlx::query_scalar("select action from audit_log order by id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for expected in [
        "account.signed_up",
        "account.email_verified",
        "sign_in.succeeded",
        "session.signed_out",
        "sign_in.failed",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} in {actions:?}"
        );
    }
    let dump: String = sqlx::query_scalar("select string_agg(coalesce(before::text,'') || coalesce(after::text,''), ' ') from audit_log")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!dump.contains(PASSWORD) && !dump.contains("wrong wrong"));
}

#[tokio::test]
async fn the_scheduler_removes_expired_sessions_and_old_rate_limit_events() {
    let app = spawn_app().await;
    app.partner_user("Ada", "ada@example.com").await;
    let agent = app.agent();
    agent.get("/login").await;
    agent
        .post(
            "/login",
            &[
                ("email", "ada@example.com"),
                ("password", "wrong wrong wrong"),
            ],
        )
        .await;
    let count = |table: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("select count(*) from {table}"))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("sessions").await, 1);
    assert!(count("throttle_events").await >= 2);

    partner_portal::jobs::run_at(&app.state, app.clock.now() + Duration::days(2))
        .await
        .unwrap();

    assert_eq!(count("sessions").await, 0);
    assert_eq!(count("throttle_events").await, 0);
}

#[tokio::test]
async fn staff_admins_order_and_page_the_staff_list() {
    let app = spawn_app().await;
    let admin = app.staff_user("ada@alliance.test", StaffRole::Admin).await;
    // 55 reviewers, each an hour older than the last; the oldest an admin.
    sqlx::query(
        "insert into users (email, name, password_hash, staff_role, created_at)
         select 'member' || g || '@alliance.test', 'Member ' || lpad(g::text, 3, '0'), '!',
                case when g = 55 then 'admin' else 'reviewer' end,
                $1::timestamptz - g * interval '1 hour'
           from generate_series(1, 55) g",
    )
    .bind(app.clock.now())
    .execute(&app.pool)
    .await
    .unwrap();
    let first_row = |body: &str| {
        let start = body.find("<td data-label=\"Name\">").expect("a row") + 22;
        body[start..start + body[start..].find('<').unwrap()].to_owned()
    };

    let page1 = admin.get("/admin/staff").await.body;
    assert_eq!(first_row(&page1), "Member 001", "by name");
    assert!(!page1.contains("Member 051"), "50 a page");
    assert!(page1.contains("href=\"/admin/staff?sort=&#38;page=2\""));
    let page2 = admin.get("/admin/staff?page=2").await.body;
    assert_eq!(first_row(&page2), "Member 051");
    assert!(page2.contains("Staff ada") && !page2.contains("Member 050"));

    let newest = admin.get("/admin/staff?sort=newest").await.body;
    assert_eq!(first_row(&newest), "Staff ada");
    assert!(newest.contains("value=\"newest\" selected"));
    assert!(newest.contains("href=\"/admin/staff?sort=newest&#38;page=2\""));
    let by_role = admin.get("/admin/staff?sort=role").await.body;
    assert_eq!(first_row(&by_role), "Member 055", "admins first");
    let unknown = admin.get("/admin/staff?sort=zzz&page=x").await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(first_row(&unknown.body), "Member 001");
}
