//! The public directory and the verified-namespaces feed, served from an
//! in-memory snapshot. Whatever changes what they show (a listing, a
//! namespace, a component, a partner's standing) bumps `directory_version`
//! and sends `NOTIFY directory_changed` in its own transaction (triggers,
//! so no code path can forget). Every instance listens and rebuilds; a
//! periodic version check catches a notification lost while reconnecting.
//! Requests never see a snapshot older than the last change this instance
//! made itself: [`Directory::invalidate`] makes the next read rebuild.

pub mod index;
pub mod pages;
pub mod search;
pub mod snapshot;

use std::{
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sqlx::{PgPool, postgres::PgListener};
use tokio_util::sync::CancellationToken;

pub use search::{DirectoryQuery, Found, PER_PAGE, Params, search};
pub use snapshot::{ComponentEntry, Entry, LogoRef, Snapshot};

/// How often the version is compared when no notification came.
const VERSION_CHECK: Duration = Duration::from_secs(30);
const CHANNEL: &str = "directory_changed";

pub struct Directory {
    pool: PgPool,
    current: RwLock<Arc<Snapshot>>,
    /// Bumped by every invalidation.
    wanted: AtomicU64,
    /// The invalidations the current snapshot covers: it was read after
    /// `wanted` reached this value.
    built: AtomicU64,
    /// One rebuild at a time; readers arriving meanwhile wait for it.
    rebuilding: tokio::sync::Mutex<()>,
}

impl Directory {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            current: RwLock::new(Arc::new(Snapshot::default())),
            wanted: AtomicU64::new(1),
            built: AtomicU64::new(0),
            rebuilding: tokio::sync::Mutex::new(()),
        }
    }

    /// Marks the snapshot out of date (after this instance changed something).
    pub fn invalidate(&self) {
        self.wanted.fetch_add(1, Ordering::SeqCst);
    }

    fn current(&self) -> Arc<Snapshot> {
        self.current.read().expect("not poisoned").clone()
    }

    /// The current snapshot, rebuilt first if this instance changed
    /// something since it was read: a reader never gets a snapshot read
    /// before an invalidation it comes after.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, sqlx::Error> {
        let wanted = self.wanted.load(Ordering::SeqCst);
        if self.built.load(Ordering::SeqCst) >= wanted {
            return Ok(self.current());
        }
        let _one_at_a_time = self.rebuilding.lock().await;
        // The rebuild this reader waited for may cover it.
        if self.built.load(Ordering::SeqCst) >= wanted {
            return Ok(self.current());
        }
        self.rebuild().await
    }

    /// Reads a new snapshot; the caller holds `rebuilding`.
    async fn rebuild(&self) -> Result<Arc<Snapshot>, sqlx::Error> {
        // Everything invalidated until now is committed: the read sees it.
        let target = self.wanted.load(Ordering::SeqCst);
        let started = std::time::Instant::now();
        match snapshot::load(&self.pool).await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                tracing::debug!(
                    version = fresh.version,
                    listings = fresh.entries.len(),
                    namespaces = fresh.feed.count,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "directory rebuilt"
                );
                *self.current.write().expect("not poisoned") = fresh.clone();
                self.built.fetch_max(target, Ordering::SeqCst);
                compress_feed_later(&fresh);
                Ok(fresh)
            }
            Err(e) => {
                let previous = self.current();
                if previous.built_at.is_some() {
                    tracing::warn!(error = %e, "directory: rebuild failed; serving the previous snapshot");
                    Ok(previous)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Rebuilds when the database holds a newer version than the snapshot.
    /// Readers are not held up meanwhile: they keep the previous snapshot
    /// (another instance's change shows a moment later). A burst of
    /// notifications costs one rebuild: the others find nothing new.
    async fn refresh(&self) {
        let _one_at_a_time = self.rebuilding.lock().await;
        let version = sqlx::query_scalar!("select version from directory_version")
            .fetch_one(&self.pool)
            .await;
        let current = self.current();
        match version {
            Ok(v) if current.built_at.is_some() && v == current.version => {}
            Ok(_) => {
                if let Err(e) = self.rebuild().await {
                    tracing::warn!(error = %e, "directory: rebuild failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "directory: version check failed"),
        }
    }

    /// Rebuilds on every `directory_changed` notification and checks the
    /// version every 30 s, until `shutdown`.
    pub async fn watch(self: Arc<Self>, shutdown: CancellationToken) {
        let mut listener = None;
        let mut check = tokio::time::interval(VERSION_CHECK);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if listener.is_none() {
                listener = self.listen().await;
                // Notifications may have been missed while not listening.
                self.refresh().await;
            }
            let notified = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await.map(drop),
                    None => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        Ok(())
                    }
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                result = notified => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "directory: lost the notification channel");
                        listener = None;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    } else {
                        self.refresh().await;
                    }
                }
                _ = check.tick() => self.refresh().await,
            }
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = match PgListener::connect_with(&self.pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "directory: cannot listen for changes");
                return None;
            }
        };
        match listener.listen(CHANNEL).await {
            Ok(()) => Some(listener),
            Err(e) => {
                tracing::warn!(error = %e, "directory: cannot listen for changes");
                None
            }
        }
    }
}

/// Compresses the feed of `snapshot` harder on a blocking thread, unless
/// the snapshot is gone by then (replaced by a newer one and no longer
/// served): a burst of changes does not queue a compression for each.
fn compress_feed_later(snapshot: &Arc<Snapshot>) {
    let snapshot = Arc::downgrade(snapshot);
    tokio::task::spawn_blocking(move || {
        if let Some(snapshot) = snapshot.upgrade() {
            let started = std::time::Instant::now();
            snapshot.feed.compress_harder();
            tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "feed compressed with brotli and zopfli"
            );
        }
    });
}
