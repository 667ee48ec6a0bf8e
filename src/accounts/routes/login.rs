//! `GET,POST /login` and `POST /logout`. Failures are counted per account
//! (email address) and per client address (behind trusted proxies, the
//! client's own: `http::client_addr`) in the database; an unknown account
//! and a wrong password get the same answer after the same work.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use secrecy::SecretString;
use serde::Deserialize;

use super::gitlab;
use crate::{
    accounts::{
        emails,
        guard::{account_link, prefill_email, safe_next},
        login_limits::{MAX_FAILURES, MAX_FAILURES_PER_ADDRESS, WINDOW},
        password::NO_PASSWORD,
        session::{self, Visitor},
        throttle,
    },
    audit::{self, Actor},
    error::AppResult,
    mail::{self, Recipient},
    state::AppState,
    views::{FormErrors, Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(show).post(submit))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
pub struct LoginPage {
    pub layout: Layout,
    pub email: String,
    pub next: String,
    pub notice: Option<&'static str>,
    pub error: Option<&'static str>,
    pub errors: FormErrors,
    /// "Sign in with GitLab", when configured.
    pub gitlab_href: Option<String>,
}

impl LoginPage {
    /// The sign-up link, carrying `next`.
    pub fn signup_href(&self) -> String {
        account_link("/signup", &self.next, "")
    }
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    /// Filled in from an invitation or a confirmation link.
    email: Option<String>,
    notice: Option<String>,
}

fn notice_text(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "verified" => Some("Your email address is confirmed. Sign in to continue."),
        "password_reset" => Some("Your password has been changed. Sign in with your new password."),
        "signed_out" => Some("You have been signed out."),
        "invitation_accepted" => {
            Some("Your password is set. Sign in to finish setting up your account.")
        }
        "second_factor_failed" => Some("Too many wrong codes. Sign in again to get a fresh start."),
        _ => None,
    }
}

