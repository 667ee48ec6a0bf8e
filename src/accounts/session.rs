//! Server-side sessions in PostgreSQL. The cookie holds a random token; the
//! table holds its hash, the user, the CSRF token and the timestamps that
//! enforce the idle and absolute limits.

use std::{
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request, State},
    http::{HeaderMap, HeaderValue, Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, types::ipnetwork::IpNetwork};

use super::{
    remembered::{self, Outcome, Remembered, Unconfirmed},
    tokens,
};
use crate::{config::Config, error::AppError, http::client_addr::client_ip, state::AppState};

/// How long a half-finished staff sign-in (password done, code not yet) lasts.
const SECOND_FACTOR_WINDOW: Duration = Duration::minutes(10);
/// `last_seen_at` is written at most this often, not on every request.
pub(crate) const TOUCH_EVERY: Duration = Duration::seconds(60);

/// The signed-in person, as loaded with their session.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub staff_role: Option<String>,
    pub email_verified: bool,
    /// The organisation of a partner user and their role in it, loaded with
    /// the session so partner pages need no extra query.
    pub membership: Option<(i64, String)>,
}

impl SessionUser {
    pub fn is_staff(&self) -> bool {
        self.staff_role.is_some()
    }

    pub fn is_staff_admin(&self) -> bool {
        self.staff_role.as_deref() == Some("admin")
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub user: SessionUser,
    pub csrf_token: String,
    pub second_factor_pending: bool,
    pub flash: Option<String>,
}

/// Who is asking: their session if any, their address, and the CSRF token
/// of an anonymous visitor. Put into every request by [`load`].
#[derive(Debug, Clone)]
pub struct Visitor {
    pub session: Option<Session>,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// Set when `session` was remembered rather than read: see
    /// [`remembered`] for who confirms it, and when.
    pub unconfirmed: Option<Arc<Unconfirmed>>,
    /// The anonymous CSRF cookie as it came in, or one made for this
    /// response (then set as a cookie on the way out).
    anon_csrf: Arc<Mutex<AnonCsrf>>,
}

#[derive(Debug, Clone, Default)]
struct AnonCsrf {
    token: Option<String>,
    is_new: bool,
}

impl Visitor {
    /// The token forms must carry: the session's, or the anonymous visitor's.
    pub fn csrf_token(&self) -> String {
        if let Some(session) = &self.session {
            return session.csrf_token.clone();
        }
        let mut anon = self.anon_csrf.lock().expect("not poisoned");
        if anon.token.is_none() {
            anon.token = Some(tokens::new_token());
            anon.is_new = true;
        }
        anon.token.clone().unwrap_or_default()
    }

    /// The token a state-changing request must match, if any.
    pub fn expected_csrf(&self) -> Option<String> {
        match &self.session {
            Some(s) => Some(s.csrf_token.clone()),
            None => self.anon_csrf.lock().expect("not poisoned").token.clone(),
        }
    }

    pub fn user(&self) -> Option<&SessionUser> {
        self.session.as_ref().map(|s| &s.user)
    }

    pub fn flash(&self) -> Option<String> {
        self.session.as_ref().and_then(|s| s.flash.clone())
    }

    pub fn session_id(&self) -> Option<i64> {
        self.session.as_ref().map(|s| s.id)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or_else(|| AppError::internal("the session layer did not run"))
    }
}

/// Cookie names; the `__Host-` prefix (https only) pins them to this origin.
pub fn session_cookie_name(config: &Config) -> &'static str {
    if config.is_https() {
        "__Host-pp_session"
    } else {
        "pp_session"
    }
}

pub fn csrf_cookie_name(config: &Config) -> &'static str {
    if config.is_https() {
        "__Host-pp_csrf"
    } else {
        "pp_csrf"
    }
}

fn cookie_value(config: &Config, name: &str, value: &str, clear: bool) -> HeaderValue {
    let secure = if config.is_https() { "; Secure" } else { "" };
    let max_age = if clear { "; Max-Age=0" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{max_age}"
    ))
    .expect("cookie values are URL-safe")
}

