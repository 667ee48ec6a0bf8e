//! The team of a partner organisation through real HTTP: invitations (single
//! use, 7 days, sent again, cancelled), accepting them, roles, removal,
//! leaving, the one owner and its transfer, and another organisation's
//! people and invitations being not found on every route.

use chrono::Duration;
use reqwest::StatusCode;

use crate::{
    agent::{Agent, Page},
    fixtures,
    helpers::{PASSWORD, TestApp, spawn_app},
};

async fn invite(admin: &Agent, email: &str, role: &str) -> Page {
    admin.get("/team").await;
    admin
        .post("/team/invitations", &[("email", email), ("role", role)])
        .await
}

/// The link of the latest invitation emailed to `email`.
async fn invitation_link(app: &TestApp, email: &str) -> String {
    app.emails_to(email)
        .await
        .into_iter()
        .rev()
        .find(|e| e.text.contains("/invitations/accept"))
        .unwrap_or_else(|| panic!("no invitation to {email}"))
        .link("/invitations/accept")
}

/// Moving the clock by days ends sessions: sign in again.
async fn sign_in_again(app: &TestApp, agent: &Agent, email: &str) {
    app.sign_in(agent, email).await;
    agent.get("/dashboard").await;
}

fn token_of(link: &str) -> String {
    link.split_once("token=").unwrap().1.to_owned()
}

/// Invites `email` and has them sign up and accept.
async fn join(app: &TestApp, admin: &Agent, name: &str, email: &str, role: &str) -> Agent {
    invite(admin, email, role).await.assert_redirect("/team");
    let link = invitation_link(app, email).await;
    let agent = app.partner_user(name, email).await;
    let page = agent.get(&link).await;
    assert!(page.body.contains("Join "), "{}", page.snippet());
    agent
        .post("/invitations/accept", &[("token", &token_of(&link))])
        .await
        .assert_redirect("/dashboard");
    agent.get("/team").await;
    agent
}

