//! Confirming the email address: the "check your email" page with its
//! rate-limited "send again", and the emailed link itself.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::Duration;
use serde::Deserialize;

use crate::{
    accounts::{
        EmailAddress, emails,
        guard::{account_link, safe_next},
        session::{self, Visitor},
        throttle,
        tokens::{self, Purpose},
    },
    audit::{self, Actor},
    error::AppResult,
    mail::{self, Recipient},
    state::AppState,
    views::{Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup/check-email", get(check_email))
        .route("/verify-email/pending", get(pending))
        .route("/verify-email/resend", post(resend))
        .route("/verify-email", get(verify))
}

#[derive(Template)]
#[template(path = "accounts/check_email.html")]
pub struct CheckEmailPage {
    pub layout: Layout,
    pub email: String,
    pub message: Option<&'static str>,
    pub expired_link: bool,
}

#[derive(Deserialize)]
struct CheckEmailQuery {
    #[serde(default)]
    email: String,
    #[serde(default)]
    sent: Option<String>,
}

const RESENT: &str =
    "We sent the link again. It can take a minute to arrive; check your spam folder too.";
const WAIT: &str = "We already sent a link a moment ago. Please wait a minute before asking again.";

async fn check_email(visitor: Visitor, Query(q): Query<CheckEmailQuery>) -> Page<CheckEmailPage> {
    Page(CheckEmailPage {
        layout: Layout::for_visitor(&visitor, "Check your email", "signup"),
        email: q.email,
        message: match q.sent.as_deref() {
            Some("1") => Some(RESENT),
            Some("wait") => Some(WAIT),
            _ => None,
        },
        expired_link: false,
    })
}

/// Signed in but not yet verified: this is the only page they may see.
async fn pending(visitor: Visitor, Query(q): Query<CheckEmailQuery>) -> Response {
    let Some(user) = visitor.user() else {
        return Redirect::to("/login").into_response();
    };
    if user.email_verified {
        return Redirect::to("/dashboard").into_response();
    }
    Page(CheckEmailPage {
        layout: Layout::for_visitor(&visitor, "Confirm your email address", ""),
        email: user.email.clone(),
        message: match q.sent.as_deref() {
            Some("1") => Some(RESENT),
            Some("wait") => Some(WAIT),
            _ => None,
        },
        expired_link: false,
    })
    .into_response()
}

#[derive(Deserialize)]
struct ResendForm {
    #[serde(default)]
    email: String,
}

/// Sends the link again: at most once a minute and five times an hour per
/// address, and the same answer whether or not the address has an account.
async fn resend(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<ResendForm>,
) -> AppResult<Response> {
    let back = |sent: &str, email: &str| {
        let email = url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>();
        if visitor.user().is_some() {
            Redirect::to(&format!("/verify-email/pending?sent={sent}")).into_response()
        } else {
            Redirect::to(&format!("/signup/check-email?email={email}&sent={sent}")).into_response()
        }
    };
    let typed = visitor
        .user()
        .map_or(form.email.clone(), |u| u.email.clone());
    let Ok(email) = EmailAddress::parse(&typed) else {
        return Ok(back("1", &typed));
    };
    let now = state.clock.now();
    let key = format!("verify-resend:{}", email.normalized());
    let mut tx = crate::db::begin(&state.pool).await?;
    let last_minute = throttle::count(&mut tx, now, &key, Duration::minutes(1)).await?;
    let last_hour = throttle::count(&mut tx, now, &key, Duration::hours(1)).await?;
    if last_minute > 0 || last_hour >= 5 {
        return Ok(back("wait", email.as_str()));
    }
    throttle::record(&mut tx, now, &key).await?;
    let user = sqlx::query!(
        "select id, email, name from users where lower(email) = $1 and email_verified_at is null and disabled_at is null",
        email.normalized()
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(user) = user {
        let token = tokens::issue(&mut tx, now, user.id, Purpose::VerifyEmail).await?;
        let notice = emails::verify_email(&state.config, &user.name, &token, None);
        mail::enqueue(
            &mut tx,
            now,
            &Recipient::new(user.email, &user.name),
            &notice,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(back("1", email.as_str()))
}

#[derive(Deserialize)]
struct VerifyQuery {
    #[serde(default)]
    token: String,
    /// Where to go once signed in (carried from the sign-up form).
    next: Option<String>,
}

async fn verify(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<VerifyQuery>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let mut tx = crate::db::begin(&state.pool).await?;
    let Some(user_id) = tokens::consume(&mut tx, now, &q.token, Purpose::VerifyEmail).await? else {
        tx.rollback().await?;
        return Ok(Page(CheckEmailPage {
            layout: Layout::for_visitor(&visitor, "This link no longer works", ""),
            email: visitor.user().map(|u| u.email.clone()).unwrap_or_default(),
            message: None,
            expired_link: true,
        })
        .into_response());
    };
    let email = sqlx::query_scalar!(
        "update users set email_verified_at = coalesce(email_verified_at, $2) where id = $1 returning email",
        user_id,
        now
    )
    .fetch_one(&mut *tx)
    .await?;
    let actor = Actor {
        user_id: Some(user_id),
        label: email.clone(),
        ip: visitor.ip,
    };
    audit::record(
        &mut tx,
        now,
        &actor,
        audit::Entry {
            action: "account.email_verified",
            subject: Some(("user", user_id)),
            ..Default::default()
        },
    )
    .await?;
    let signed_in_here = visitor.session.as_ref().filter(|s| s.user.id == user_id);
    if let Some(s) = signed_in_here {
        session::set_flash(
            &mut tx,
            s.id,
            "Your email address is confirmed. Welcome to the Partner Portal!",
        )
        .await?;
    }
    tx.commit().await?;
    let next = safe_next(q.next.as_deref());
    Ok(match (signed_in_here, next) {
        (Some(_), next) => Redirect::to(next.as_deref().unwrap_or("/dashboard")).into_response(),
        // Signed out: sign in with the address just confirmed already filled in.
        (None, next) => {
            let login = account_link("/login", next.as_deref().unwrap_or_default(), &email);
            let query = login.strip_prefix("/login?").unwrap_or_default();
            Redirect::to(&format!("/login?notice=verified&{query}")).into_response()
        }
    })
}