/// The `Set-Cookie` value that starts a session in the browser.
pub fn session_cookie(config: &Config, token: &str) -> HeaderValue {
    cookie_value(config, session_cookie_name(config), token, false)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(config: &Config) -> HeaderValue {
    cookie_value(config, session_cookie_name(config), "", true)
}

pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// Middleware: loads the session named by the cookie, enforcing the idle
/// and absolute limits, and hands a [`Visitor`] to everything after it.
pub async fn load(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let config = &state.config;
    let now = state.clock.now();
    // The client, not the reverse proxy in front (`PORTAL_TRUSTED_PROXIES`).
    let ip = client_ip(
        &config.trusted_proxies,
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr),
        req.headers(),
    );
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect());

    let token_hash = read_cookie(req.headers(), session_cookie_name(config)).map(tokens::hash);
    let is_get = req.method() == Method::GET;
    let mut clear_cookie = false;
    let mut unconfirmed = None;
    let session = match &token_hash {
        Some(hash) => match is_get.then(|| state.sessions.recall(hash, now)).flatten() {
            Some((session, pending)) => {
                unconfirmed = Some(pending);
                Some(session)
            }
            None => match read(&state, hash, now, req.method(), req.uri().path()).await {
                Ok(Some(s)) => Some(s),
                Ok(None) => {
                    clear_cookie = true;
                    None
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not load the session");
                    return AppError::from(e).into_response();
                }
            },
        },
        None => None,
    };
    // Only a remembered session may need the same address asked again.
    let uri = unconfirmed.is_some().then(|| req.uri().clone());
    let anon_csrf = read_cookie(req.headers(), csrf_cookie_name(config)).map(str::to_owned);
    let visitor = Visitor {
        session,
        ip,
        user_agent,
        unconfirmed: unconfirmed.clone(),
        anon_csrf: Arc::new(Mutex::new(AnonCsrf {
            token: anon_csrf,
            is_new: false,
        })),
    };
    req.extensions_mut().insert(visitor.clone());

    let mut res = next.run(req).await;

    // Whatever a form changed (a message left, a sign-out, the team), the
    // next page reads the session afresh.
    if !is_get && let Some(hash) = &token_hash {
        state.sessions.forget(hash);
    }
    if let Some(pending) = unconfirmed {
        match pending.outcome() {
            Outcome::Confirmed => {}
            Outcome::Gone => clear_cookie = true,
            // No partner transaction confirmed it: the response waits for
            // the database, and is not sent if the session changed.
            Outcome::Unconfirmed => match confirm(&state, &pending, now).await {
                Ok(()) => {}
                Err(e) if remembered::is_changed(&e) => {
                    state.sessions.forget(&pending.token_hash);
                    let again = uri
                        .as_ref()
                        .and_then(|u| u.path_and_query())
                        .map_or("/", |p| p.as_str());
                    res = Redirect::to(again).into_response();
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not confirm the session");
                    res = AppError::from(e).into_response();
                }
            },
        }
    }
    if clear_cookie && !res.headers().contains_key(header::SET_COOKIE) {
        res.headers_mut()
            .append(header::SET_COOKIE, clear_session_cookie(config));
    }
    let anon = visitor.anon_csrf.lock().expect("not poisoned").clone();
    if anon.is_new
        && let Some(token) = anon.token
    {
        res.headers_mut().append(
            header::SET_COOKIE,
            cookie_value(config, csrf_cookie_name(config), &token, false),
        );
    }
    // A page made for one signed-in person, or one that hands out a cookie,
    // must not be kept by the browser's history cache or a shared proxy.
    // Responses that chose their own caching (static files, feeds) keep it.
    let personal = visitor.session.is_some() || res.headers().contains_key(header::SET_COOKIE);
    if personal && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// The live session for a cookie token's hash, read from the database for
/// a request with `method` to `path`; an expired one is deleted. A page
/// (a GET, not a static file) takes the message waiting for it, and a GET
/// leaves the session remembered for the next requests (a form post is
/// followed by a fresh read anyway).
async fn read(
    state: &AppState,
    token_hash: &[u8],
    now: DateTime<Utc>,
    method: &Method,
    path: &str,
) -> Result<Option<Session>, sqlx::Error> {
    let is_get = *method == Method::GET;
    let take_flash = is_get && !path.starts_with("/static/");
    let found = find(state, token_hash, now, take_flash).await?;
    Ok(found.map(|found| {
        let session = found.session.clone();
        if is_get {
            state.sessions.remember(token_hash, found, now);
        }
        session
    }))
}

/// How long a session may stay unused.
fn idle_limit(config: &Config) -> Duration {
    Duration::from_std(config.session_idle_timeout).unwrap_or(Duration::minutes(30))
}

