//! The suite's one GitLab: a real HTTP server on a loopback port that
//! answers as GitLab documents its APIs, records every request it gets, and
//! fails on purpose when a test asks it to. The portal reaches it only
//! through `PORTAL_GITLAB_URL`; nothing inside the portal is mocked.
//!
//! What it answers grows with the features that use it: the REST notes API
//! (`notes.rs`), GraphQL for the catalog's badge (`graphql.rs`), and GitLab
//! as an OpenID provider for "Sign in with GitLab" (`oidc.rs`).
//! Self-contained (no `crate::` items), so the benchmark's
//! example binary can run the same double (`examples/gitlab_double.rs`).

#![allow(dead_code)] // each test uses the parts it needs

pub mod graphql;
pub mod notes;
pub mod oidc;

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The token the portal's service account has on this GitLab.
pub const API_TOKEN: &str = "glpat-portal-service-account";
/// An instance administrator's token (the catalog's badge).
pub const ADMIN_TOKEN: &str = "glpat-instance-admin";

/// What the double answers the next call of a kind with, instead of doing
/// what it was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An error status with GitLab's JSON body (`{"message": …}`).
    Status(u16),
    /// 429 with `Retry-After: seconds` and `RateLimit-Reset`.
    TooMany { retry_after: u64 },
    /// Never answers (the call times out on the portal's side).
    Hang,
    /// Does what was asked, then never answers: the portal loses the
    /// answer of a call that did happen.
    DoThenHang,
    /// GraphQL's 200 with the mutation's own `errors` list.
    MutationErrors(String),
}

/// Which calls an [`Answer`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    CreateNote,
    ListNotes,
    GraphQl,
}

/// A request as the double received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: std::time::Instant,
    pub method: Method,
    pub path: String,
    pub private_token: Option<String>,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNote {
    pub id: i64,
    pub body: String,
    pub author: String,
}

#[derive(Default)]
pub struct State {
    pub received: Vec<Received>,
    /// Scripted answers per kind, used in order.
    pub scripts: HashMap<Kind, VecDeque<Answer>>,
    /// Notes per project path and issue number.
    pub notes: HashMap<(String, i64), Vec<StoredNote>>,
    pub next_id: i64,
    /// The catalog's verification level per root namespace.
    pub levels: HashMap<String, String>,
    /// Each level set, in order.
    pub mutations: Vec<(String, String)>,
    /// Projects that are published catalog resources.
    pub catalog_resources: std::collections::HashSet<String>,
    /// A rate limit on GraphQL, and the calls of the last second.
    pub graphql_per_second: Option<usize>,
    pub graphql_calls: Vec<std::time::Instant>,
    /// The OpenID provider: users, grants, tokens.
    pub oidc: oidc::Provider,
}

/// A running double; stops when dropped.
pub struct GitLabDouble {
    pub url: String,
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for GitLabDouble {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl GitLabDouble {
    /// A double on a free loopback port.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    pub async fn start_on(addr: SocketAddr) -> Self {
        let state = Arc::new(Mutex::new(State {
            next_id: 5_000_000,
            ..State::default()
        }));
        let listener = TcpListener::bind(addr).await.expect("the double binds");
        let addr = listener.local_addr().unwrap();
        state.lock().unwrap().oidc.issuer = format!("http://{addr}");
        let app = Router::new()
            .merge(notes::router())
            .merge(graphql::router())
            .merge(oidc::router())
            .fallback(not_found)
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url: format!("http://{addr}"),
            addr,
            state,
            server,
        }
    }

    /// The next calls of `kind` get these answers, in order.
    pub fn script(&self, kind: Kind, answers: impl IntoIterator<Item = Answer>) {
        self.state
            .lock()
            .unwrap()
            .scripts
            .entry(kind)
            .or_default()
            .extend(answers);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Requests received for paths starting with `prefix` and `method`.
    pub fn received_at(&self, method: Method, prefix: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.method == method && r.path.starts_with(prefix))
            .collect()
    }
}

/// What a handler is to do with a call: its scripted answer, if any.
pub fn take_script(state: &Mutex<State>, kind: Kind) -> Option<Answer> {
    state
        .lock()
        .unwrap()
        .scripts
        .get_mut(&kind)
        .and_then(VecDeque::pop_front)
}

pub fn record(state: &Mutex<State>, method: Method, uri: &Uri, headers: &HeaderMap, body: Value) {
    state.lock().unwrap().received.push(Received {
        at: std::time::Instant::now(),
        method,
        path: uri.path().to_owned(),
        private_token: headers
            .get("private-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body,
    });
}

/// GitLab's error answer for a scripted status.
pub fn error_answer(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap();
    let message = match status.as_u16() {
        401 => "401 Unauthorized".to_owned(),
        403 => "403 Forbidden".to_owned(),
        404 => "404 Project Not Found".to_owned(),
        s => format!("{s} {}", status.canonical_reason().unwrap_or("")),
    };
    (status, axum::Json(json!({ "message": message }))).into_response()
}

/// A scripted answer that is not "do it": the response to send.
pub async fn scripted(answer: &Answer) -> Option<Response> {
    match answer {
        Answer::Status(status) => Some(error_answer(*status)),
        Answer::TooMany { retry_after } => {
            let reset = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + retry_after;
            Some(
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [
                        ("retry-after", retry_after.to_string()),
                        ("ratelimit-reset", reset.to_string()),
                        ("ratelimit-remaining", "0".to_owned()),
                    ],
                    axum::Json(json!({ "message": "Retry later" })),
                )
                    .into_response(),
            )
        }
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            None
        }
        Answer::DoThenHang | Answer::MutationErrors(_) => None,
    }
}

/// Whether the request carries a token this GitLab knows.
pub fn authorised(headers: &HeaderMap, tokens: &[&str]) -> bool {
    headers
        .get("private-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| tokens.contains(&t))
}

async fn not_found(method: Method, uri: Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(
            json!({ "error": "404 Not Found", "method": method.as_str(), "path": uri.path() }),
        ),
    )
        .into_response()
}
