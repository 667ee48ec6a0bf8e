//! The background scheduler: one loop per portal instance that runs the
//! registered jobs in order, once at start and then every
//! `PORTAL_SCHEDULER_INTERVAL_SECS`, until shutdown.
//!
//! A job only decides and enqueues: it claims its work with `FOR UPDATE SKIP
//! LOCKED` and records what it has done under a unique key (`insert … on
//! conflict do nothing`) in the same transaction as its emails, so running it
//! twice, on two instances at once or after a crash has one effect. Jobs take
//! `now` as a parameter; tests call [`run_at`] with a moved clock instead of
//! waiting.
//!
//! To add a job, write `async fn my_job(state: &AppState, now: DateTime<Utc>)
//! -> AppResult<usize>` in its area, a one-line wrapper below that boxes its
//! future, and an entry in [`JOBS`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::{error::AppResult, licenses, state::AppState};

/// A job's run at `now`: how many things it did (for the logs).
pub type JobFn = for<'a> fn(&'a AppState, DateTime<Utc>) -> BoxFuture<'a, AppResult<usize>>;

pub struct Job {
    pub name: &'static str,
    pub run: JobFn,
}

/// Every job, in the order they run on each pass.
pub const JOBS: &[Job] = &[
    Job {
        name: "license expiry reminders",
        run: license_expiry_reminders,
    },
    Job {
        name: "issue reminders and escalations",
        run: issue_reminders,
    },
    Job {
        name: "daily digest of overdue issues",
        run: issue_digest,
    },
    Job {
        name: "customer comments gathered for 15 minutes",
        run: issue_comment_alerts,
    },
    Job {
        name: "catalog badges compared with the catalog",
        run: catalog_comparison,
    },
    Job {
        name: "housekeeping",
        run: housekeeping,
    },
];

fn issue_reminders(state: &AppState, now: DateTime<Utc>) -> BoxFuture<'_, AppResult<usize>> {
    Box::pin(async move {
        let report = crate::issues::jobs::run_reminders(state, now).await?;
        Ok(report.reminders + report.escalations)
    })
}

fn catalog_comparison(state: &AppState, now: DateTime<Utc>) -> BoxFuture<'_, AppResult<usize>> {
    Box::pin(crate::namespaces::catalog::compare(state, now))
}

fn issue_comment_alerts(state: &AppState, now: DateTime<Utc>) -> BoxFuture<'_, AppResult<usize>> {
    Box::pin(crate::issues::alerts::run_due(state, now))
}

fn issue_digest(state: &AppState, now: DateTime<Utc>) -> BoxFuture<'_, AppResult<usize>> {
    Box::pin(async move {
        Ok(usize::from(
            crate::issues::jobs::run_daily_digest(state, now).await?,
        ))
    })
}

/// Removes sessions past their limits, rate-limit events and counted
/// writes past any window, and sign-ins with GitLab nobody came back from;
/// seals TOTP secrets an older instance wrote in plain text during a
/// rolling upgrade.
fn housekeeping(state: &AppState, now: DateTime<Utc>) -> BoxFuture<'_, AppResult<usize>> {
    Box::pin(async move {
        let mut conn = state.pool.acquire().await?;
        let sessions = crate::accounts::session::prune(&mut conn, &state.config, now).await?;
        let events = crate::accounts::throttle::prune(&mut conn, now).await?;
        let writes = crate::limits::prune(&mut conn, now).await?;
        let attempts = crate::accounts::gitlab_flow::prune(&mut conn, now).await?;
        drop(conn);
        let sealed = crate::accounts::totp_secrets::seal_plain(&state.pool, &state.secrets).await?;
        Ok((sessions + events + writes + attempts + sealed) as usize)
    })
}

fn license_expiry_reminders(
    state: &AppState,
    now: DateTime<Utc>,
) -> BoxFuture<'_, AppResult<usize>> {
    Box::pin(licenses::reminder_job::send_expiry_reminders(state, now))
}

/// One pass at the clock's time.
pub async fn run_once(state: &AppState) -> AppResult<()> {
    run_at(state, state.clock.now()).await
}

/// What one job did in a pass, and how long it took.
pub struct JobRun {
    pub name: &'static str,
    pub result: AppResult<usize>,
    pub elapsed: Duration,
}

/// Every job once at `now`, in order, each even if an earlier one failed.
pub async fn run_jobs(state: &AppState, now: DateTime<Utc>) -> Vec<JobRun> {
    let mut runs = Vec::with_capacity(JOBS.len());
    for job in JOBS {
        let started = std::time::Instant::now();
        let result = (job.run)(state, now).await;
        runs.push(JobRun {
            name: job.name,
            result,
            elapsed: started.elapsed(),
        });
    }
    runs
}

/// One pass at `now`: every job runs even if an earlier one fails; the first
/// failure is returned after all have run.
pub async fn run_at(state: &AppState, now: DateTime<Utc>) -> AppResult<()> {
    let mut first_error = None;
    let started = std::time::Instant::now();
    let runs = run_jobs(state, now).await;
    state
        .metrics
        .pass_duration
        .observe(started.elapsed().as_secs_f64());
    for run in runs {
        state
            .metrics
            .job_ran(run.name, run.elapsed, run.result.is_err());
        let elapsed_ms = run.elapsed.as_secs_f64() * 1000.0;
        match run.result {
            Ok(0) => tracing::debug!(job = run.name, elapsed_ms, "scheduler: nothing to do"),
            Ok(done) => {
                tracing::info!(job = run.name, done, elapsed_ms, "scheduler: job done");
            }
            Err(e) => {
                tracing::warn!(job = run.name, error = %e, "scheduler: job failed; retrying next pass");
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

pub struct Scheduler {
    state: AppState,
    interval: Duration,
}

impl Scheduler {
    pub fn new(state: AppState) -> Self {
        let interval = state.config.scheduler_interval;
        Self { state, interval }
    }

    /// Runs a pass now and then every interval until `shutdown`. A pass cut
    /// short by shutdown rolls back its open transaction, whose work the
    /// next pass (on any instance) picks up.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticks.tick() => {}
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = run_once(&self.state) => {}
            }
        }
        tracing::info!("scheduler stopped");
    }
}
