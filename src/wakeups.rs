//! One `LISTEN` connection per instance for every background worker that
//! waits for a commit (the outbox queues, the webhook inbox), instead of a
//! pooled connection held by each: a notification on a channel wakes that
//! channel's worker. Each worker also polls on its own, so a notification
//! lost while the connection is being re-established costs a delay, never
//! a delivery.

use std::{collections::HashMap, sync::Arc, time::Duration};

use sqlx::{PgPool, postgres::PgListener};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub struct Wakeups {
    channels: HashMap<&'static str, Arc<Notify>>,
}

impl Wakeups {
    pub fn new(channels: &[&'static str]) -> Arc<Self> {
        Arc::new(Self {
            channels: channels
                .iter()
                .map(|c| (*c, Arc::new(Notify::new())))
                .collect(),
        })
    }

    /// What wakes the worker of `channel`. A wake-up that comes while the
    /// worker is busy is kept for its next wait.
    pub fn of(&self, channel: &str) -> Arc<Notify> {
        self.channels
            .get(channel)
            .cloned()
            .unwrap_or_else(|| panic!("no wake-up channel {channel:?}"))
    }

    fn wake_all(&self) {
        self.channels.values().for_each(|n| n.notify_one());
    }

    /// Listens until `shutdown`, reconnecting after a lost connection (and
    /// waking everybody then, as notifications may have been missed).
    pub async fn run(self: Arc<Self>, pool: PgPool, shutdown: CancellationToken) {
        let names: Vec<&str> = self.channels.keys().copied().collect();
        loop {
            let listener = async {
                let mut listener = PgListener::connect_with(&pool).await?;
                listener.listen_all(names.iter().copied()).await?;
                Ok::<_, sqlx::Error>(listener)
            };
            let mut listener = tokio::select! {
                _ = shutdown.cancelled() => return,
                l = listener => match l {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::warn!(error = %e, "wake-ups: cannot listen; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                },
            };
            self.wake_all();
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    received = listener.recv() => match received {
                        Ok(n) => {
                            if let Some(notify) = self.channels.get(n.channel()) {
                                notify.notify_one();
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "wake-ups: lost the notification connection");
                            break;
                        }
                    },
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
