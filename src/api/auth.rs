//! Who calls the partner API: `Authorization: Bearer ppat_…`. One
//! statement checks the token, counts the request against its rate limit
//! (in PostgreSQL, so the limit holds across instances) and marks its use;
//! then the handler gets a transaction confined to the token's partner by
//! row-level security, exactly as a page does. Session cookies are never
//! read here: the API is not reachable with a browser's session.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::{Postgres, Row, Transaction};

use super::problem::Problem;
use crate::{
    accounts::tokens,
    audit::{self, Actor},
    integrations::tokens::{PREFIX, Scope},
    organizations::begin_tenant,
    state::AppState,
};

/// The token a request was made with, once checked.
#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: i64,
    pub partner_id: i64,
    pub name: String,
    pub scope: Scope,
}

impl ApiToken {
    pub fn actor(&self) -> Actor {
        Actor::system(&format!("API token “{}”", self.name))
    }
}

/// Where the token stands in its minute.
#[derive(Debug, Clone, Copy)]
struct Rate {
    limit: i32,
    used: i32,
    resets_at: DateTime<Utc>,
}

impl Rate {
    fn reset_secs(&self, now: DateTime<Utc>) -> i64 {
        (self.resets_at - now).num_seconds().max(1)
    }

    fn headers(&self, res: &mut Response, now: DateTime<Utc>) {
        let h = res.headers_mut();
        for (name, value) in [
            ("ratelimit-limit", self.limit.to_string()),
            (
                "ratelimit-remaining",
                (self.limit - self.used).max(0).to_string(),
            ),
            ("ratelimit-reset", self.reset_secs(now).to_string()),
        ] {
            if let Ok(v) = value.parse() {
                h.insert(name, v);
            }
        }
    }
}

fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| t.starts_with(PREFIX) && t.len() <= 200)
}

/// Checks the token and counts the request in one statement, in one
/// round trip whose commit does not wait for the WAL to reach disk
/// (`synchronous_commit = off` for this transaction only). Every request of
/// a token updates the same counter row: waiting for the disk, or for
/// another round trip, while holding that row's lock let one token make only
/// about 2,000 requests a second however many connections it used. A crash
/// of PostgreSQL can forget the last fraction of a second of counts, which
/// only lets a few more requests through in that minute.
///
/// The two statements go as one simple-protocol message, PostgreSQL's
/// implicit transaction (an error rolls it back and leaves the connection
/// idle), so the values are written into the text: a hex digest, a
/// formatted time and a number, none of them from the request.
async fn use_token(
    state: &AppState,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<TokenUse, sqlx::Error> {
    let digest: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    let sql = format!(
        "select set_config('synchronous_commit', 'off', true); \
         select token_id, partner_id, scope, name, verdict, used, window_ends \
           from api_token_use('\\x{digest}'::bytea, '{}'::timestamptz, {})",
        now.to_rfc3339_opts(SecondsFormat::Micros, true),
        state.config.api_requests_per_minute
    );
    let rows = sqlx::raw_sql(&sql).fetch_all(&state.pool).await?;
    let row = rows.last().ok_or(sqlx::Error::RowNotFound)?;
    Ok(TokenUse {
        token_id: row.try_get("token_id")?,
        partner_id: row.try_get("partner_id")?,
        scope: row.try_get("scope")?,
        name: row.try_get("name")?,
        verdict: row.try_get("verdict")?,
        used: row.try_get("used")?,
        window_ends: row.try_get("window_ends")?,
    })
}

struct TokenUse {
    token_id: Option<i64>,
    partner_id: Option<i64>,
    scope: Option<String>,
    name: Option<String>,
    verdict: String,
    used: i32,
    window_ends: DateTime<Utc>,
}

/// The middleware of every API route: checks the token, refuses with a
/// problem, or lets the request through with the token in its extensions
/// and the rate limit's headers on the answer.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let now = state.clock.now();
    let Some(given) = bearer(&req) else {
        return Problem::unauthorized(
            "Send an API token made on /integrations as `Authorization: Bearer ppat_…`.",
        )
        .into_response();
    };
    let checked = use_token(&state, &tokens::hash(given), now).await;
    let row = match checked {
        Ok(row) => row,
        Err(e) => return Problem::from(e).into_response(),
    };
    let rate = Rate {
        limit: state.config.api_requests_per_minute,
        used: row.used,
        resets_at: row.window_ends,
    };
    let token = match (
        row.token_id,
        row.partner_id,
        row.scope.as_deref().and_then(Scope::parse),
    ) {
        (Some(id), Some(partner_id), Some(scope)) => ApiToken {
            id,
            partner_id,
            name: row.name.unwrap_or_default(),
            scope,
        },
        _ => return Problem::unauthorized("This token is not known.").into_response(),
    };
    match row.verdict.as_str() {
        "ok" => {}
        "limited" => {
            let mut res = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            )
            .detail(format!(
                "A token may make {} requests a minute; try again in {} s.",
                rate.limit,
                rate.reset_secs(now)
            ))
            .header(header::RETRY_AFTER, rate.reset_secs(now))
            .into_response();
            rate.headers(&mut res, now);
            return res;
        }
        verdict => {
            let why = if verdict == "revoked" {
                "This token was revoked."
            } else {
                "This token has expired."
            };
            refused(&state, &token, verdict).await;
            return Problem::unauthorized(why).into_response();
        }
    }
    req.extensions_mut().insert(token);
    let mut res = next.run(req).await;
    rate.headers(&mut res, now);
    res
}

/// A refused use of a token the portal knows is audited for its
/// organisation (an unknown token has none to tell).
pub async fn refused(state: &AppState, token: &ApiToken, why: &str) {
    let now = state.clock.now();
    let recorded = async {
        let mut tx = crate::db::begin(&state.pool).await?;
        audit::record(
            &mut tx,
            now,
            &token.actor(),
            audit::Entry {
                action: "api_token.refused",
                partner_id: Some(token.partner_id),
                subject: Some(("api_token", token.id)),
                after: Some(serde_json::json!({ "why": why })),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        Ok::<_, crate::error::AppError>(())
    }
    .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "partner API: could not audit a refused token");
    }
}

/// A handler's context: the token and a transaction confined to its
/// partner.
pub struct ApiTenant {
    pub token: ApiToken,
    pub tx: Transaction<'static, Postgres>,
}

impl ApiTenant {
    pub fn partner_id(&self) -> i64 {
        self.token.partner_id
    }

    /// Refuses a `read` token where writing is asked (and audits it).
    pub async fn require_write(&self, state: &AppState) -> Result<(), Problem> {
        if self.token.scope == Scope::Write {
            return Ok(());
        }
        refused(state, &self.token, "read scope used to write").await;
        Err(Problem::new(
            StatusCode::FORBIDDEN,
            "insufficient-scope",
            "This token may only read",
        )
        .detail("Make a token with the write scope on /integrations to post updates."))
    }
}

impl FromRequestParts<AppState> for ApiTenant {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let token = parts
            .extensions
            .get::<ApiToken>()
            .cloned()
            .ok_or_else(|| Problem::unauthorized("No API token."))?;
        let tx = begin_tenant(&state.pool, token.partner_id).await?;
        Ok(Self { token, tx })
    }
}
