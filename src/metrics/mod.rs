//! What an operator watches: `GET /metrics` in the Prometheus text format
//! (OpenMetrics), served on `PORTAL_METRICS_ADDR` only, never on the public
//! listener. Each metric is documented in the README with an example alert.
//!
//! Counters and histograms are kept in memory by the code that does the
//! work (requests, sign-ins, the scheduler); the state of the queues and of
//! the database pool is read when Prometheus scrapes (`sample`). The
//! registry is an explicit value (`prometheus-client`), one per
//! application, so tests running several portals in one process each see
//! their own.

mod http;
mod sample;
mod server;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use std::sync::atomic::AtomicU64;

pub use http::track;
pub use sample::OUTBOX_QUEUES;
pub use server::{MetricsServer, router};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route template (`/licenses/{id}`), never the path itself.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub job: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    /// `account` or `address`.
    pub limit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// `idle` or `in_use`.
    pub state: String,
}

type Seconds = Gauge<f64, AtomicU64>;

fn latency_histogram() -> Histogram {
    // 1 ms to ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn job_histogram() -> Histogram {
    // 1 ms to ~2 min.
    Histogram::new(exponential_buckets(0.001, 2.0, 18))
}

/// Every metric of one portal instance.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub sign_in_failures: Counter,
    pub sign_in_refused: Family<LimitLabels, Counter>,
    pub account_locks: Counter,
    pub second_factor_failures: Counter,
    pub job_duration: Family<JobLabels, Histogram, fn() -> Histogram>,
    pub job_failures: Family<JobLabels, Counter>,
    pub pass_duration: Histogram,
    outbox_pending: Family<QueueLabels, Gauge>,
    outbox_dead: Family<QueueLabels, Gauge>,
    outbox_overdue: Family<QueueLabels, Seconds>,
    inbox_pending: Gauge,
    inbox_failed: Gauge,
    inbox_lag: Seconds,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    pool_waiting: Gauge,
    scrape_errors: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("portal");
        let m = Self {
            requests: Family::default(),
            request_duration: Family::new_with_constructor(latency_histogram),
            sign_in_failures: Counter::default(),
            sign_in_refused: Family::default(),
            account_locks: Counter::default(),
            second_factor_failures: Counter::default(),
            job_duration: Family::new_with_constructor(job_histogram),
            job_failures: Family::default(),
            pass_duration: job_histogram(),
            outbox_pending: Family::default(),
            outbox_dead: Family::default(),
            outbox_overdue: Family::default(),
            inbox_pending: Gauge::default(),
            inbox_failed: Gauge::default(),
            inbox_lag: Seconds::default(),
            pool_connections: Family::default(),
            pool_max: Gauge::default(),
            pool_waiting: Gauge::default(),
            scrape_errors: Counter::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "http_requests",
            "Requests answered, by method, route template and status",
            m.requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time from routing to the response head, by method and route template",
            m.request_duration.clone(),
        );
        r.register(
            "sign_in_failures",
            "Sign-ins refused for a wrong email address or password",
            m.sign_in_failures.clone(),
        );
        r.register(
            "sign_in_refused",
            "Sign-ins refused without checking the password, because the account or the client address is paused",
            m.sign_in_refused.clone(),
        );
        r.register(
            "account_locks",
            "Accounts paused after 10 failed sign-ins in 15 minutes (the owner is emailed)",
            m.account_locks.clone(),
        );
        r.register(
            "second_factor_failures",
            "Wrong second-factor codes",
            m.second_factor_failures.clone(),
        );
        r.register(
            "scheduler_job_duration_seconds",
            "Time one scheduler job took, by job",
            m.job_duration.clone(),
        );
        r.register(
            "scheduler_job_failures",
            "Scheduler job runs that failed (retried next pass), by job",
            m.job_failures.clone(),
        );
        r.register(
            "scheduler_pass_duration_seconds",
            "Time one scheduler pass (every job once) took",
            m.pass_duration.clone(),
        );
        r.register(
            "outbox_pending",
            "Deliveries waiting (due, retrying or being sent), by queue",
            m.outbox_pending.clone(),
        );
        r.register(
            "outbox_dead",
            "Deliveries given up (permanent failure or too many attempts), by queue",
            m.outbox_dead.clone(),
        );
        r.register(
            "outbox_oldest_due_age_seconds",
            "How long the most overdue waiting delivery has been due, by queue (0: none overdue)",
            m.outbox_overdue.clone(),
        );
        r.register(
            "webhook_inbox_pending",
            "Platform webhook deliveries stored and not yet applied",
            m.inbox_pending.clone(),
        );
        r.register(
            "webhook_inbox_failed",
            "Platform webhook deliveries set aside after repeated failures",
            m.inbox_failed.clone(),
        );
        r.register(
            "webhook_inbox_lag_seconds",
            "Age of the oldest webhook delivery not yet applied (0: none)",
            m.inbox_lag.clone(),
        );
        r.register(
            "db_pool_connections",
            "Connections this instance holds to PostgreSQL, idle or in use",
            m.pool_connections.clone(),
        );
        r.register(
            "db_pool_max_connections",
            "PORTAL_DB_POOL_SIZE: the most connections this instance opens",
            m.pool_max.clone(),
        );
        r.register(
            "db_pool_waiting",
            "Tasks waiting for a connection from the pool right now",
            m.pool_waiting.clone(),
        );
        r.register(
            "metrics_scrape_errors",
            "Scrapes whose database readings failed (the other series are still served)",
            m.scrape_errors.clone(),
        );
        Self { registry, ..m }
    }

    /// Records a sign-in refused because `limit` (`account`, `address`)
    /// is paused.
    pub fn sign_in_refused(&self, limit: &str) {
        self.sign_in_refused
            .get_or_create(&LimitLabels {
                limit: limit.to_owned(),
            })
            .inc();
    }

    /// Records one scheduler job run.
    pub fn job_ran(&self, job: &str, elapsed: std::time::Duration, failed: bool) {
        let labels = JobLabels {
            job: job.to_owned(),
        };
        self.job_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        let failures = self.job_failures.get_or_create(&labels);
        if failed {
            failures.inc();
        }
    }

    /// The text Prometheus reads.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String does not fail");
        text
    }
}
