//! What a finished sign-in with GitLab does with the person GitLab vouched
//! for: sign in the portal user linked to them, sign up a new one, or link
//! them to the signed-in user. Never sign into an account that is not
//! linked, whatever the address (that would hand the account to whoever
//! controls a GitLab account with the same address); never a staff
//! account. Sessions are made exactly as a password sign-in makes them
//! ([`session::create`]: a new ID, the same idle and absolute limits).

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::gitlab::{Refusal, gitlab_actor, staff_refusal};
use crate::{
    accounts::{
        EmailAddress, emails, gitlab_flow,
        identity::{self, Linked},
        password::NO_PASSWORD,
        session::{self, Visitor},
        staff::parse_name,
        tokens::{self, Purpose},
    },
    audit::{self, Actor},
    error::AppResult,
    gitlab::GitLabPerson,
    mail::{self, Recipient},
    namespaces::proof,
    state::AppState,
};

/// Signs in the portal user linked to `person`, or signs up a new one.
pub async fn sign_in(
    state: &AppState,
    visitor: &Visitor,
    person: &GitLabPerson,
    next: Option<&str>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let user_id = match identity::user_of(&mut tx, person.id).await? {
        Some(user_id) => user_id,
        None => match sign_up(&mut tx, state, visitor, person, now, next).await? {
            Ok(user_id) => user_id,
            Err(refusal) => {
                tx.commit().await?;
                return Ok(refusal.respond(state, visitor));
            }
        },
    };
    let user = sqlx::query!(
        r#"select email, staff_role, disabled_at is not null as "disabled!",
                  email_verified_at is not null as "verified!"
             from users where id = $1"#,
        user_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let actor = Actor {
        user_id: Some(user_id),
        label: user.email.clone(),
        ip: visitor.ip,
    };
    if user.staff_role.is_some() || user.disabled {
        let reason = if user.disabled {
            "the account is disabled"
        } else {
            "staff accounts sign in with a password and a second factor"
        };
        refused(&mut tx, now, &actor, Some(user_id), reason).await?;
        tx.commit().await?;
        let refusal = if user.disabled {
            Refusal::new(
                "This account is disabled",
                "The portal account linked to this GitLab account is disabled. Contact the alliance team.",
            )
        } else {
            staff_refusal()
        };
        return Ok(refusal.respond(state, visitor));
    }
    identity::refresh(&mut tx, person, now).await?;
    // A fresh session ID at every sign-in; the old one (if any) ends.
    if let Some(old) = visitor.session_id() {
        sqlx::query!("delete from sessions where id = $1", old)
            .execute(&mut *tx)
            .await?;
    }
    let new = session::create(&mut tx, &state.config, now, user_id, false, visitor).await?;
    audit::record(
        &mut tx,
        now,
        &actor,
        audit::Entry {
            action: "sign_in.gitlab",
            subject: Some(("user", user_id)),
            after: Some(serde_json::json!({
                "gitlab_user_id": person.id,
                "username": person.username,
            })),
            ..Default::default()
        },
    )
    .await?;
    let proven = proof::on_sign_in(&mut tx, &state.config, now, &actor, user_id).await?;
    if !proven.is_empty() {
        session::set_flash(&mut tx, new.id, &proven_message(&proven, person)).await?;
    }
    tx.commit().await?;
    if !proven.is_empty() {
        state.directory.invalidate();
    }
    let to = if user.verified {
        next.unwrap_or("/dashboard")
    } else {
        "/verify-email/pending"
    };
    let mut res = Redirect::to(to).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        session::session_cookie(&state.config, &new.token),
    );
    res.headers_mut()
        .append(header::SET_COOKIE, gitlab_flow::cookie(&state.config, None));
    Ok(res)
}