async fn find(
    state: &AppState,
    token_hash: &[u8],
    now: DateTime<Utc>,
    take_flash: bool,
) -> Result<Option<Remembered>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select s.id, s.csrf_token, s.second_factor_pending, s.flash, s.created_at,
                  s.last_seen_at, s.expires_at,
                  u.id as user_id, u.email, u.name, u.staff_role,
                  u.email_verified_at is not null as "email_verified!",
                  m.partner_id as "partner_id?", m.role as "member_role?", s.stamp
             from sessions s join users u on u.id = s.user_id
             left join partner_members m on m.user_id = u.id
            where s.token_hash = $1 and u.disabled_at is null"#,
        token_hash
    )
    .fetch_optional(&state.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };

    let idle_limit = if row.second_factor_pending {
        SECOND_FACTOR_WINDOW
    } else {
        idle_limit(&state.config)
    };
    if now >= row.expires_at || now - row.last_seen_at >= idle_limit {
        sqlx::query!("delete from sessions where id = $1", row.id)
            .execute(&state.pool)
            .await?;
        return Ok(None);
    }
    let flash = if take_flash { row.flash.clone() } else { None };
    // What the row says now, for remembering it: a message left waiting
    // is never remembered (the confirmation would fail on it anyway).
    let mut last_seen_at = row.last_seen_at;
    let mut stamp = Some(row.stamp);
    if flash.is_some() {
        // Waits for the row, so the message is cleared exactly once.
        last_seen_at = last_seen_at.max(now);
        sqlx::query!(
            "update sessions set last_seen_at = greatest(last_seen_at, $2), flash = null
              where id = $1",
            row.id,
            now
        )
        .execute(&state.pool)
        .await?;
    } else if row.flash.is_some() {
        stamp = None;
    } else if now - row.last_seen_at >= TOUCH_EVERY {
        // Every request of a busy session sees the minute pass at once; one
        // of them writes and the rest go on without queueing on its row lock.
        let touched = sqlx::query!(
            "update sessions set last_seen_at = greatest(last_seen_at, $2)
              where id = (select id from sessions
                           where id = $1 and last_seen_at <= $3
                             for no key update skip locked)",
            row.id,
            now,
            now - TOUCH_EVERY
        )
        .execute(&state.pool)
        .await?;
        if touched.rows_affected() > 0 {
            last_seen_at = last_seen_at.max(now);
        }
    }
    Ok(Some(Remembered {
        session: Session {
            id: row.id,
            csrf_token: row.csrf_token,
            second_factor_pending: row.second_factor_pending,
            flash,
            user: SessionUser {
                id: row.user_id,
                email: row.email,
                name: row.name,
                staff_role: row.staff_role,
                email_verified: row.email_verified,
                membership: row.partner_id.zip(row.member_role),
            },
        },
        stamp,
        last_seen_at,
        expires_at: row.expires_at,
    }))
}

