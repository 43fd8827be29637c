//! Rows read recently, so that the hottest reads (a busy session's
//! validations, a service's credentials on every login step) do not each go
//! to SQLite.
//!
//! Only on SQLite, where this process is the database's only writer: every
//! write that changes a cached row (a session's renewal, logout or expiry, a
//! user's or a service's (de)activation, a new API key) goes through
//! `Database`, which drops the entries it touched once it has committed, so
//! the change is seen by the very next request. An entry is also trusted for
//! at most [`FRESH_FOR`], which bounds how long a change made by another
//! process on the same file (the `central-auth` CLI, say) can go unseen.
//! PostgreSQL, where other instances write too, always reads the row.
//!
//! A read that raced with a write must not put the old row back after the
//! write dropped it: `begin_read` hands out the current generation, every
//! invalidation bumps it, and `store` keeps the row only if no invalidation
//! happened since its read began.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;

/// How long a cached row is trusted without a change made in this process.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// More rows than this read within [`FRESH_FOR`] just means some requests
/// read the database.
const CAPACITY: NonZeroUsize = NonZeroUsize::MIN.saturating_add(49_999);

pub(super) struct RowCache<V> {
    state: Mutex<State<V>>,
}

struct State<V> {
    generation: u64,
    entries: LruCache<String, (Instant, V)>,
}

/// Proof of when a read began, for [`SessionCache::store`].
#[derive(Clone, Copy)]
pub(super) struct ReadTicket(u64);

impl<V: Clone> RowCache<V> {
    pub(super) fn new() -> Self {
        Self {
            state: Mutex::new(State {
                generation: 0,
                entries: LruCache::new(CAPACITY),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<V>> {
        // A panic while holding the lock cannot leave the map half-updated
        // in a way that matters: worst case an entry is missing.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached row, if it is recent enough to trust.
    pub(super) fn get(&self, key: &str) -> Option<V> {
        let mut state = self.state();
        match state.entries.get(key) {
            Some((read_at, row)) if read_at.elapsed() < FRESH_FOR => Some(row.clone()),
            Some(_) => {
                state.entries.pop(key);
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
    pub(super) fn store(&self, ticket: ReadTicket, key: &str, row: &V) {
        let mut state = self.state();
        if state.generation == ticket.0 {
            state
                .entries
                .put(key.to_owned(), (Instant::now(), row.clone()));
        }
    }

    /// Drops one row; call after the write that changed it.
    pub(super) fn forget(&self, key: &str) {
        let mut state = self.state();
        state.generation += 1;
        state.entries.pop(key);
    }

    /// Drops every row; call after a write that may change many rows.
    pub(super) fn forget_all(&self) {
        let mut state = self.state();
        state.generation += 1;
        state.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> String {
        format!("row {id}")
    }

    fn store(cache: &RowCache<String>, ticket: ReadTicket, id: &str) {
        cache.store(ticket, id, &record(id));
    }

    #[test]
    fn a_stored_row_is_served_until_forgotten() {
        let cache = RowCache::<String>::new();
        let ticket = cache.begin_read();
        store(&cache, ticket, "a");
        assert_eq!(cache.get("a"), Some(record("a")));
        cache.forget("a");
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let cache = RowCache::<String>::new();
        let ticket = cache.begin_read();
        // The write commits and invalidates while the read is in flight…
        cache.forget("a");
        // …so the row that read returns may be the old one: not kept.
        store(&cache, ticket, "a");
        assert!(cache.get("a").is_none());
        // A read that begins after the write is kept.
        let ticket = cache.begin_read();
        store(&cache, ticket, "a");
        assert!(cache.get("a").is_some());
    }

    #[test]
    fn forget_all_drops_every_row() {
        let cache = RowCache::<String>::new();
        let ticket = cache.begin_read();
        store(&cache, ticket, "a");
        store(&cache, ticket, "b");
        cache.forget_all();
        assert!(cache.get("a").is_none() && cache.get("b").is_none());
    }
}
