//! Sessions remembered between requests, so that a partner page does not
//! read its session with a round trip of its own.
//!
//! A remembered session is never trusted as it stands. The request that
//! uses it is *unconfirmed* until the database says the session is still
//! exactly what was remembered (`session_confirm`: the session's stamp,
//! which triggers move whenever the user or their membership changes, is
//! the one remembered, no message waits and no limit has passed):
//!
//! - a partner page confirms it in the round trip that opens its tenant
//!   transaction ([`Unconfirmed::confirm_call`]), so nothing runs on
//!   the organisation's data before the session is known good;
//! - any other response waits for the session layer to confirm it after the
//!   handler, and is replaced by a redirect to the same address when the
//!   session changed (GET only: every other method reads the session).
//!
//! A session is remembered only while it needs no touch (its
//! `last_seen_at` is less than a minute old), so the idle limit and the
//! touch work exactly as for a session read every time.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU8, Ordering},
    },
};

use chrono::{DateTime, SecondsFormat, Utc};

use super::session::{Session, TOUCH_EVERY};

/// Entries kept before the stale ones are swept out.
const SWEEP_ABOVE: usize = 4096;
/// Entries kept at most; past this everything is forgotten at once.
const MAX_ENTRIES: usize = 65_536;

/// What the database said about a session, for the next requests.
#[derive(Debug, Clone)]
pub struct Remembered {
    pub session: Session,
    /// `sessions.stamp` as read; `None` when the session must not be
    /// remembered (a message waits that this request did not take).
    pub stamp: Option<i64>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Remembered {
    /// Only complete sessions of partner users in an organisation: the ones
    /// partner pages serve. A message waiting is taken, never remembered.
    fn worth_keeping(&self) -> bool {
        let s = &self.session;
        !s.second_factor_pending
            && s.user.email_verified
            && !s.user.is_staff()
            && s.user.membership.is_some()
            && self.stamp.is_some()
    }

    fn fresh_at(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at && now - self.last_seen_at < TOUCH_EVERY && now >= self.last_seen_at
    }
}

/// The sessions of this process, by the hash of their cookie token.
#[derive(Debug, Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<Vec<u8>, Remembered>>,
}

impl SessionCache {
    /// A remembered session still fresh at `now`, unconfirmed.
    pub fn recall(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Option<(Session, Arc<Unconfirmed>)> {
        let entries = self.entries.lock().expect("not poisoned");
        let r = entries.get(token_hash).filter(|r| r.fresh_at(now))?;
        let pending = Unconfirmed {
            token_hash: token_hash.to_vec(),
            session_id: r.session.id,
            stamp: r.stamp?,
            outcome: AtomicU8::new(Outcome::Unconfirmed as u8),
        };
        Some((r.session.clone(), Arc::new(pending)))
    }

    pub fn remember(&self, token_hash: &[u8], mut found: Remembered, now: DateTime<Utc>) {
        if !found.worth_keeping() {
            self.forget(token_hash);
            return;
        }
        found.session.flash = None;
        let mut entries = self.entries.lock().expect("not poisoned");
        if entries.len() >= SWEEP_ABOVE {
            entries.retain(|_, r| r.fresh_at(now));
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(token_hash.to_vec(), found);
    }

    pub fn forget(&self, token_hash: &[u8]) {
        self.entries
            .lock()
            .expect("not poisoned")
            .remove(token_hash);
    }
}

/// Where an unconfirmed session stands after the handler ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Outcome {
    Unconfirmed = 0,
    /// The database confirmed it, or it was read again.
    Confirmed = 1,
    /// Read again: it no longer exists (the cookie is cleared).
    Gone = 2,
}

/// A session taken from memory that the database has not confirmed yet.
#[derive(Debug)]
pub struct Unconfirmed {
    pub token_hash: Vec<u8>,
    session_id: i64,
    stamp: i64,
    outcome: AtomicU8,
}

impl Unconfirmed {
    /// The call that raises `PPS01` unless the session still stands as
    /// remembered. Sent as text in the round trip that opens a transaction:
    /// every value in it is a number or a timestamp made here.
    pub fn confirm_call(&self, now: DateTime<Utc>, idle_since: DateTime<Utc>) -> String {
        format!(
            "session_confirm({}, {}, '{}', '{}')",
            self.session_id,
            self.stamp,
            now.to_rfc3339_opts(SecondsFormat::Micros, true),
            idle_since.to_rfc3339_opts(SecondsFormat::Micros, true),
        )
    }

    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    pub fn stamp(&self) -> i64 {
        self.stamp
    }