/// A new portal user for a GitLab account linked to nobody: the address
/// from GitLab, verified only if GitLab says so (else confirmed by email as
/// at any sign-up), no password (one can be set on `/account`). An address
/// that already has an account is refused: linking needs its owner signed in.
async fn sign_up(
    tx: &mut PgConnection,
    state: &AppState,
    visitor: &Visitor,
    person: &GitLabPerson,
    now: DateTime<Utc>,
    next: Option<&str>,
) -> AppResult<Result<i64, Refusal>> {
    let actor = gitlab_actor(visitor, None, person);
    let Some(email) = person
        .email
        .as_deref()
        .and_then(|e| EmailAddress::parse(e).ok())
    else {
        refused(
            tx,
            now,
            &actor,
            None,
            "GitLab shared no usable email address",
        )
        .await?;
        return Ok(Err(Refusal::new(
            "GitLab did not share an email address",
            "The portal needs an email address to create your account, and GitLab did not share one. Create an account with your email address instead; you can link GitLab to it afterwards.",
        )
        .actions(vec![("/signup", "Create an account")])));
    };
    let name = parse_name(&person.name)
        .or_else(|_| parse_name(&person.username))
        .unwrap_or_else(|_| person.username.chars().take(100).collect());
    let verified_at = person.email_verified.then_some(now);
    let inserted = sqlx::query_scalar!(
        "insert into users (email, name, password_hash, email_verified_at, created_at)
         values ($1, $2, $3, $4, $5)
         on conflict ((lower(email))) do nothing returning id",
        email.as_str(),
        name,
        NO_PASSWORD,
        verified_at,
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user_id) = inserted else {
        let owner = sqlx::query_scalar!(
            "select id from users where lower(email) = $1",
            email.normalized()
        )
        .fetch_optional(&mut *tx)
        .await?;
        refused(
            tx,
            now,
            &actor,
            owner,
            "the address belongs to an account not linked to this GitLab account",
        )
        .await?;
        return Ok(Err(takeover_refusal(email.as_str())));
    };
    if identity::link(tx, user_id, person, now).await? != Linked::New {
        // Linked to someone else in the meantime: nothing of this stays.
        return Err(crate::error::AppError::Conflict(
            "This GitLab account was linked at the same moment. Try again.".into(),
        ));
    }
    if !person.email_verified {
        let token = tokens::issue(tx, now, user_id, Purpose::VerifyEmail).await?;
        let notice = emails::verify_email(&state.config, &name, &token, next);
        mail::enqueue(tx, now, &Recipient::new(email.as_str(), &name), &notice).await?;
    }
    let actor = gitlab_actor(visitor, Some(user_id), person);
    for (action, after) in [
        (
            "account.signed_up",
            serde_json::json!({
                "email": email.as_str(), "name": name, "via": "gitlab",
                "email_verified_by_gitlab": person.email_verified,
            }),
        ),
        (
            "account.gitlab_linked",
            serde_json::json!({ "gitlab_user_id": person.id, "username": person.username }),
        ),
    ] {
        audit::record(
            tx,
            now,
            &actor,
            audit::Entry {
                action,
                subject: Some(("user", user_id)),
                after: Some(after),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(Ok(user_id))
}

/// The account-takeover case, explained.
fn takeover_refusal(email: &str) -> Refusal {
    Refusal::new(
        "An account with this email address already exists",
        format!("The portal already has an account for {email}, and it is not linked to this GitLab account. For your safety, signing in with GitLab does not open an account it is not linked to."),
    )
    .also("If the account is yours: sign in with its password, open “Your account” and choose “Link your GitLab account”. From then on, “Sign in with GitLab” opens it.")
    .also("Forgot the password? Reset it from the sign-in page.")
    .status(StatusCode::CONFLICT)
    .actions(vec![
        ("/login", "Sign in with your password"),
        ("/password/forgot", "Reset your password"),
    ])
}

/// Links `person` to the signed-in user who started the flow.
pub async fn link(
    state: &AppState,
    visitor: &Visitor,
    user_id: i64,
    session_id: i64,
    person: &GitLabPerson,
    next: Option<&str>,
) -> AppResult<Response> {
    let same_session = visitor
        .session
        .as_ref()
        .is_some_and(|s| s.id == session_id && s.user.id == user_id);
    if !same_session {
        return Ok(Refusal::new(
            "Nothing was linked",
            "You signed out, or signed in as someone else, while GitLab was asking. Sign in again and link from your account page.",
        )
        .actions(vec![("/login", "Sign in")])
        .respond(state, visitor));
    }
    let Some(session) = visitor.session.as_ref() else {
        unreachable!("checked above");
    };
    if session.user.is_staff() {
        return Ok(staff_refusal().respond(state, visitor));
    }
    let now = state.clock.now();
    let actor = Actor {
        user_id: Some(user_id),
        label: session.user.email.clone(),
        ip: visitor.ip,
    };
    let mut tx = crate::db::begin(&state.pool).await?;
    let linked = identity::link(&mut tx, user_id, person, now).await?;
    let refusal = match linked {
        Linked::TakenByAnotherUser => Some(Refusal::new(
            "This GitLab account is linked to another portal account",
            format!(
                "@{} is already linked to another account on the portal. One GitLab account can be linked to one portal account only: unlink it there first.",
                person.username
            ),
        )),
        Linked::UserHasAnother => Some(Refusal::new(
            "Your account is linked to another GitLab account",
            "Unlink the GitLab account on your account page first, then link this one.",
        )),
        Linked::New | Linked::Refreshed => None,
    };
    if let Some(refusal) = refusal {
        refused(&mut tx, now, &actor, Some(user_id), refusal.heading).await?;
        tx.commit().await?;
        return Ok(refusal
            .actions(vec![("/account", "Your account")])
            .respond(state, visitor));
    }
    audit::record(
        &mut tx,
        now,
        &actor,
        audit::Entry {
            action: if linked == Linked::New {
                "account.gitlab_linked"
            } else {
                "account.gitlab_refreshed"
            },
            subject: Some(("user", user_id)),
            after: Some(serde_json::json!({
                "gitlab_user_id": person.id,
                "username": person.username,
            })),
            ..Default::default()
        },
    )
    .await?;
    let proven = proof::on_sign_in(&mut tx, &state.config, now, &actor, user_id).await?;
    let mut message = if linked == Linked::New {
        format!(
            "Your GitLab account @{} is linked: you can sign in with GitLab from now on.",
            person.username
        )
    } else {
        format!("GitLab confirmed your account @{} again.", person.username)
    };
    if !proven.is_empty() {
        message = format!("{message} {}", proven_message(&proven, person));
    }
    session::set_flash(&mut tx, session_id, &message).await?;
    tx.commit().await?;
    if !proven.is_empty() {
        state.directory.invalidate();
    }
    let mut res = Redirect::to(next.unwrap_or("/account")).into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, gitlab_flow::cookie(&state.config, None));
    Ok(res)
}

fn proven_message(urls: &[String], person: &GitLabPerson) -> String {
    format!(
        "Ownership proven by @{} on GitLab: {} {} verified.",
        person.username,
        urls.join(", "),
        if urls.len() == 1 { "is" } else { "are" }
    )
}

/// A sign-in or link with GitLab refused after GitLab vouched for the
/// person: audited with the reason.
async fn refused(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    user_id: Option<i64>,
    reason: &str,
) -> AppResult<()> {
    audit::record(
        tx,
        now,
        actor,
        audit::Entry {
            action: "sign_in.gitlab_refused",
            subject: user_id.map(|id| ("user", id)),
            after: Some(serde_json::json!({ "reason": reason })),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}
