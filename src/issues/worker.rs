//! The issues' own scheduler loop, every `PORTAL_SCHEDULER_INTERVAL_SECS`:
//! reminders and escalations, then the daily digest. (To be folded into the
//! shared scheduler: it calls the same two jobs.)

use tokio_util::sync::CancellationToken;

use super::jobs;
use crate::state::AppState;

pub async fn run(state: AppState, shutdown: CancellationToken) {
    let interval = state.config.scheduler_interval;
    loop {
        let now = state.clock.now();
        match jobs::run_reminders(&state, now).await {
            Ok(report) if report.examined > 0 => tracing::info!(
                reminders = report.reminders,
                escalations = report.escalations,
                "issues: reminder pass done"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "issues: reminder pass failed"),
        }
        if let Err(e) = jobs::run_daily_digest(&state, now).await {
            tracing::warn!(error = %e, "issues: daily digest failed");
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(interval) => {}
        }
    }
    tracing::info!("issue scheduler stopped");
}
