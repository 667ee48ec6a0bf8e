//! A sign-in with GitLab between leaving for GitLab and coming back.
//!
//! Where the `state`, nonce and PKCE verifier wait: on the server, in
//! `gitlab_sign_in_attempts`, found again by the hash of `state` and
//! deleted when found (single use: a replayed callback finds nothing). The
//! verifier and the nonce never reach the browser; the browser gets only a
//! random binding cookie (`HttpOnly`, `SameSite=Lax`, ten minutes), whose
//! hash the row keeps, so a callback URL carried into another browser
//! (login CSRF: signing a victim into the attacker's account) ends nowhere.
//! `Lax` is what lets the cookie come along on the top-level redirect back
//! from GitLab, which is a cross-site navigation.

use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

use super::{session, tokens};
use crate::{config::Config, gitlab::Authorization};

/// How long a person has to finish signing in on GitLab.
pub const LIFETIME: Duration = Duration::minutes(10);

fn cookie_name(config: &Config) -> &'static str {
    if config.is_https() {
        "__Host-pp_gitlab"
    } else {
        "pp_gitlab"
    }
}

/// The binding cookie for a new attempt (or, empty, the one that ends it).
pub fn cookie(config: &Config, token: Option<&str>) -> HeaderValue {
    let secure = if config.is_https() { "; Secure" } else { "" };
    let (value, max_age) = match token {
        Some(t) => (t, LIFETIME.num_seconds()),
        None => ("", 0),
    };
    HeaderValue::from_str(&format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        cookie_name(config)
    ))
    .expect("tokens are URL-safe")
}

/// Who a sign-in is for: a signed-out visitor, or a signed-in user linking
/// (the user and the session that started it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    SignIn,
    Link { user_id: i64, session_id: i64 },
}

/// Keeps an attempt; the browser's binding token to set as its cookie.
pub async fn save(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    authorization: &Authorization,
    purpose: Purpose,
    next: Option<&str>,
) -> Result<String, sqlx::Error> {
    let browser = tokens::new_token();
    let (user_id, session_id) = match purpose {
        Purpose::SignIn => (None, None),
        Purpose::Link {
            user_id,
            session_id,
        } => (Some(user_id), Some(session_id)),
    };
    sqlx::query!(
        "insert into gitlab_sign_in_attempts
                (state_hash, browser_hash, nonce, pkce_verifier, user_id, session_id, next, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        tokens::hash(&authorization.state),
        tokens::hash(&browser),
        authorization.nonce,
        authorization.pkce_verifier,
        user_id,
        session_id,
        next,
        now,
        now + LIFETIME
    )
    .execute(conn)
    .await?;
    Ok(browser)
}

/// An attempt found again by the callback.
#[derive(Debug)]
pub struct Attempt {
    pub nonce: String,
    pub pkce_verifier: String,
    pub purpose: Purpose,
    pub next: Option<String>,
}

/// Why a callback does not match an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// No attempt with this `state`: made up, or already used.
    Unknown,
    /// Older than [`LIFETIME`].
    Expired,
    /// Started in another browser.
    OtherBrowser,
}

/// Takes (deletes) the attempt named by `state`, whatever comes of it, and
/// checks it belongs to this browser and is still fresh.
pub async fn take(
    conn: &mut PgConnection,
    config: &Config,
    now: DateTime<Utc>,
    state: &str,
    headers: &HeaderMap,
) -> Result<Result<Attempt, Mismatch>, sqlx::Error> {
    let row = sqlx::query!(
        "delete from gitlab_sign_in_attempts where state_hash = $1
         returning browser_hash, nonce, pkce_verifier, user_id, session_id, next, expires_at",
        tokens::hash(state)
    )
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(Err(Mismatch::Unknown));
    };
    let browser = session::read_cookie(headers, cookie_name(config))
        .map(tokens::hash)
        .unwrap_or_default();
    if !tokens::same_bytes(&browser, &row.browser_hash) {
        return Ok(Err(Mismatch::OtherBrowser));
    }
    if now >= row.expires_at {
        return Ok(Err(Mismatch::Expired));
    }
    let purpose = match row.user_id.zip(row.session_id) {
        Some((user_id, session_id)) => Purpose::Link {
            user_id,
            session_id,
        },
        None => Purpose::SignIn,
    };
    Ok(Ok(Attempt {
        nonce: row.nonce,
        pkce_verifier: row.pkce_verifier,
        purpose,
        next: row.next,
    }))
}

/// Removes attempts nobody came back for (the scheduler's housekeeping).
pub async fn prune(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    sqlx::query!(
        "delete from gitlab_sign_in_attempts where expires_at <= $1",
        now
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}