    pub fn outcome(&self) -> Outcome {
        match self.outcome.load(Ordering::Acquire) {
            1 => Outcome::Confirmed,
            2 => Outcome::Gone,
            _ => Outcome::Unconfirmed,
        }
    }

    pub fn settle(&self, outcome: Outcome) {
        self.outcome.store(outcome as u8, Ordering::Release);
    }
}

/// Whether `e` is `session_confirm` saying the session changed.
pub fn is_changed(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("PPS01"))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::accounts::session::SessionUser;

    fn found(now: DateTime<Utc>) -> Remembered {
        Remembered {
            session: Session {
                id: 7,
                user: SessionUser {
                    id: 3,
                    email: "ada@acme.test".into(),
                    name: "Ada".into(),
                    staff_role: None,
                    email_verified: true,
                    membership: Some((11, "owner".into())),
                },
                csrf_token: "csrf".into(),
                second_factor_pending: false,
                flash: Some("Saved.".into()),
            },
            stamp: Some(4),
            last_seen_at: now,
            expires_at: now + Duration::hours(12),
        }
    }

    #[test]
    fn a_session_is_recalled_until_it_needs_a_touch() {
        let cache = SessionCache::default();
        let now = Utc::now();
        cache.remember(b"h", found(now), now);
        let (session, pending) = cache.recall(b"h", now + Duration::seconds(59)).unwrap();
        assert_eq!(session.flash, None, "a message is never remembered");
        assert_eq!(pending.outcome(), Outcome::Unconfirmed);
        assert!(cache.recall(b"h", now + TOUCH_EVERY).is_none());
        assert!(cache.recall(b"other", now).is_none());
        cache.forget(b"h");
        assert!(cache.recall(b"h", now).is_none());
    }

    #[test]
    fn only_complete_partner_sessions_are_remembered() {
        let cache = SessionCache::default();
        let now = Utc::now();
        let mut cases = Vec::new();
        let mut staff = found(now);
        staff.session.user.staff_role = Some("admin".into());
        cases.push(staff);
        let mut half = found(now);
        half.session.second_factor_pending = true;
        cases.push(half);
        let mut unverified = found(now);
        unverified.session.user.email_verified = false;
        cases.push(unverified);
        let mut no_org = found(now);
        no_org.session.user.membership = None;
        cases.push(no_org);
        let mut flash_waiting = found(now);
        flash_waiting.stamp = None;
        cases.push(flash_waiting);
        for case in cases {
            cache.remember(b"h", case, now);
            assert!(cache.recall(b"h", now).is_none());
        }
    }

    #[test]
    fn the_confirmation_carries_only_numbers_and_timestamps() {
        let cache = SessionCache::default();
        let now = DateTime::parse_from_rfc3339("2026-11-24T23:47:00.5Z")
            .unwrap()
            .to_utc();
        cache.remember(b"h", found(now), now);
        let (_, pending) = cache.recall(b"h", now).unwrap();
        assert_eq!(
            pending.confirm_call(now, now - Duration::minutes(30)),
            "session_confirm(7, 4, '2026-11-24T23:47:00.500000Z', '2026-11-24T23:17:00.500000Z')"
        );
    }
}
