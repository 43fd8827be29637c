//! Recently read sessions, so that a busy session's validations do not each
//! go to SQLite.
//!
//! Only on SQLite, where this process is the database's only writer: every
//! write that changes what `find_session` returns (renewal, logout, expiry,
//! a user's or a service's (de)activation) goes through `Database` here and
//! drops the entries it touches once it has committed, so a logout is seen
//! by the very next validation. An entry is also trusted for at most
//! [`FRESH_FOR`], which bounds how long a change made by another process on
//! the same file (the `central-auth` CLI, say) can go unseen. PostgreSQL,
//! where other instances write too, always reads the row.
//!
//! A read that raced with a write must not put the old row back after the
//! write dropped it: `begin_read` hands out the current generation, every
//! invalidation bumps it, and `store` keeps the row only if no invalidation
//! happened since its read began.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;

use super::sessions::SessionRecord;

/// How long a cached row is trusted without a change made in this process.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// More sessions than this validated within [`FRESH_FOR`] just means some
/// validations read the database.
const CAPACITY: NonZeroUsize = NonZeroUsize::MIN.saturating_add(49_999);

pub(super) struct SessionCache {
    state: Mutex<State>,
}

struct State {
    generation: u64,
    entries: LruCache<String, (Instant, SessionRecord)>,
}

/// Proof of when a read began, for [`SessionCache::store`].
#[derive(Clone, Copy)]
pub(super) struct ReadTicket(u64);

impl SessionCache {
    pub(super) fn new() -> Self {
        Self {
            state: Mutex::new(State {
                generation: 0,
                entries: LruCache::new(CAPACITY),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the map half-updated
        // in a way that matters: worst case an entry is missing.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached row, if it is recent enough to trust.
    pub(super) fn get(&self, session_id: &str) -> Option<SessionRecord> {
        let mut state = self.state();
        match state.entries.get(session_id) {
            Some((read_at, record)) if read_at.elapsed() < FRESH_FOR => Some(record.clone()),
            Some(_) => {
                state.entries.pop(session_id);
                None
            }
            None => None,
        }
    }

    /// Call before reading the row that will be stored.
    pub(super) fn begin_read(&self) -> ReadTicket {
        ReadTicket(self.state().generation)
    }

    /// Keeps a row read since `ticket`, unless a write has invalidated
    /// anything in the meantime.
    pub(super) fn store(&self, ticket: ReadTicket, record: &SessionRecord) {
        let mut state = self.state();
        if state.generation == ticket.0 {
            state
                .entries
                .put(record.session_id.clone(), (Instant::now(), record.clone()));
        }
    }

    /// Drops one session's row; call after the write that changed it.
    pub(super) fn forget(&self, session_id: &str) {
        let mut state = self.state();
        state.generation += 1;
        state.entries.pop(session_id);
    }

    /// Drops every row; call after a write that may change many sessions
    /// (a user or service (de)activated).
    pub(super) fn forget_all(&self) {
        let mut state = self.state();
        state.generation += 1;
        state.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::domain::types::{ServiceId, UserId};

    fn record(id: &str) -> SessionRecord {
        SessionRecord {
            session_id: id.to_owned(),
            user_id: UserId::from_stored("u".to_owned()),
            service_id: ServiceId::from_stored("s".to_owned()),
            created_at: Timestamp::UNIX_EPOCH,
            idle_expires_at: Timestamp::UNIX_EPOCH,
            absolute_expires_at: Timestamp::UNIX_EPOCH,
            ended_at: None,
            ended_reason: None,
            user_active: true,
            service_active: true,
            username: "ada".to_owned(),
            full_name: "Ada".to_owned(),
            email: "ada@example.com".to_owned(),
        }
    }

    #[test]
    fn a_stored_row_is_served_until_forgotten() {
        let cache = SessionCache::new();
        let ticket = cache.begin_read();
        cache.store(ticket, &record("a"));
        assert_eq!(cache.get("a").map(|r| r.session_id), Some("a".to_owned()));
        cache.forget("a");
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let cache = SessionCache::new();
        let ticket = cache.begin_read();
        // The write commits and invalidates while the read is in flight…
        cache.forget("a");
        // …so the row that read returns may be the old one: not kept.
        cache.store(ticket, &record("a"));
        assert!(cache.get("a").is_none());
        // A read that begins after the write is kept.
        let ticket = cache.begin_read();
        cache.store(ticket, &record("a"));
        assert!(cache.get("a").is_some());
    }

    #[test]
    fn forget_all_drops_every_row() {
        let cache = SessionCache::new();
        let ticket = cache.begin_read();
        cache.store(ticket, &record("a"));
        cache.store(ticket, &record("b"));
        cache.forget_all();
        assert!(cache.get("a").is_none() && cache.get("b").is_none());
    }
}
