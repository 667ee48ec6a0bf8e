//! `GET,POST /login/second-factor`: staff finish signing in with a code from
//! their authenticator app or a recovery code. At the first sign-in they
//! enrol: the secret as a QR code and as text, then recovery codes shown once.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::{
    accounts::{
        guard::safe_next,
        login_limits,
        session::{self, Visitor},
        throttle, totp, totp_secrets,
    },
    audit::{self, Actor},
    error::{AppError, AppResult},
    state::AppState,
    views::{Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/login/second-factor", get(show).post(submit))
}

#[derive(Template)]
#[template(path = "accounts/second_factor.html")]
pub struct SecondFactorPage {
    pub layout: Layout,
    pub enrolling: bool,
    pub secret: String,
    pub qr: String,
    pub next: String,
    pub error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "accounts/recovery_codes.html")]
pub struct RecoveryCodesPage {
    pub layout: Layout,
    pub codes: Vec<String>,
    pub next: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

struct Pending {
    user_id: i64,
    email: String,
    secret: Zeroizing<String>,
    enrolled: bool,
    last_step: Option<i64>,
}

async fn pending_user(state: &AppState, visitor: &Visitor) -> AppResult<Option<Pending>> {
    let Some(s) = visitor.session.as_ref().filter(|s| s.second_factor_pending) else {
        return Ok(None);
    };
    let row = sqlx::query!(
        "select id, email, totp_secret, totp_secret_sealed,
                totp_enrolled_at is not null as \"enrolled!\", totp_last_step
           from users where id = $1",
        s.user.id
    )
    .fetch_one(&state.pool)
    .await?;
    let secret = totp_secrets::read(
        &state.secrets,
        row.id,
        row.totp_secret_sealed.as_deref(),
        row.totp_secret.as_deref(),
    )
    .map_err(|e| AppError::internal(format!("TOTP secret of user {}: {e}", row.id)))?;
    Ok(secret.map(|secret| Pending {
        user_id: row.id,
        email: row.email,
        secret,
        enrolled: row.enrolled,
        last_step: row.totp_last_step,
    }))
}

fn page(
    visitor: &Visitor,
    p: &Pending,
    next: String,
    error: Option<&'static str>,
) -> SecondFactorPage {
    SecondFactorPage {
        layout: Layout::for_visitor(
            visitor,
            if p.enrolled {
                "Enter your code"
            } else {
                "Set up two-factor sign-in"
            },
            "login",
        ),
        enrolling: !p.enrolled,
        qr: if p.enrolled {
            String::new()
        } else {
            totp::qr_data_url(&p.secret, &p.email).unwrap_or_default()
        },
        secret: if p.enrolled {
            String::new()
        } else {
            p.secret.to_string()
        },
        next,
        error,
    }
}

async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    let Some(p) = pending_user(&state, &visitor).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    Ok(Page(page(
        &visitor,
        &p,
        safe_next(q.next.as_deref()).unwrap_or_default(),
        None,
    ))
    .into_response())
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

const WRONG_CODE: &str = "That code is not right. Enter the 6-digit code your app shows now, or one of your recovery codes.";

#[tracing::instrument(skip_all)]
async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let Some(p) = pending_user(&state, &visitor).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let pending_session = visitor.session_id().expect("a pending session");
    let now = state.clock.now();
    let next = safe_next(Some(&form.next));
    let key = format!("second-factor:{}", p.user_id);
    let actor = Actor {
        user_id: Some(p.user_id),
        label: p.email.clone(),
        ip: visitor.ip,
    };
    let mut tx = crate::db::begin(&state.pool).await?;

    if throttle::count(&mut tx, now, &key, login_limits::WINDOW).await?
        >= login_limits::MAX_FAILURES
    {
        session::end(&mut tx, p.user_id, pending_session).await?;
        tx.commit().await?;
        let mut res = Redirect::to("/login?notice=second_factor_failed").into_response();
        res.headers_mut().insert(
            header::SET_COOKIE,
            session::clear_session_cookie(&state.config),
        );
        return Ok(res);
    }

    let code = form.code.trim();
    let mut accepted = false;
    if let Some(step) = totp::accepted_step(&p.secret, code, now, p.last_step) {
        sqlx::query!(
            "update users set totp_last_step = $2 where id = $1",
            p.user_id,
            step
        )
        .execute(&mut *tx)
        .await?;
        accepted = true;
    } else if p.enrolled && code.len() >= 10 {
        let used = sqlx::query!(
            "update recovery_codes set used_at = $3 where user_id = $1 and code_hash = $2 and used_at is null",
            p.user_id,
            totp::recovery_code_hash(code),
            now
        )
        .execute(&mut *tx)
        .await?;
        accepted = used.rows_affected() == 1;
        if accepted {
            audit::record(
                &mut tx,
                now,
                &actor,
                audit::Entry {
                    action: "second_factor.recovery_code_used",
                    subject: Some(("user", p.user_id)),
                    ..Default::default()
                },
            )
            .await?;
        }
    }

    if !accepted {
        throttle::record(&mut tx, now, &key).await?;
        audit::record(
            &mut tx,
            now,
            &actor,
            audit::Entry {
                action: "second_factor.failed",
                subject: Some(("user", p.user_id)),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        state.metrics.second_factor_failures.inc();
        let page = page(&visitor, &p, next.unwrap_or_default(), Some(WRONG_CODE));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Page(page)).into_response());
    }

    // Complete: a fresh session ID again, now with full rights.
    session::end(&mut tx, p.user_id, pending_session).await?;
    let full = session::create(&mut tx, &state.config, now, p.user_id, false, &visitor).await?;
    throttle::clear(&mut tx, &key).await?;
    let codes = if p.enrolled {
        None
    } else {
        let codes = totp::new_recovery_codes();
        sqlx::query!("delete from recovery_codes where user_id = $1", p.user_id)
            .execute(&mut *tx)
            .await?;
        for code in &codes {
            sqlx::query!(
                "insert into recovery_codes (user_id, code_hash) values ($1, $2)",
                p.user_id,
                totp::recovery_code_hash(code)
            )
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query!(
            "update users set totp_enrolled_at = $2 where id = $1",
            p.user_id,
            now
        )
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor,
            audit::Entry {
                action: "second_factor.enrolled",
                subject: Some(("user", p.user_id)),
                ..Default::default()
            },
        )
        .await?;
        Some(codes)
    };
    audit::record(
        &mut tx,
        now,
        &actor,
        audit::Entry {
            action: "sign_in.succeeded",
            subject: Some(("user", p.user_id)),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;

    let cookie = session::session_cookie(&state.config, &full.token);
    let next = next.unwrap_or_else(|| "/admin".to_owned());
    let mut res = match codes {
        // Shown once, right now, never again.
        Some(codes) => {
            let mut layout = Layout::for_visitor(&visitor, "Save your recovery codes", "admin");
            layout.csrf_token = String::new();
            Page(RecoveryCodesPage {
                layout,
                codes,
                next,
            })
            .into_response()
        }
        None => Redirect::to(&next).into_response(),
    };
    res.headers_mut().insert(header::SET_COOKIE, cookie);
    res.headers_mut()
        .insert(header::CACHE_CONTROL, "no-store".parse().expect("static"));
    Ok(res)
}
