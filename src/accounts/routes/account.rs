//! `/account`: your details, your password, your linked GitLab account
//! (link, unlink), and your sessions (end any).

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};

use super::password::{self, ChangeForm};
use crate::{
    accounts::{guard::SignedIn, identity, password::NO_PASSWORD, session},
    audit,
    error::AppResult,
    state::AppState,
    views::{FormErrors, Invalid, Layout, Page},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(show))
        .route("/account/password", post(change_password))
        .route("/account/sessions/{id}/end", post(end_session))
        .route("/account/gitlab/unlink", post(unlink_gitlab))
}

pub struct SessionRow {
    pub id: i64,
    pub device: String,
    pub ip: String,
    pub started: String,
    pub last_seen: String,
    pub last_seen_iso: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "accounts/account.html")]
pub struct AccountPage {
    pub layout: Layout,
    pub name: String,
    pub email: String,
    pub role: String,
    pub sessions: Vec<SessionRow>,
    pub errors: FormErrors,
    /// False for an account made with GitLab that has not set one yet.
    pub has_password: bool,
    /// "Sign in with GitLab" is configured, and this is a partner user.
    pub gitlab_available: bool,
    /// The linked GitLab account: username and since when.
    pub gitlab: Option<(String, String)>,
}

async fn page(
    state: &AppState,
    signed_in: &SignedIn,
    errors: FormErrors,
) -> AppResult<AccountPage> {
    let user = signed_in.user();
    let now = state.clock.now();
    let mut conn = state.pool.acquire().await?;
    let sessions = session::list_active(&mut conn, &state.config, now, user.id)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            id: s.id,
            device: describe_user_agent(s.user_agent.as_deref()),
            ip: s
                .ip
                .map(|ip| ip.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
            started: short_time(s.created_at),
            last_seen: short_time(s.last_seen_at),
            last_seen_iso: s.last_seen_at.to_rfc3339(),
            current: s.id == signed_in.session.id,
        })
        .collect();
    let has_password =
        sqlx::query_scalar!("select password_hash from users where id = $1", user.id)
            .fetch_one(&mut *conn)
            .await?
            != NO_PASSWORD;
    let gitlab = identity::of_user(&mut conn, user.id)
        .await?
        .map(|i| (i.username, short_time(i.linked_at)));
    Ok(AccountPage {
        has_password,
        gitlab_available: state.config.gitlab.oauth.is_some() && !user.is_staff(),
        gitlab,
        layout: Layout::for_visitor(&signed_in.visitor, "Your account", "account"),
        name: user.name.clone(),
        email: user.email.clone(),
        role: match user.staff_role.as_deref() {
            Some(role) => format!("Staff {role}"),
            None => "Partner user".into(),
        },
        sessions,
        errors,
    })
}

async fn show(State(state): State<AppState>, signed_in: SignedIn) -> AppResult<Page<AccountPage>> {
    Ok(Page(page(&state, &signed_in, FormErrors::default()).await?))
}

async fn change_password(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Form(form): Form<ChangeForm>,
) -> AppResult<Response> {
    match password::change(&state, &signed_in, form).await? {
        Ok(()) => Ok(Redirect::to("/account").into_response()),
        Err(errors) => Ok(Invalid(page(&state, &signed_in, errors).await?).into_response()),
    }
}

async fn end_session(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let user = signed_in.user();
    let mut tx = crate::db::begin(&state.pool).await?;
    if !session::end(&mut tx, user.id, id).await? {
        return Err(crate::error::AppError::NotFound);
    }
    audit::record(
        &mut tx,
        now,
        &signed_in.actor(),
        audit::Entry {
            action: "session.ended",
            subject: Some(("session", id)),
            ..Default::default()
        },
    )
    .await?;
    let current = id == signed_in.session.id;
    if !current {
        session::set_flash(&mut tx, signed_in.session.id, "The session has been ended.").await?;
    }
    tx.commit().await?;
    if current {
        let mut res = Redirect::to("/login?notice=signed_out").into_response();
        res.headers_mut().insert(
            header::SET_COOKIE,
            session::clear_session_cookie(&state.config),
        );
        return Ok(res);
    }
    Ok(Redirect::to("/account#sessions").into_response())
}

/// Removes the link to GitLab. Refused while it is the only way to sign
/// in (no password set yet).
async fn unlink_gitlab(State(state): State<AppState>, signed_in: SignedIn) -> AppResult<Response> {
    let now = state.clock.now();
    let user = signed_in.user();
    let mut tx = crate::db::begin(&state.pool).await?;
    let stored = sqlx::query_scalar!(
        "select password_hash from users where id = $1 for update",
        user.id
    )
    .fetch_one(&mut *tx)
    .await?;
    if stored == NO_PASSWORD {
        drop(tx);
        let mut errors = FormErrors::default();
        errors.add(
            "gitlab",
            "Set a password first: without GitLab and without a password you could not sign in any more.",
        );
        return Ok(Invalid(page(&state, &signed_in, errors).await?).into_response());
    }
    let Some(removed) = identity::unlink(&mut tx, user.id).await? else {
        return Err(crate::error::AppError::NotFound);
    };
    audit::record(
        &mut tx,
        now,
        &signed_in.actor(),
        audit::Entry {
            action: "account.gitlab_unlinked",
            subject: Some(("user", user.id)),
            before: Some(serde_json::json!({
                "gitlab_user_id": removed.gitlab_user_id,
                "username": removed.username,
            })),
            ..Default::default()
        },
    )
    .await?;
    session::set_flash(
        &mut tx,
        signed_in.session.id,
        &format!(
            "Your GitLab account @{} is no longer linked. Sign in with your password from now on.",
            removed.username
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/account#gitlab").into_response())
}

fn short_time(t: DateTime<Utc>) -> String {
    t.format("%-d %b %Y, %H:%M UTC").to_string()
}

/// "Firefox on Linux" from a User-Agent header, good enough to recognise a device.
pub fn describe_user_agent(ua: Option<&str>) -> String {
    let Some(ua) = ua else {
        return "Unknown device".into();
    };
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map_or("A browser", |(_, name)| name);
    let os = [
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_read_as_devices() {
        assert_eq!(
            describe_user_agent(Some(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
            )),
            "Chrome on Linux"
        );
        assert_eq!(
            describe_user_agent(Some(
                "Mozilla/5.0 (Windows NT 10.0; rv:121.0) Gecko/20100101 Firefox/121.0"
            )),
            "Firefox on Windows"
        );
        assert_eq!(describe_user_agent(None), "Unknown device");
    }
}