/// Route layer of the pages that do not confirm a remembered session in a
/// partner transaction of their own: confirms it before the handler runs,
/// and reads the session again if it changed, so those pages are made from
/// exactly what a fresh read gives.
pub async fn confirm_first(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    if let Some(pending) = unconfirmed(&parts) {
        let checked = match confirm(&state, &pending, state.clock.now()).await {
            Ok(()) => {
                pending.settle(Outcome::Confirmed);
                Ok(())
            }
            Err(e) if remembered::is_changed(&e) => read_again(&mut parts, &state, &pending).await,
            Err(e) => Err(e),
        };
        if let Err(e) = checked {
            tracing::error!(error = %e, "could not confirm the session");
            return AppError::from(e).into_response();
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The remembered session of this request that nothing has confirmed (or
/// read again) yet.
pub fn unconfirmed(parts: &Parts) -> Option<Arc<Unconfirmed>> {
    parts
        .extensions
        .get::<Visitor>()
        .and_then(|v| v.unconfirmed.clone())
        .filter(|p| p.outcome() == Outcome::Unconfirmed)
}

/// Asks the database whether a remembered session still stands; `PPS01`
/// (see [`remembered::is_changed`]) if not.
async fn confirm(
    state: &AppState,
    pending: &Unconfirmed,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!(
        "select session_confirm($1, $2, $3, $4)",
        pending.session_id(),
        pending.stamp(),
        now,
        now - idle_limit(&state.config)
    )
    .fetch_one(&state.pool)
    .await
    .map(drop)
}

/// The call that confirms a remembered session, for the round trip that
/// opens a partner page's transaction.
pub fn confirm_call(state: &AppState, pending: &Unconfirmed) -> String {
    let now = state.clock.now();
    pending.confirm_call(now, now - idle_limit(&state.config))
}

/// Reads the session of a request again after its remembered copy failed
/// the confirmation: what the session layer would have done, with the
/// result put in place of the remembered [`Visitor`] for everything that
/// extracts it afterwards.
pub async fn read_again(
    parts: &mut Parts,
    state: &AppState,
    pending: &Unconfirmed,
) -> Result<(), sqlx::Error> {
    state.sessions.forget(&pending.token_hash);
    let now = state.clock.now();
    let session = read(
        state,
        &pending.token_hash,
        now,
        &parts.method,
        parts.uri.path(),
    )
    .await?;
    pending.settle(if session.is_some() {
        Outcome::Confirmed
    } else {
        Outcome::Gone
    });
    if let Some(visitor) = parts.extensions.get_mut::<Visitor>() {
        visitor.session = session;
        visitor.unconfirmed = None;
    }
    Ok(())
}

/// A new session: a fresh ID every sign-in (no fixation).
pub struct NewSession {
    pub token: String,
    pub id: i64,
}

pub async fn create(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    user_id: i64,
    second_factor_pending: bool,
    visitor: &Visitor,
) -> Result<NewSession, sqlx::Error> {
    let token = tokens::new_token();
    let absolute =
        Duration::from_std(config.session_absolute_timeout).unwrap_or(Duration::hours(12));
    let id = sqlx::query_scalar!(
        "insert into sessions (token_hash, user_id, csrf_token, second_factor_pending, ip, user_agent,
                               created_at, last_seen_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $7, $8)
         returning id",
        tokens::hash(&token),
        user_id,
        tokens::new_token(),
        second_factor_pending,
        visitor.ip.map(IpNetwork::from),
        visitor.user_agent,
        now,
        now + absolute
    )
    .fetch_one(conn)
    .await?;
    Ok(NewSession { token, id })
}

/// Ends one session of a user (theirs to end).
pub async fn end(
    conn: &mut PgConnection,
    user_id: i64,
    session_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query!(
        "delete from sessions where id = $1 and user_id = $2",
        session_id,
        user_id
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() > 0)
}

/// Ends every session of a user except `keep`.
pub async fn end_all_except(
    conn: &mut PgConnection,
    user_id: i64,
    keep: Option<i64>,
) -> Result<u64, sqlx::Error> {
    sqlx::query!(
        "delete from sessions where user_id = $1 and id is distinct from $2",
        user_id,
        keep
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

/// Shows `message` on the next page this session sees.
pub async fn set_flash(
    conn: &mut PgConnection,
    session_id: i64,
    message: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update sessions set flash = $2 where id = $1",
        session_id,
        message
    )
    .execute(conn)
    .await
    .map(drop)
}

#[derive(Debug)]
pub struct ActiveSession {
    pub id: i64,
    pub ip: Option<IpNetwork>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

pub async fn list_active(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    user_id: i64,
) -> Result<Vec<ActiveSession>, sqlx::Error> {
    let idle = Duration::from_std(config.session_idle_timeout).unwrap_or(Duration::minutes(30));
    sqlx::query_as!(
        ActiveSession,
        "select id, ip, user_agent, created_at, last_seen_at from sessions
          where user_id = $1 and not second_factor_pending and expires_at > $2 and last_seen_at > $3
          order by last_seen_at desc
          limit 100",
        user_id,
        now,
        now - idle
    )
    .fetch_all(conn)
    .await
}

/// Removes sessions past their limits (the scheduler calls this).
pub async fn prune(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let idle = Duration::from_std(config.session_idle_timeout).unwrap_or(Duration::minutes(30));
    sqlx::query!(
        "delete from sessions where expires_at <= $1 or last_seen_at <= $2",
        now,
        now - idle
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_cookie_among_several() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; pp_session=abc; b=2"),
        );
        assert_eq!(read_cookie(&h, "pp_session"), Some("abc"));
        assert_eq!(read_cookie(&h, "missing"), None);
        h.insert(header::COOKIE, HeaderValue::from_static("pp_session="));
        assert_eq!(read_cookie(&h, "pp_session"), None);
    }
}
