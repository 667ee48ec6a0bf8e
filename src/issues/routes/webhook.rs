//! `POST /webhooks/gitlab`: the tracker's issue and comment events. The
//! request checks the secret in constant time (the instance-wide
//! `PORTAL_GITLAB_WEBHOOK_TOKEN`, or a partner's own from `/integrations`),
//! reads and validates the body completely, so that what is stored can be
//! applied, stores the delivery under its key and answers at once; the
//! background task applies it. A partner's secret is good only for projects
//! under that partner's verified namespaces. Nothing is stored for a refused
//! delivery.

use axum::{
    Json, Router,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{
    accounts::tokens,
    error::AppError,
    integrations::webhook_secret,
    issues::{
        WebhookEvent, inbox, parse_event,
        routing::{self, ProjectHome},
    },
    state::AppState,
};

/// The largest delivery accepted: GitLab caps an issue description at
/// 1,000,000 characters; the rest of a payload is small.
pub const MAX_WEBHOOK_BYTES: usize = 1536 * 1024;
/// Longest delivery key kept as given.
const MAX_KEY_CHARS: usize = 200;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/gitlab", post(receive))
}

fn answer(status: StatusCode, outcome: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "status": outcome, "message": message })),
    )
        .into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Who a delivery's secret belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signer {
    /// The instance-wide token the alliance team installs.
    Instance,
    /// A partner's own secret: good for its own projects only.
    Partner(i64),
}

/// Who signed the request, if anybody the portal knows.
async fn signer(state: &AppState, headers: &HeaderMap) -> Result<Option<Signer>, sqlx::Error> {
    let Some(given) = header(headers, "x-gitlab-token") else {
        return Ok(None);
    };
    if let Some(expected) = &state.config.gitlab_webhook_token
        && tokens::same(given, expected.expose_secret())
    {
        return Ok(Some(Signer::Instance));
    }
    let partner = webhook_secret::partner_of(&state.pool, given).await?;
    Ok(partner.map(Signer::Partner))
}

/// The key one delivery is known by, however often it is sent:
/// `Idempotency-Key`, else `X-Gitlab-Event-UUID`, else a hash of the body.
pub fn delivery_key(headers: &HeaderMap, body: &[u8]) -> Result<String, &'static str> {
    let given =
        header(headers, "idempotency-key").or_else(|| header(headers, "x-gitlab-event-uuid"));
    match given {
        Some(key) if key.chars().count() > MAX_KEY_CHARS => Err("The delivery key is too long."),
        Some(key) => Ok(key.to_owned()),
        None => Ok(format!("sha256:{}", hex::encode(Sha256::digest(body)))),
    }
}

#[tracing::instrument(skip_all)]
async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let signer = match signer(&state, &headers).await {
        Ok(Some(signer)) => signer,
        Ok(None) => {
            return answer(
                StatusCode::UNAUTHORIZED,
                "refused",
                "Missing or wrong X-Gitlab-Token.",
            );
        }
        Err(e) => return AppError::from(e).into_response(),
    };
    let bytes = match axum::body::to_bytes(body, MAX_WEBHOOK_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return answer(
                StatusCode::PAYLOAD_TOO_LARGE,
                "refused",
                "The delivery is larger than the portal accepts.",
            );
        }
    };
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(_) => return answer(StatusCode::BAD_REQUEST, "refused", "The body is not UTF-8."),
    };
    if text.contains('\0') {
        // PostgreSQL cannot store it; GitLab never sends it.
        return answer(
            StatusCode::BAD_REQUEST,
            "refused",
            "The body contains a NUL character.",
        );
    }
    let project = match parse_event(text.as_bytes()) {
        Err(problem) => {
            return answer(StatusCode::BAD_REQUEST, "refused", &problem.to_string());
        }
        Ok(WebhookEvent::Ignored { what }) => {
            return answer(
                StatusCode::OK,
                "ignored",
                &format!("{what} are not used by the portal."),
            );
        }
        Ok(WebhookEvent::Issue(event)) => {
            ProjectHome::of(event.project_web_url.as_deref(), &event.project_path)
        }
        Ok(WebhookEvent::Comment(note)) => {
            ProjectHome::of(note.project_web_url.as_deref(), &note.project_path)
        }
    };
    if let Signer::Partner(partner_id) = signer {
        match owns(&state, project.as_ref(), partner_id).await {
            Ok(true) => {}
            Ok(false) => {
                return answer(
                    StatusCode::FORBIDDEN,
                    "refused",
                    "This secret is good only for projects under your organisation's verified namespaces.",
                );
            }
            Err(e) => return AppError::from(e).into_response(),
        }
    }
    let key = match delivery_key(&headers, &bytes) {
        Ok(key) => key,
        Err(problem) => return answer(StatusCode::BAD_REQUEST, "refused", problem),
    };
    let partner_id = match signer {
        Signer::Partner(id) => Some(id),
        Signer::Instance => None,
    };
    let stored = async {
        let mut tx = crate::db::begin(&state.pool).await?;
        let stored = inbox::store(
            &mut tx,
            state.clock.now(),
            &key,
            header(&headers, "x-gitlab-event"),
            text,
            partner_id,
        )
        .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(stored)
    }
    .await;
    match stored {
        Ok(true) => answer(
            StatusCode::ACCEPTED,
            "queued",
            "The delivery will be applied shortly.",
        ),
        Ok(false) => answer(
            StatusCode::OK,
            "duplicate",
            "This delivery was already received.",
        ),
        Err(e) => AppError::from(e).into_response(),
    }
}

/// Whether `project` is under a verified namespace of `partner_id`.
async fn owns(
    state: &AppState,
    project: Option<&ProjectHome>,
    partner_id: i64,
) -> Result<bool, sqlx::Error> {
    let Some(project) = project else {
        return Ok(false);
    };
    let mut conn = state.pool.acquire().await?;
    Ok(routing::owner_of(&mut conn, project).await? == Some(partner_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_idempotency_key_wins_then_the_event_uuid_then_the_body() {
        let both = headers(&[
            ("idempotency-key", "idem-1"),
            ("x-gitlab-event-uuid", "uuid-1"),
        ]);
        assert_eq!(delivery_key(&both, b"{}").unwrap(), "idem-1");
        let uuid = headers(&[("x-gitlab-event-uuid", "uuid-1")]);
        assert_eq!(delivery_key(&uuid, b"{}").unwrap(), "uuid-1");
        let none = HeaderMap::new();
        let a = delivery_key(&none, b"{\"a\":1}").unwrap();
        assert!(a.starts_with("sha256:"));
        assert_eq!(a, delivery_key(&none, b"{\"a\":1}").unwrap());
        assert_ne!(a, delivery_key(&none, b"{\"a\":2}").unwrap());
    }

    #[test]
    fn an_overlong_key_is_refused() {
        let long = "k".repeat(201);
        assert!(delivery_key(&headers(&[("idempotency-key", &long)]), b"{}").is_err());
    }
}
