//! What every handler can reach.

use std::sync::Arc;

use sqlx::PgPool;

use crate::{
    accounts::{Passwords, remembered::SessionCache},
    clock::Clock,
    config::Config,
    gitlab::GitLab,
    listings::Directory,
    metrics::Metrics,
    secrets::Secrets,
};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub passwords: Passwords,
    /// The public directory and namespaces feed, served from memory.
    pub directory: Arc<Directory>,
    /// Sessions remembered between requests (confirmed before use).
    pub sessions: Arc<SessionCache>,
    /// The platform instance and the one HTTP client that reaches it.
    pub gitlab: GitLab,
    /// Seals and opens secrets kept at rest (TOTP secrets, tokens).
    pub secrets: Arc<Secrets>,
    /// Counters and histograms for `GET /metrics`.
    pub metrics: Arc<Metrics>,
}