async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<LoginQuery>,
) -> Response {
    if let Some(user) = visitor.user()
        && !visitor
            .session
            .as_ref()
            .is_some_and(|s| s.second_factor_pending)
    {
        let home = if user.is_staff() {
            "/admin"
        } else {
            "/dashboard"
        };
        return Redirect::to(home).into_response();
    }
    let next = safe_next(q.next.as_deref()).unwrap_or_default();
    Page(LoginPage {
        layout: Layout::for_visitor(&visitor, "Sign in", "login"),
        email: prefill_email(q.email.as_deref()),
        gitlab_href: gitlab::button_href(&state.config, &next),
        next,
        notice: notice_text(q.notice.as_deref()),
        error: None,
        errors: FormErrors::default(),
    })
    .into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

const WRONG: &str = "The email address or password is not right. Check both and try again.";
const PAUSED: &str = "Too many failed attempts to sign in. Sign-in is paused for 15 minutes; you can reset your password meanwhile.";

#[tracing::instrument(skip_all)]
async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let email = form.email.trim().to_lowercase();
    let email_key = format!("login:email:{email}");
    let ip_key = format!(
        "login:ip:{}",
        visitor.ip.map(|ip| ip.to_string()).unwrap_or_default()
    );
    let refuse = |error: &'static str, status: StatusCode| {
        let next = safe_next(Some(&form.next)).unwrap_or_default();
        let page = LoginPage {
            layout: Layout::for_visitor(&visitor, "Sign in", "login"),
            email: form.email.clone(),
            gitlab_href: gitlab::button_href(&state.config, &next),
            next,
            notice: None,
            error: Some(error),
            errors: FormErrors::default(),
        };
        (status, Page(page)).into_response()
    };

    let mut conn = state.pool.acquire().await?;
    let by_email = throttle::count(&mut conn, now, &email_key, WINDOW).await?;
    let by_ip = throttle::count(&mut conn, now, &ip_key, WINDOW).await?;
    if by_email >= MAX_FAILURES || by_ip >= MAX_FAILURES_PER_ADDRESS {
        let limit = if by_email >= MAX_FAILURES {
            "account"
        } else {
            "address"
        };
        state.metrics.sign_in_refused(limit);
        return Ok(refuse(PAUSED, StatusCode::TOO_MANY_REQUESTS));
    }
    drop(conn);

    let user = sqlx::query!(
        "select id, email, name, password_hash, staff_role, email_verified_at is not null as \"verified!\"
           from users where lower(email) = $1 and disabled_at is null",
        email
    )
    .fetch_optional(&state.pool)
    .await?;
    let password = SecretString::from(form.password.clone());
    let ok = state
        .passwords
        .verify(
            password,
            // No password (signed up with GitLab): as slow a "no" as an unknown address.
            user.as_ref()
                .map(|u| u.password_hash.clone())
                .filter(|h| h != NO_PASSWORD),
        )
        .await;

    let mut tx = crate::db::begin(&state.pool).await?;
    let Some(user) = user.filter(|_| ok) else {
        throttle::record(&mut tx, now, &email_key).await?;
        throttle::record(&mut tx, now, &ip_key).await?;
        let failures = by_email + 1;
        let known = sqlx::query!(
            "select id, email, name from users where lower(email) = $1",
            email
        )
        .fetch_optional(&mut *tx)
        .await?;
        let actor = Actor {
            user_id: known.as_ref().map(|u| u.id),
            label: email.clone(),
            ip: visitor.ip,
        };
        audit::record(
            &mut tx,
            now,
            &actor,
            audit::Entry {
                action: "sign_in.failed",
                subject: known.as_ref().map(|u| ("user", u.id)),
                ..Default::default()
            },
        )
        .await?;
        if failures == MAX_FAILURES
            && let Some(owner) = known
        {
            let notice = emails::account_locked(&state.config, &owner.name, WINDOW.num_minutes());
            mail::enqueue(
                &mut tx,
                now,
                &Recipient::new(owner.email, &owner.name),
                &notice,
            )
            .await?;
            audit::record(
                &mut tx,
                now,
                &actor,
                audit::Entry {
                    action: "account.locked",
                    subject: Some(("user", owner.id)),
                    ..Default::default()
                },
            )
            .await?;
        }
        tx.commit().await?;
        state.metrics.sign_in_failures.inc();
        if failures == MAX_FAILURES {
            state.metrics.account_locks.inc();
        }
        return Ok(refuse(WRONG, StatusCode::UNPROCESSABLE_ENTITY));
    };

    // A fresh session ID at every sign-in; the old one (if any) ends.
    if let Some(old) = visitor.session_id() {
        sqlx::query!("delete from sessions where id = $1", old)
            .execute(&mut *tx)
            .await?;
    }
    let is_staff = user.staff_role.is_some();
    let new = session::create(&mut tx, &state.config, now, user.id, is_staff, &visitor).await?;
    throttle::clear(&mut tx, &email_key).await?;
    let actor = Actor {
        user_id: Some(user.id),
        label: user.email.clone(),
        ip: visitor.ip,
    };
    audit::record(
        &mut tx,
        now,
        &actor,
        audit::Entry {
            action: if is_staff {
                "sign_in.password_ok"
            } else {
                "sign_in.succeeded"
            },
            subject: Some(("user", user.id)),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;

    let next = safe_next(Some(&form.next));
    let to = if is_staff {
        match next {
            Some(n) => format!(
                "/login/second-factor?next={}",
                url::form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>()
            ),
            None => "/login/second-factor".to_owned(),
        }
    } else if !user.verified {
        "/verify-email/pending".to_owned()
    } else {
        next.unwrap_or_else(|| "/dashboard".to_owned())
    };
    let mut res = Redirect::to(&to).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        session::session_cookie(&state.config, &new.token),
    );
    Ok(res)
}

async fn logout(State(state): State<AppState>, visitor: Visitor) -> AppResult<Response> {
    if let Some(s) = &visitor.session {
        let now = state.clock.now();
        let mut tx = crate::db::begin(&state.pool).await?;
        session::end(&mut tx, s.user.id, s.id).await?;
        let actor = Actor {
            user_id: Some(s.user.id),
            label: s.user.email.clone(),
            ip: visitor.ip,
        };
        audit::record(
            &mut tx,
            now,
            &actor,
            audit::Entry {
                action: "session.signed_out",
                subject: Some(("session", s.id)),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
    }
    let mut res = Redirect::to("/login?notice=signed_out").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        session::clear_session_cookie(&state.config),
    );
    Ok(res)
}
