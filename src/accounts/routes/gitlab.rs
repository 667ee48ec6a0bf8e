//! `GET /auth/gitlab` and `GET /auth/gitlab/callback`: "Sign in with
//! GitLab" (PRODUCT.md §9). Signed out, it signs in (or signs up); signed
//! in, it links the GitLab account to the current user. The flow's state
//! waits on the server ([`gitlab_flow`]); what happens with the person
//! GitLab vouched for is in [`super::gitlab_outcome`]. Every refusal is a
//! page that says what happened and what to do, and starts no session.

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;

use super::gitlab_outcome;
use crate::{
    accounts::{
        gitlab_flow::{self, Mismatch, Purpose},
        guard::{account_link, safe_next},
        session::Visitor,
        throttle,
    },
    audit::{self, Actor},
    config::Config,
    error::{AppError, AppResult},
    gitlab::{GitLabPerson, OidcError},
    state::AppState,
    views::{Layout, Page},
};

/// Sign-ins with GitLab one address may start within [`START_WINDOW`].
const MAX_STARTS: i64 = 30;
const START_WINDOW: chrono::Duration = chrono::Duration::minutes(10);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/gitlab", get(start))
        .route("/auth/gitlab/callback", get(callback))
}

/// The "Sign in with GitLab" link of `/login` and `/signup`, carrying
/// `next`; none while no OAuth application is configured.
pub fn button_href(config: &Config, next: &str) -> Option<String> {
    config
        .gitlab
        .oauth
        .as_ref()
        .map(|_| account_link("/auth/gitlab", next, ""))
}

/// Where GitLab sends the browser back: from `PORTAL_PUBLIC_URL`, as
/// registered with the OAuth application.
pub fn callback_url(config: &Config) -> String {
    config.link("/auth/gitlab/callback")
}

#[derive(Template)]
#[template(path = "accounts/gitlab_refused.html")]
pub struct RefusedPage {
    pub layout: Layout,
    pub heading: &'static str,
    pub paragraphs: Vec<String>,
    /// The check that failed, in GitLab's or the library's words.
    pub detail: Option<String>,
    pub actions: Vec<(&'static str, &'static str)>,
}

/// A refusal: its page, no session, and the flow's cookie gone.
pub struct Refusal {
    pub status: StatusCode,
    pub heading: &'static str,
    pub paragraphs: Vec<String>,
    pub detail: Option<String>,
    pub actions: Vec<(&'static str, &'static str)>,
}

impl Refusal {
    pub fn new(heading: &'static str, paragraph: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            heading,
            paragraphs: vec![paragraph.into()],
            detail: None,
            actions: vec![
                ("/auth/gitlab", "Try again with GitLab"),
                ("/login", "Sign in with a password"),
            ],
        }
    }

    pub fn also(mut self, paragraph: impl Into<String>) -> Self {
        self.paragraphs.push(paragraph.into());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn actions(mut self, actions: Vec<(&'static str, &'static str)>) -> Self {
        self.actions = actions;
        self
    }

    pub fn respond(self, state: &AppState, visitor: &Visitor) -> Response {
        let page = RefusedPage {
            layout: Layout::for_visitor(visitor, self.heading, "login"),
            heading: self.heading,
            paragraphs: self.paragraphs,
            detail: self.detail,
            actions: self.actions,
        };
        let mut res = (self.status, Page(page)).into_response();
        res.headers_mut()
            .append(header::SET_COOKIE, gitlab_flow::cookie(&state.config, None));
        res
    }
}

#[derive(Deserialize)]
struct StartQuery {
    next: Option<String>,
}

/// Sends the browser to GitLab with a new attempt.
#[tracing::instrument(skip_all)]
async fn start(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<StartQuery>,
) -> AppResult<Response> {
    if state.config.gitlab.oauth.is_none() {
        return Err(AppError::NotFound);
    }
    let purpose = match &visitor.session {
        None => Purpose::SignIn,
        Some(s) if s.user.is_staff() => {
            return Ok(staff_refusal().respond(&state, &visitor));
        }
        Some(s) if !s.user.email_verified => {
            return Ok(Redirect::to("/verify-email/pending").into_response());
        }
        Some(s) => Purpose::Link {
            user_id: s.user.id,
            session_id: s.id,
        },
    };
    // Each start costs calls to GitLab and a row: bounded per address.
    let now = state.clock.now();
    let key = format!(
        "gitlab-start:ip:{}",
        visitor.ip.map(|ip| ip.to_string()).unwrap_or_default()
    );
    let mut conn = state.pool.acquire().await?;
    if throttle::count(&mut conn, now, &key, START_WINDOW).await? >= MAX_STARTS {
        return Ok(Refusal::new(
            "Too many sign-ins with GitLab",
            "Sign-ins with GitLab from your address are paused for a few minutes. Try again later, or sign in with your password.",
        )
        .status(StatusCode::TOO_MANY_REQUESTS)
        .respond(&state, &visitor));
    }
    throttle::record(&mut conn, now, &key).await?;
    drop(conn);
    let authorization = match state
        .gitlab
        .authorization(&callback_url(&state.config))
        .await
    {
        Ok(a) => a,
        Err(e) => return Ok(failure(e).respond(&state, &visitor)),
    };
    let next = safe_next(q.next.as_deref());
    let mut conn = state.pool.acquire().await?;
    let browser =
        gitlab_flow::save(&mut conn, now, &authorization, purpose, next.as_deref()).await?;
    let mut res = Redirect::to(authorization.url.as_str()).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        gitlab_flow::cookie(&state.config, Some(&browser)),
    );
    Ok(res)
}

