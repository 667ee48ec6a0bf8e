//! Building and running the portal: database, listener, router, background
//! tasks, and a graceful stop.

use std::{net::SocketAddr, sync::Arc};

use axum::Router;
use tokio::{net::TcpListener, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    accounts::{self, Passwords},
    calls::{self, GITLAB_CALLS},
    clock::Clock,
    config::Config,
    db::{self, DbError},
    gitlab::GitLab,
    http::{self, SHUTDOWN_GRACE},
    integrations::webhooks::{self, ENDPOINT_DELIVERIES},
    issues,
    jobs::Scheduler,
    listings::Directory,
    mail::{Dispatcher, MAIL},
    metrics::{Metrics, MetricsServer},
    secrets::{self, Secrets},
    state::AppState,
    wakeups::Wakeups,
};

/// Why the portal could not start, as one line for the person starting it.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("PORTAL_ADDR: cannot listen on {addr} ({cause})")]
    Bind { addr: SocketAddr, cause: String },
    #[error("{0}")]
    Mail(String),
    #[error("PORTAL_METRICS_ADDR: cannot listen on {addr} ({cause})")]
    MetricsBind { addr: SocketAddr, cause: String },
    #[error(transparent)]
    Secrets(#[from] secrets::KeyError),
}

/// Knobs for tests; the defaults are what production runs.
pub struct Options {
    /// Routes merged into the router (tests add a panicking or slow route).
    pub extra_routes: Router<AppState>,
    pub clock: Clock,
    /// Start the outbox dispatcher and scheduler with the server.
    pub background_tasks: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            extra_routes: Router::new(),
            clock: Clock::system(),
            background_tasks: true,
        }
    }
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    background_tasks: bool,
    metrics: Option<MetricsServer>,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        Self::build_with(config, Options::default()).await
    }

    pub async fn build_with(config: Config, options: Options) -> Result<Self, StartupError> {
        let secrets = Arc::new(Secrets::load(&config)?);
        let pool = db::prepare(&config).await?;
        // Secrets an earlier release kept in plain text are sealed now
        // (safe while other instances do the same).
        accounts::totp_secrets::seal_plain(&pool, &secrets)
            .await
            .map_err(|e| StartupError::Database(DbError::Migration(e.to_string())))?;
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|e| StartupError::Bind {
                addr: config.addr,
                cause: e.to_string(),
            })?;
        let bound = listener.local_addr().map_err(|e| StartupError::Bind {
            addr: config.addr,
            cause: e.to_string(),
        })?;
        let metrics =
            match config.metrics_addr {
                Some(addr) => Some(MetricsServer::bind(addr).await.map_err(|e| {
                    StartupError::MetricsBind {
                        addr,
                        cause: e.to_string(),
                    }
                })?),
                None => None,
            };
        let config = config.with_bound_addr(bound);
        let gitlab = GitLab::new(&config.gitlab, &config.public_url);
        let state = AppState {
            pool: pool.clone(),
            config: Arc::new(config),
            clock: options.clock,
            passwords: Passwords::new(),
            directory: Arc::new(Directory::new(pool.clone())),
            sessions: Arc::default(),
            gitlab,
            secrets,
            metrics: Arc::new(Metrics::new()),
        };
        // Fail at start, not at the first email, if the transport is unusable.
        Dispatcher::new(state.pool.clone(), &state.config, state.clock.clone())
            .map_err(StartupError::Mail)?;
        let router = http::build_router(state.clone(), options.extra_routes);
        Ok(Self {
            listener,
            router,
            state,
            background_tasks: options.background_tasks,
            metrics,
        })
    }

    pub fn port(&self) -> u16 {
        self.state.config.addr.port()
    }

    /// The port of `GET /metrics`, when `PORTAL_METRICS_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics
            .as_ref()
            .and_then(|m| m.local_addr().ok())
            .map(|a| a.port())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` is cancelled, then lets in-flight requests
    /// finish (up to [`SHUTDOWN_GRACE`]) and stops the background tasks.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let Self {
            listener,
            router,
            state,
            background_tasks,
            metrics,
        } = self;

        let mut tasks = JoinSet::new();
        if let Some(metrics) = metrics {
            tasks.spawn(metrics.serve(state.clone(), shutdown.child_token()));
        }
        // Part of serving, not a background job: keeps the directory fresh.
        tasks.spawn(state.directory.clone().watch(shutdown.child_token()));
        if background_tasks {
            let dispatcher =
                Dispatcher::new(state.pool.clone(), &state.config, state.clock.clone())
                    .map_err(std::io::Error::other)?;
            // One LISTEN connection wakes every worker below.
            let wakeups = Wakeups::new(&[
                MAIL.channel,
                GITLAB_CALLS.channel,
                ENDPOINT_DELIVERIES.channel,
                issues::inbox::CHANNEL,
            ]);
            tasks.spawn(
                wakeups
                    .clone()
                    .run(state.pool.clone(), shutdown.child_token()),
            );
            tasks.spawn(dispatcher.run(wakeups.of(MAIL.channel), shutdown.child_token()));
            tasks.spawn(
                calls::worker(&state).run(wakeups.of(GITLAB_CALLS.channel), shutdown.child_token()),
            );
            tasks.spawn(webhooks::delivery::worker(&state).run(
                wakeups.of(ENDPOINT_DELIVERIES.channel),
                shutdown.child_token(),
            ));
            tasks.spawn(Scheduler::new(state.clone()).run(shutdown.child_token()));
            tasks.spawn(issues::inbox::run(
                state.clone(),
                wakeups.of(issues::inbox::CHANNEL),
                shutdown.child_token(),
            ));
        }

        tracing::info!(address = %state.config.addr, public_url = %state.config.public_url, "partner portal listening");
        let server = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned());
        let mut server = std::pin::pin!(server.into_future());

        let result = tokio::select! {
            result = &mut server => result,
            _ = shutdown.cancelled() => {
                tracing::info!("shutting down: finishing in-flight requests");
                match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
                    Ok(result) => result,
                    Err(_) => {
                        tracing::warn!("in-flight requests did not finish in time");
                        Ok(())
                    }
                }
            }
        };
        shutdown.cancel();
        while tasks.join_next().await.is_some() {}
        state.pool.close().await;
        tracing::info!("stopped");
        result
    }
}

/// Cancels `token` on SIGINT or SIGTERM.
pub async fn cancel_on_signal(token: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("stop signal received");
    token.cancel();
}
