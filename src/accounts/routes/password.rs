//! Forgotten passwords (`/password/forgot`, `/password/reset`) and changing
//! one while signed in (`POST /account/password`).

use askama::Template;
use axum::{
    Form, Router,
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use chrono::Duration;
use secrecy::SecretString;
use serde::Deserialize;

use crate::{
    accounts::{
        EmailAddress, NewPassword, emails,
        password::NO_PASSWORD,
        session::{self, Visitor},
        throttle,
        tokens::{self, Purpose},
    },
    audit::{self, Actor},
    error::{AppError, AppResult},
    mail::{self, Recipient},
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/password/forgot", get(show_forgot).post(submit_forgot))
        .route("/password/reset", get(show_reset).post(submit_reset))
}

#[derive(Template)]
#[template(path = "accounts/forgot.html")]
pub struct ForgotPage {
    pub layout: Layout,
    pub email: String,
    pub sent: bool,
    pub errors: FormErrors,
}

async fn show_forgot(visitor: Visitor) -> Page<ForgotPage> {
    Page(ForgotPage {
        layout: Layout::for_visitor(&visitor, "Reset your password", "login"),
        email: String::new(),
        sent: false,
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// The same answer whether or not the address has an account.
#[tracing::instrument(skip_all)]
async fn submit_forgot(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<ForgotForm>,
) -> AppResult<Response> {
    let mut errors = FormErrors::default();
    let Some(email) = errors.check("email", EmailAddress::parse(&form.email)) else {
        return Ok(Invalid(ForgotPage {
            layout: Layout::for_visitor(&visitor, "Reset your password", "login"),
            email: form.email,
            sent: false,
            errors,
        })
        .into_response());
    };
    let now = state.clock.now();
    let key = format!("password-reset:{}", email.normalized());
    let mut tx = crate::db::begin(&state.pool).await?;
    // At most three links an hour per address; the page says "sent" regardless.
    if throttle::count(&mut tx, now, &key, Duration::hours(1)).await? < 3 {
        throttle::record(&mut tx, now, &key).await?;
        let user = sqlx::query!(
            "select id, email, name from users where lower(email) = $1 and disabled_at is null",
            email.normalized()
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(user) = user {
            let token = tokens::issue(&mut tx, now, user.id, Purpose::ResetPassword).await?;
            let notice = emails::password_reset(&state.config, &user.name, &token);
            mail::enqueue(
                &mut tx,
                now,
                &Recipient::new(user.email.clone(), &user.name),
                &notice,
            )
            .await?;
            let actor = Actor {
                user_id: Some(user.id),
                label: user.email,
                ip: visitor.ip,
            };
            audit::record(
                &mut tx,
                now,
                &actor,
                audit::Entry {
                    action: "password.reset_requested",
                    subject: Some(("user", user.id)),
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(Page(ForgotPage {
        layout: Layout::for_visitor(&visitor, "Check your email", "login"),
        email: email.to_string(),
        sent: true,
        errors: FormErrors::default(),
    })
    .into_response())
}

#[derive(Template)]
#[template(path = "accounts/reset.html")]
pub struct ResetPage {
    pub layout: Layout,
    pub token: String,
    pub valid: bool,
    pub errors: FormErrors,
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// Shows the form without using up the token (mail scanners open links).
async fn show_reset(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    let mut conn = state.pool.acquire().await?;
    let valid = tokens::peek(
        &mut conn,
        state.clock.now(),
        &q.token,
        Purpose::ResetPassword,
    )
    .await?
    .is_some();
    Ok(Page(ResetPage {
        layout: Layout::for_visitor(&visitor, "Choose a new password", "login"),
        token: q.token,
        valid,
        errors: FormErrors::default(),
    })
    .into_response())
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

#[tracing::instrument(skip_all)]
async fn submit_reset(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<ResetForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let owner = match tokens::peek(&mut tx, now, &form.token, Purpose::ResetPassword).await? {
        Some(id) => sqlx::query!("select id, email, name from users where id = $1", id)
            .fetch_one(&mut *tx)
            .await
            .ok(),
        None => None,
    };
    let Some(owner) = owner else {
        return Ok(Page(ResetPage {
            layout: Layout::for_visitor(&visitor, "This link no longer works", "login"),
            token: String::new(),
            valid: false,
            errors: FormErrors::default(),
        })
        .into_response());
    };
    let mut errors = FormErrors::default();
    let Some(password) = errors.check(
        "password",
        NewPassword::parse(&form.password, &[&owner.email, &owner.name]),
    ) else {
        return Ok(Invalid(ResetPage {
            layout: Layout::for_visitor(&visitor, "Choose a new password", "login"),
            token: form.token,
            valid: true,
            errors,
        })
        .into_response());
    };
    let hash = state
        .passwords
        .hash(&password)
        .await
        .map_err(AppError::internal)?;
    if tokens::consume(&mut tx, now, &form.token, Purpose::ResetPassword)
        .await?
        .is_none()
    {
        return Err(AppError::BadRequest("reset token used concurrently".into()));
    }
    // Following the emailed link proves the address too.
    sqlx::query!(
        "update users set password_hash = $2, email_verified_at = coalesce(email_verified_at, $3) where id = $1",
        owner.id,
        hash,
        now
    )
    .execute(&mut *tx)
    .await?;
    let ended = session::end_all_except(&mut tx, owner.id, None).await?;
    let actor = Actor {
        user_id: Some(owner.id),
        label: owner.email.clone(),
        ip: visitor.ip,
    };
    audit::record(
        &mut tx,
        now,
        &actor,
        audit::Entry {
            action: "password.reset",
            subject: Some(("user", owner.id)),
            after: Some(serde_json::json!({ "sessions_ended": ended })),
            ..Default::default()
        },
    )
    .await?;
    let notice = emails::password_changed(&state.config, &owner.name);
    mail::enqueue(
        &mut tx,
        now,
        &Recipient::new(owner.email, &owner.name),
        &notice,
    )
    .await?;
    tx.commit().await?;
    // No automatic sign-in: the person signs in with the new password.
    let mut res = Redirect::to("/login?notice=password_reset").into_response();
    res.headers_mut().insert(
        axum::http::header::SET_COOKIE,
        session::clear_session_cookie(&state.config),
    );
    Ok(res)
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    pub current_password: String,
    #[serde(default)]
    pub new_password: String,
}

/// Changes the password of a signed-in person: the current one is asked
/// for (unless they have none yet: signed up with GitLab, they set one);
/// every other session ends.
pub async fn change(
    state: &AppState,
    signed_in: &crate::accounts::guard::SignedIn,
    form: ChangeForm,
) -> AppResult<Result<(), FormErrors>> {
    let user = signed_in.user();
    let mut errors = FormErrors::default();
    let stored = sqlx::query_scalar!("select password_hash from users where id = $1", user.id)
        .fetch_one(&state.pool)
        .await?;
    let had_password = stored != NO_PASSWORD;
    if had_password
        && !state
            .passwords
            .verify(SecretString::from(form.current_password), Some(stored))
            .await
    {
        errors.add("current_password", "That is not your current password.");
    }
    let new = errors.check(
        "new_password",
        NewPassword::parse(&form.new_password, &[&user.email, &user.name]),
    );
    let (true, Some(new)) = (errors.is_empty(), new) else {
        return Ok(Err(errors));
    };
    let hash = state
        .passwords
        .hash(&new)
        .await
        .map_err(AppError::internal)?;
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    sqlx::query!(
        "update users set password_hash = $2 where id = $1",
        user.id,
        hash
    )
    .execute(&mut *tx)
    .await?;
    let ended = session::end_all_except(&mut tx, user.id, Some(signed_in.session.id)).await?;
    audit::record(
        &mut tx,
        now,
        &signed_in.actor(),
        audit::Entry {
            action: if had_password {
                "password.changed"
            } else {
                "password.set"
            },
            subject: Some(("user", user.id)),
            after: Some(serde_json::json!({ "sessions_ended": ended })),
            ..Default::default()
        },
    )
    .await?;
    let notice = emails::password_changed(&state.config, &user.name);
    mail::enqueue(
        &mut tx,
        now,
        &Recipient::new(user.email.clone(), &user.name),
        &notice,
    )
    .await?;
    session::set_flash(
        &mut tx,
        signed_in.session.id,
        if had_password {
            "Your password has been changed. Other sessions were signed out."
        } else {
            "Your password is set: you can sign in with it as well as with GitLab."
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}