pub fn staff_refusal() -> Refusal {
    Refusal::new(
        "Staff accounts do not use GitLab here",
        "Alliance staff sign in with their password and a two-factor code, never with GitLab.",
    )
    .actions(vec![("/login", "Sign in with your password")])
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// GitLab sent the browser back: the attempt is found (once), the code is
/// exchanged and the ID token checked, then the person is signed in,
/// signed up or linked.
#[tracing::instrument(skip_all)]
async fn callback(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> AppResult<Response> {
    if state.config.gitlab.oauth.is_none() {
        return Err(AppError::NotFound);
    }
    let now = state.clock.now();
    let Some(flow_state) = q.state.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(mismatch(Mismatch::Unknown).respond(&state, &visitor));
    };
    let mut conn = state.pool.acquire().await?;
    let taken = gitlab_flow::take(&mut conn, &state.config, now, flow_state, &headers).await?;
    drop(conn);
    let attempt = match taken {
        Ok(a) => a,
        Err(m) => {
            tracing::warn!(mismatch = ?m, "a GitLab callback matched no sign-in of this browser");
            return Ok(mismatch(m).respond(&state, &visitor));
        }
    };
    if let Some(error) = &q.error {
        let refusal = if error == "access_denied" {
            Refusal::new(
                "GitLab did not sign you in",
                "You did not allow the Partner Portal to use your GitLab account, so nothing happened.",
            )
        } else {
            Refusal::new(
                "GitLab did not sign you in",
                "GitLab answered with an error instead of signing you in.",
            )
            .detail(format!(
                "{error}{}",
                q.error_description
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ))
        };
        return Ok(refusal.respond(&state, &visitor));
    }
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) else {
        return Ok(mismatch(Mismatch::Unknown).respond(&state, &visitor));
    };
    let person = match state
        .gitlab
        .finish_sign_in(
            &callback_url(&state.config),
            code,
            &attempt.pkce_verifier,
            &attempt.nonce,
            now,
        )
        .await
    {
        Ok(person) => person,
        Err(e) => {
            record_failure(&state, &visitor, &e).await?;
            return Ok(failure(e).respond(&state, &visitor));
        }
    };
    let next = attempt.next.as_deref();
    match attempt.purpose {
        Purpose::SignIn => gitlab_outcome::sign_in(&state, &visitor, &person, next).await,
        Purpose::Link {
            user_id,
            session_id,
        } => gitlab_outcome::link(&state, &visitor, user_id, session_id, &person, next).await,
    }
}

fn mismatch(m: Mismatch) -> Refusal {
    match m {
        Mismatch::Unknown => Refusal::new(
            "This sign-in link does not work",
            "The answer from GitLab does not belong to a sign-in started here, or it was already used. Nothing happened: start again.",
        ),
        Mismatch::Expired => Refusal::new(
            "This sign-in took too long",
            "A sign-in with GitLab must be finished within 10 minutes. Nothing happened: start again.",
        ),
        Mismatch::OtherBrowser => Refusal::new(
            "This sign-in was started in another browser",
            "The answer from GitLab came back to a browser other than the one that asked for it, so it was refused. Nothing happened: start again in this browser.",
        ),
    }
}

fn failure(e: OidcError) -> Refusal {
    match e {
        OidcError::NotConfigured => Refusal::new(
            "Sign-in with GitLab is not available",
            "This portal is not set up to sign in with GitLab.",
        )
        .status(StatusCode::NOT_FOUND),
        OidcError::Unreachable(detail) => Refusal::new(
            "GitLab cannot be reached right now",
            "The portal could not talk to GitLab, so you are not signed in. Try again in a moment.",
        )
        .detail(detail)
        .status(StatusCode::BAD_GATEWAY),
        OidcError::Refused(detail) => Refusal::new(
            "GitLab's answer was refused",
            "The answer from GitLab did not pass the portal's checks, so you are not signed in and nothing changed.",
        )
        .detail(detail),
    }
}

/// A GitLab answer that did not check out goes into the audit log.
async fn record_failure(state: &AppState, visitor: &Visitor, e: &OidcError) -> AppResult<()> {
    let OidcError::Refused(reason) = e else {
        return Ok(());
    };
    let mut tx = crate::db::begin(&state.pool).await?;
    let actor = Actor {
        user_id: visitor.user().map(|u| u.id),
        label: visitor
            .user()
            .map_or_else(|| "GitLab sign-in".to_owned(), |u| u.email.clone()),
        ip: visitor.ip,
    };
    audit::record(
        &mut tx,
        state.clock.now(),
        &actor,
        audit::Entry {
            action: "sign_in.gitlab_refused",
            after: Some(serde_json::json!({ "reason": reason })),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The actor a GitLab person acts as before the portal knows them.
pub fn gitlab_actor(visitor: &Visitor, user_id: Option<i64>, person: &GitLabPerson) -> Actor {
    Actor {
        user_id,
        label: person
            .email
            .clone()
            .unwrap_or_else(|| format!("@{} (GitLab)", person.username)),
        ip: visitor.ip,
    }
}