async fn user_id(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar("select id from users where lower(email) = lower($1)")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// (partner_id, role) of a user, if in an organisation.
async fn membership(app: &TestApp, email: &str) -> Option<(i64, String)> {
    sqlx::query_as(
        "select m.partner_id, m.role from partner_members m join users u on u.id = m.user_id
          where lower(u.email) = lower($1)",
    )
    .bind(email)
    .fetch_optional(&app.pool)
    .await
    .unwrap()
}

async fn invitation_id(app: &TestApp, email: &str) -> i64 {
    sqlx::query_scalar(
        "select id from partner_invitations where lower(email) = lower($1) order by id desc limit 1",
    )
    .bind(email)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// Everything about the teams and invitations, to see that nothing changed.
async fn team_state(app: &TestApp) -> String {
    sqlx::query_scalar(
        "select coalesce((select string_agg(format('%s/%s/%s', partner_id, user_id, role), ',' order by partner_id, user_id)
                            from partner_members), '')
             || '|' ||
             coalesce((select string_agg(format('%s/%s/%s/%s/%s/%s', id, email, role, encode(token_hash, 'hex'),
                                                expires_at, coalesce(cancelled_at::text, '-')), ',' order by id)
                         from partner_invitations), '')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn audit_actions(app: &TestApp, partner_id: i64) -> Vec<String> {
    sqlx::query_scalar("select action from audit_log where partner_id = $1 order by id")
        .bind(partner_id)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_invites_by_email_and_the_invitee_joins_with_that_role() {
    let app = spawn_app().await;
    let (owner, acme) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;

    invite(&owner, "Bob@Acme.test", "admin")
        .await
        .assert_redirect("/team");
    let email = app.last_email_to("bob@acme.test").await;
    assert!(email.subject.contains("Acme Corp"), "{}", email.subject);
    assert!(email.text.contains("as an admin"), "{}", email.text);
    let team = owner.get("/team").await;
    assert!(team.body.contains("Invitation sent to Bob@Acme.test"));
    assert!(team.body.contains("Invitations waiting"));

    let bob = app.partner_user("Bob", "bob@acme.test").await;
    let link = invitation_link(&app, "bob@acme.test").await;
    let page = bob.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Join Acme Corp"), "{}", page.snippet());
    bob.post("/invitations/accept", &[("token", &token_of(&link))])
        .await
        .assert_redirect("/dashboard");

    assert_eq!(
        membership(&app, "bob@acme.test").await,
        Some((acme, "admin".into()))
    );
    let dashboard = bob.get("/dashboard").await;
    assert!(dashboard.body.contains("Welcome to Acme Corp"));
    let team = owner.get("/team").await;
    assert!(team.body.contains("bob@acme.test") && team.body.contains("Admin"));
    assert!(team.body.contains("No invitations are waiting"));
    assert!(
        app.last_email_to("ada@acme.test")
            .await
            .subject
            .contains("Bob joined")
    );
    let actions = audit_actions(&app, acme).await;
    assert!(
        actions.contains(&"team.invitation_sent".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"team.invitation_accepted".to_owned()),
        "{actions:?}"
    );
}

#[tokio::test]
async fn an_invitation_link_works_once() {
    let app = spawn_app().await;
    let (owner, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let bob = join(&app, &owner, "Bob", "bob@acme.test", "member").await;
    let link = invitation_link(&app, "bob@acme.test").await;
    assert!(bob.get(&link).await.body.contains("already a member"));

    // Taken out of the team, Bob cannot come back with the same link.
    let bob_id = user_id(&app, "bob@acme.test").await;
    owner.get("/team").await;
    owner
        .post(&format!("/team/members/{bob_id}/remove"), &[])
        .await
        .assert_redirect("/team");
    let page = bob.get(&link).await;
    assert!(page.body.contains("already used"), "{}", page.snippet());
    bob.get("/dashboard").await;
    let res = bob
        .post("/invitations/accept", &[("token", &token_of(&link))])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(membership(&app, "bob@acme.test").await, None);
}

#[tokio::test]
async fn an_invitation_expires_after_7_days() {
    let app = spawn_app().await;
    let (owner, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    invite(&owner, "bob@acme.test", "member")
        .await
        .assert_redirect("/team");
    let link = invitation_link(&app, "bob@acme.test").await;
    let bob = app.partner_user("Bob", "bob@acme.test").await;

    app.clock.advance(Duration::days(7) - Duration::minutes(5));
    sign_in_again(&app, &bob, "bob@acme.test").await;
    assert!(bob.get(&link).await.body.contains("Join Acme Corp"));
    app.clock.advance(Duration::minutes(10));
    let page = bob.get(&link).await;
    assert!(
        page.body.contains("This invitation has expired"),
        "{}",
        page.snippet()
    );
    let res = bob
        .post("/invitations/accept", &[("token", &token_of(&link))])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(membership(&app, "bob@acme.test").await, None);
    sign_in_again(&app, &owner, "ada@acme.test").await;
    let team = owner.get("/team").await;
    assert!(team.body.contains("Expired"));
}

#[tokio::test]
async fn sending_again_gives_a_new_link_for_7_more_days_and_kills_the_old_one() {
    let app = spawn_app().await;
    let (owner, acme) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    invite(&owner, "bob@acme.test", "member")
        .await
        .assert_redirect("/team");
    let old = invitation_link(&app, "bob@acme.test").await;
    let id = invitation_id(&app, "bob@acme.test").await;

    app.clock.advance(Duration::days(6));
    sign_in_again(&app, &owner, "ada@acme.test").await;
    owner.get("/team").await;
    owner
        .post(&format!("/team/invitations/{id}/resend"), &[])
        .await
        .assert_redirect("/team");
    let new = invitation_link(&app, "bob@acme.test").await;
    assert_ne!(old, new);
    assert_eq!(app.emails_to("bob@acme.test").await.len(), 2);

    let bob = app.partner_user("Bob", "bob@acme.test").await;
    assert!(bob.get(&old).await.body.contains("does not work"));
    let res = bob
        .post("/invitations/accept", &[("token", &token_of(&old))])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Day 12 after the first email, day 6 after the second.
    app.clock.advance(Duration::days(6));
    sign_in_again(&app, &bob, "bob@acme.test").await;
    bob.get(&new).await;
    bob.post("/invitations/accept", &[("token", &token_of(&new))])
        .await
        .assert_redirect("/dashboard");
    assert_eq!(
        membership(&app, "bob@acme.test").await,
        Some((acme, "member".into()))
    );
    assert!(
        audit_actions(&app, acme)
            .await
            .contains(&"team.invitation_resent".to_owned())
    );
}

#[tokio::test]
async fn a_cancelled_invitation_no_longer_works() {
    let app = spawn_app().await;
    let (owner, acme) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    invite(&owner, "bob@acme.test", "member")
        .await
        .assert_redirect("/team");
    let link = invitation_link(&app, "bob@acme.test").await;
    let id = invitation_id(&app, "bob@acme.test").await;
    owner.get("/team").await;
    owner
        .post(&format!("/team/invitations/{id}/cancel"), &[])
        .await
        .assert_redirect("/team");
    let team = owner.get("/team").await;
    assert!(team.body.contains("No invitations are waiting"));
    // Cancelling twice finds nothing to cancel.
    let again = owner
        .post(&format!("/team/invitations/{id}/cancel"), &[])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    let bob = app.partner_user("Bob", "bob@acme.test").await;
    assert!(bob.get(&link).await.body.contains("was cancelled"));
    let res = bob
        .post("/invitations/accept", &[("token", &token_of(&link))])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(membership(&app, "bob@acme.test").await, None);
    assert!(
        audit_actions(&app, acme)
            .await
            .contains(&"team.invitation_cancelled".to_owned())
    );
    // The address can be invited afresh.
    invite(&owner, "bob@acme.test", "member")
        .await
        .assert_redirect("/team");
}

#[tokio::test]
async fn bad_invitations_are_explained_next_to_the_field_and_send_nothing() {
    let app = spawn_app().await;
    let (owner, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    invite(&owner, "bob@acme.test", "member")
        .await
        .assert_redirect("/team");
    let before = team_state(&app).await;
    let emails = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("select count(*) from outbox_emails")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let sent = emails(&app).await;

    for (email, role, message) in [
        (
            "not an address",
            "member",
            "Enter an email address like name@example.com.",
        ),
        ("carl@acme.test", "owner", "Choose admin or member."),
        ("ADA@acme.test", "member", "already a member of your team"),
        ("Bob@Acme.test", "admin", "already waiting"),
    ] {
        let res = invite(&owner, email, role).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{email}");
        assert!(res.body.contains(message), "{email}: {}", res.snippet());
        if role == "owner" {
            assert!(res.body.contains("id=\"role-error\""));
        } else {
            assert!(res.body.contains("aria-invalid=\"true\""), "{email}");
            assert!(
                res.body.contains(&format!("value=\"{email}\"")),
                "keeps what was typed"
            );
        }
    }
    assert_eq!(team_state(&app).await, before);
    assert_eq!(emails(&app).await, sent);
}

#[tokio::test]
async fn an_expired_invitation_is_replaced_by_a_new_one_to_the_same_address() {
    let app = spawn_app().await;
    let (owner, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    invite(&owner, "bob@acme.test", "member")
        .await
        .assert_redirect("/team");
    let old = invitation_link(&app, "bob@acme.test").await;
    app.clock.advance(Duration::days(8));
    sign_in_again(&app, &owner, "ada@acme.test").await;
    invite(&owner, "bob@acme.test", "admin")
        .await
        .assert_redirect("/team");
    let new = invitation_link(&app, "bob@acme.test").await;
    assert_ne!(old, new);
    let open: i64 = sqlx::query_scalar(
        "select count(*) from partner_invitations where accepted_at is null and cancelled_at is null",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(open, 1);
}

#[tokio::test]
async fn the_accept_page_says_what_to_do_when_it_cannot_be_used_yet() {
    let app = spawn_app().await;
    let (owner, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    invite(&owner, "bob@acme.test", "member")
        .await
        .assert_redirect("/team");
    let link = invitation_link(&app, "bob@acme.test").await;
    let token = token_of(&link);

    // Signed out: sign in or create an account, coming back here.
    let visitor = app.agent();
    let page = visitor.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    let next = format!("next=%2Finvitations%2Faccept%3Ftoken%3D{token}");
    assert!(
        page.body.contains(&format!("/login?{next}")),
        "{}",
        page.snippet()
    );
    assert!(page.body.contains(&format!("/signup?{next}")));
    assert!(page.body.contains("bob@acme.test"));

    // Another address: told which one it was sent to; cannot accept.
    let eve = app.partner_user("Eve", "eve@acme.test").await;
    let page = eve.get(&link).await;
    assert!(page.body.contains("for another address") && page.body.contains("bob@acme.test"));
    let res = eve.post("/invitations/accept", &[("token", &token)]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(membership(&app, "eve@acme.test").await, None);

    // Already in another organisation: must leave it first.
    let (bob, globex) = fixtures::organisation(&app, "Globex", "bob@acme.test").await;
    let page = bob.get(&link).await;
    assert!(
        page.body.contains("You already belong to Globex"),
        "{}",
        page.snippet()
    );
    let res = bob.post("/invitations/accept", &[("token", &token)]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        membership(&app, "bob@acme.test").await,
        Some((globex, "owner".into()))
    );

    // A made-up token shows nothing of any organisation.
    let page = visitor.get("/invitations/accept?token=nonsense").await;
    assert!(page.body.contains("does not work") && !page.body.contains("Acme"));
}

#[tokio::test]
async fn signing_up_from_an_invitation_comes_back_to_it() {
    let app = spawn_app().await;
    let (owner, acme) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    invite(&owner, "bob@acme.test", "member")
        .await
        .assert_redirect("/team");
    let link = invitation_link(&app, "bob@acme.test").await;
    let bob = app.agent();
    let invitation = bob.get(&link).await;
    let next = format!("/invitations/accept?token={}", token_of(&link));
    let encoded = url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>();
    let signup = format!("/signup?next={encoded}&email=bob%40acme.test");
    assert!(
        invitation.body.replace("&#38;", "&").contains(&signup),
        "the sign-up link carries the invited address"
    );

    let page = bob.get(&signup).await;
    assert!(page.body.contains("name=\"next\""));
    assert!(
        page.body.contains("value=\"bob@acme.test\""),
        "the invited address is filled in"
    );
    assert!(page.body.contains("come back to your invitation"));
    bob.post(
        "/signup",
        &[
            ("name", "Bob"),
            ("email", "bob@acme.test"),
            ("password", PASSWORD),
            ("next", &next),
        ],
    )
    .await;
    let verify = app
        .last_email_to("bob@acme.test")
        .await
        .link("/verify-email");
    let login = format!("/login?notice=verified&next={encoded}&email=bob%40acme.test");
    bob.get(&verify).await.assert_redirect(&login);
    let page = bob.get(&login).await;
    assert!(
        page.body.contains("value=\"bob@acme.test\""),
        "the confirmed address is filled in"
    );
    bob.post(
        "/login",
        &[
            ("email", "bob@acme.test"),
            ("password", PASSWORD),
            ("next", &next),
        ],
    )
    .await
    .assert_redirect(&next);
    let page = bob.get(&next).await;
    assert!(page.body.contains("Join Acme Corp"));
    bob.post("/invitations/accept", &[("token", &token_of(&link))])
        .await
        .assert_redirect("/dashboard");
    assert_eq!(
        membership(&app, "bob@acme.test").await,
        Some((acme, "member".into()))
    );
}

#[tokio::test]
async fn members_see_the_team_but_cannot_manage_it() {
    let app = spawn_app().await;
    let (owner, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let carl = join(&app, &owner, "Carl", "carl@acme.test", "member").await;
    invite(&owner, "dan@acme.test", "member")
        .await
        .assert_redirect("/team");
    let ada_id = user_id(&app, "ada@acme.test").await;
    let carl_id = user_id(&app, "carl@acme.test").await;
    let inv = invitation_id(&app, "dan@acme.test").await;

    let team = carl.get("/team").await;
    assert_eq!(team.status, StatusCode::OK);
    assert!(team.body.contains("ada@acme.test") && team.body.contains("dan@acme.test"));
    assert!(!team.body.contains("Invite a colleague") && !team.body.contains("/remove"));
    let before = team_state(&app).await;
    let carl_text = carl_id.to_string();
    for (path, fields) in [
        (
            "/team/invitations".to_owned(),
            vec![("email", "eve@acme.test"), ("role", "admin")],
        ),
        (
            "/team".to_owned(),
            vec![("email", "eve@acme.test"), ("role", "admin")],
        ),
        (format!("/team/invitations/{inv}/resend"), vec![]),
        (format!("/team/invitations/{inv}/cancel"), vec![]),
        (
            format!("/team/members/{carl_id}/role"),
            vec![("role", "admin")],
        ),
        (format!("/team/members/{ada_id}/remove"), vec![]),
        (
            "/team/transfer-ownership".to_owned(),
            vec![("user_id", carl_text.as_str())],
        ),
    ] {
        let res = carl.post(&path, &fields).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            res.body.contains("admins") || res.body.contains("owner"),
            "{path}"
        );
    }
    assert_eq!(team_state(&app).await, before);
    assert!(app.emails_to("eve@acme.test").await.is_empty());
}

#[tokio::test]
async fn admins_change_roles_but_never_the_owners() {
    let app = spawn_app().await;
    let (owner, acme) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let bob = join(&app, &owner, "Bob", "bob@acme.test", "admin").await;
    join(&app, &owner, "Carl", "carl@acme.test", "member").await;
    let (ada_id, bob_id, carl_id) = (
        user_id(&app, "ada@acme.test").await,
        user_id(&app, "bob@acme.test").await,
        user_id(&app, "carl@acme.test").await,
    );

    bob.get("/team").await;
    bob.post(
        &format!("/team/members/{carl_id}/role"),
        &[("role", "admin")],
    )
    .await
    .assert_redirect("/team");
    assert_eq!(
        membership(&app, "carl@acme.test").await,
        Some((acme, "admin".into()))
    );
    assert!(
        app.last_email_to("carl@acme.test")
            .await
            .subject
            .contains("now an admin")
    );
    let entry: (String, String) = sqlx::query_as(
        "select before->>'role', after->>'role' from audit_log where action = 'team.role_changed'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(entry, ("member".into(), "admin".into()));

    let before = team_state(&app).await;
    for (user, role, message) in [
        (ada_id, "member", "only when the owner transfers"),
        (carl_id, "owner", "Choose admin or member."),
        (bob_id, "member", "cannot change your own role"),
    ] {
        let res = bob
            .post(&format!("/team/members/{user}/role"), &[("role", role)])
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{user} {role}"
        );
        assert!(res.body.contains(message), "{message}: {}", res.snippet());
    }
    assert_eq!(team_state(&app).await, before);
    let owners: i64 =
        sqlx::query_scalar("select count(*) from partner_members where role = 'owner'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(owners, 1);
}

#[tokio::test]
async fn a_removed_member_keeps_the_account_and_session_but_loses_access() {
    let app = spawn_app().await;
    let (owner, acme) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let bob = join(&app, &owner, "Bob", "bob@acme.test", "admin").await;
    let carl = join(&app, &owner, "Carl", "carl@acme.test", "member").await;
    let ada_id = user_id(&app, "ada@acme.test").await;
    let carl_id = user_id(&app, "carl@acme.test").await;

    // The owner cannot be removed, not even by an admin.
    bob.get("/team").await;
    let res = bob
        .post(&format!("/team/members/{ada_id}/remove"), &[])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("owner cannot be removed"));

    bob.post(&format!("/team/members/{carl_id}/remove"), &[])
        .await
        .assert_redirect("/team");
    assert_eq!(membership(&app, "carl@acme.test").await, None);
    let email = app.last_email_to("carl@acme.test").await;
    assert!(email.subject.contains("no longer have access to Acme Corp"));
    let before: Option<String> = sqlx::query_scalar(
        "select before->>'email' from audit_log where action = 'team.member_removed' and partner_id = $1",
    )
    .bind(acme)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(before.as_deref(), Some("carl@acme.test"));

    // Still signed in, now a user without an organisation.
    carl.get("/team").await.assert_redirect("/dashboard");
    let home = carl.get("/dashboard").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Create your organisation") && !home.body.contains("Acme"));
    assert_eq!(
        carl.get("/audit").await.location.as_deref(),
        Some("/dashboard")
    );
}

#[tokio::test]
async fn the_owner_transfers_ownership_and_becomes_an_admin() {
    let app = spawn_app().await;
    let (owner, acme) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let bob = join(&app, &owner, "Bob", "bob@acme.test", "member").await;
    let ada_id = user_id(&app, "ada@acme.test").await;
    let bob_id = user_id(&app, "bob@acme.test").await;

    // An admin is not the owner.
    let carl = join(&app, &owner, "Carl", "carl@acme.test", "admin").await;
    let res = carl
        .post(
            "/team/transfer-ownership",
            &[("user_id", &bob_id.to_string())],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // Nor can the owner "transfer" to themselves.
    owner.get("/team").await;
    let res = owner
        .post(
            "/team/transfer-ownership",
            &[("user_id", &ada_id.to_string())],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

    owner
        .post(
            "/team/transfer-ownership",
            &[("user_id", &bob_id.to_string())],
        )
        .await
        .assert_redirect("/team");
    assert_eq!(
        membership(&app, "bob@acme.test").await,
        Some((acme, "owner".into()))
    );
    assert_eq!(
        membership(&app, "ada@acme.test").await,
        Some((acme, "admin".into()))
    );
    let owners: i64 = sqlx::query_scalar(
        "select count(*) from partner_members where partner_id = $1 and role = 'owner'",
    )
    .bind(acme)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(owners, 1);
    assert!(
        app.last_email_to("bob@acme.test")
            .await
            .subject
            .contains("now the owner of Acme Corp")
    );
    assert!(
        audit_actions(&app, acme)
            .await
            .contains(&"team.ownership_transferred".to_owned())
    );

    // The old owner can no longer transfer; the new one can.
    owner.get("/team").await;
    let res = owner
        .post(
            "/team/transfer-ownership",
            &[("user_id", &ada_id.to_string())],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let page = bob.get("/team").await;
    assert!(page.body.contains("Transfer ownership to"));
}

#[tokio::test]
async fn the_database_refuses_a_second_owner() {
    let app = spawn_app().await;
    let (owner, acme) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    join(&app, &owner, "Bob", "bob@acme.test", "admin").await;
    let bob_id = user_id(&app, "bob@acme.test").await;
    let second = sqlx::query(
        "update partner_members set role = 'owner' where partner_id = $1 and user_id = $2",
    )
    .bind(acme)
    .bind(bob_id)
    .execute(&app.pool)
    .await;
    let error = second.unwrap_err().to_string();
    assert!(error.contains("partner_members_one_owner"), "{error}");
}

#[tokio::test]
async fn members_leave_but_the_owner_must_transfer_first() {
    let app = spawn_app().await;
    let (owner, acme) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    let bob = join(&app, &owner, "Bob", "bob@acme.test", "member").await;

    owner.get("/team").await;
    let res = owner.post("/team/leave", &[]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("transfer the ownership"));
    assert_eq!(
        membership(&app, "ada@acme.test").await,
        Some((acme, "owner".into()))
    );

    bob.post("/team/leave", &[])
        .await
        .assert_redirect("/dashboard");
    assert_eq!(membership(&app, "bob@acme.test").await, None);
    assert!(
        audit_actions(&app, acme)
            .await
            .contains(&"team.member_left".to_owned())
    );
}

/// Organisation A (Acme) with a member and an open invitation, and the
/// owner of organisation B (Globex), who must find none of A's objects.
#[tokio::test]
async fn another_organisations_people_and_invitations_are_not_found_on_every_route() {
    let app = spawn_app().await;
    let (acme_owner, _) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    join(&app, &acme_owner, "Bob Acmeson", "bob@acme.test", "member").await;
    invite(&acme_owner, "dan@acme.test", "admin")
        .await
        .assert_redirect("/team");
    let (globex, _) = fixtures::organisation(&app, "Globex", "gina@globex.test").await;
    let a_people = [
        user_id(&app, "ada@acme.test").await,
        user_id(&app, "bob@acme.test").await,
    ];
    let a_invitation = invitation_id(&app, "dan@acme.test").await;
    let a_data = [
        "Acme",
        "ada@acme.test",
        "bob@acme.test",
        "Bob Acmeson",
        "dan@acme.test",
    ];
    let assert_clean = |res: &Page, what: &str| {
        for secret in a_data {
            assert!(!res.body.contains(secret), "{what} shows {secret}");
        }
    };

    let team = globex.get("/team").await;
    assert_eq!(team.status, StatusCode::OK);
    assert!(team.body.contains("gina@globex.test"));
    assert_clean(&team, "GET /team");
    for page in ["/team?members=2", "/team?invitations=2", "/audit"] {
        assert_clean(&globex.get(page).await, page);
    }
    globex.get("/team").await;

    let before = team_state(&app).await;
    let emails_before: i64 = sqlx::query_scalar("select count(*) from outbox_emails")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let mut routes = vec![
        (format!("/team/invitations/{a_invitation}/resend"), vec![]),
        (format!("/team/invitations/{a_invitation}/cancel"), vec![]),
    ];
    for id in a_people {
        routes.push((
            format!("/team/members/{id}/role"),
            vec![("role", "admin".to_owned())],
        ));
        routes.push((
            format!("/team/members/{id}/role"),
            vec![("role", "member".to_owned())],
        ));
        routes.push((format!("/team/members/{id}/remove"), vec![]));
        routes.push((
            "/team/transfer-ownership".to_owned(),
            vec![("user_id", id.to_string())],
        ));
    }
    // Ids that belong to nobody are not found either.
    routes.push(("/team/invitations/999999/resend".to_owned(), vec![]));
    routes.push(("/team/members/999999/remove".to_owned(), vec![]));
    for (path, fields) in &routes {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = globex.post(path, &fields).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path} {fields:?}");
        assert_clean(&res, path);
    }
    assert_eq!(team_state(&app).await, before, "nothing changed");
    let emails_after: i64 = sqlx::query_scalar("select count(*) from outbox_emails")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(emails_after, emails_before, "nobody was emailed");
    // A's invitation still works for its invitee.
    let dan = app.partner_user("Dan", "dan@acme.test").await;
    let link = invitation_link(&app, "dan@acme.test").await;
    assert!(dan.get(&link).await.body.contains("Join Acme Corp"));
}

#[tokio::test]
async fn the_team_page_lists_50_members_and_50_invitations_at_a_time() {
    let app = spawn_app().await;
    let (owner, acme) = fixtures::organisation(&app, "Acme Corp", "ada@acme.test").await;
    // The fixed form name works as well as /team/invitations.
    owner.get("/team").await;
    owner
        .post("/team", &[("email", "first@acme.test"), ("role", "member")])
        .await
        .assert_redirect("/team");
    sqlx::query(
        "with u as (insert into users (email, name, password_hash, email_verified_at)
                    select format('m%s@acme.test', g), format('Member %s', lpad(g::text, 2, '0')), '!', now()
                      from generate_series(1, 54) g returning id)
         insert into partner_members (partner_id, user_id, role) select $1, id, 'member' from u",
    )
    .bind(acme)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into partner_invitations (partner_id, email, role, token_hash, created_at, expires_at)
         select $1, format('i%s@acme.test', g), 'member', sha256(g::text::bytea), $2, $2 + interval '7 days'
           from generate_series(1, 54) g",
    )
    .bind(acme)
    .bind(app.clock.now())
    .execute(&app.pool)
    .await
    .unwrap();

    let first = owner.get("/team").await;
    assert!(first.body.contains("Page 1 of 2"));
    assert_eq!(
        first.body.matches("@acme.test</td>").count(),
        100,
        "50 members and 50 invitations"
    );
    assert!(
        first.body.contains("/team?members=2&amp;invitations=1")
            || first.body.contains("/team?members=2&#38;invitations=1")
    );
    let second = owner.get("/team?members=2&invitations=2").await;
    assert!(second.body.contains("Page 2 of 2"));
    // 55 members and 55 invitations in all.
    assert_eq!(second.body.matches("@acme.test</td>").count(), 10);
    assert!(second.body.contains("Member 54") && !second.body.contains("Member 01"));
}
