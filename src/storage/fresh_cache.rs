//! Values read from the database recently, trusted for at most [`FRESH_FOR`]
//! and dropped at once by the writes this process makes to them. Used for
//! the hottest reads (see `storage`): session rows and services on SQLite,
//! and the schedule the login gate checks on every login step.
//!
//! Age is measured on the server's `Clock`, the same one every expiry is
//! measured on, so a test moves time past [`FRESH_FOR`] instead of waiting.
//!
//! A read that raced with a write must not put the old value back after the
//! write dropped it: `begin_read` hands out the current generation, every
//! invalidation bumps it, and `store` keeps the value only if no
//! invalidation happened since its read began.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use lru::LruCache;

use crate::clock::Clock;

/// How long a cached value is trusted without a change made in this process.
pub const FRESH_FOR: SignedDuration = SignedDuration::from_secs(1);

pub(super) struct FreshCache<V> {
    clock: Arc<dyn Clock>,
    state: Mutex<State<V>>,
}

struct State<V> {
    generation: u64,
    entries: LruCache<String, (Timestamp, V)>,
}

/// Proof of when a read began, for [`FreshCache::store`].
#[derive(Clone, Copy)]
pub(super) struct ReadTicket(u64);

impl<V: Clone> FreshCache<V> {
    /// Keeps at most `capacity` values, dropping the least recently used:
    /// more values than that read within [`FRESH_FOR`] just means some
    /// requests read the database. (The map is sized for `capacity` at once.)
    pub(super) fn new(capacity: usize, clock: Arc<dyn Clock>) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            clock,
            state: Mutex::new(State {
                generation: 0,
                entries: LruCache::new(capacity),
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

    /// The cached value, if it is recent enough to trust.
    pub(super) fn get(&self, key: &str) -> Option<V> {
        let now = self.clock.now();
        let mut state = self.state();
        match state.entries.get(key) {
            // A clock set back leaves `now` before `read_at`: still fresh.
            Some((read_at, value)) if now.duration_since(*read_at) < FRESH_FOR => {
                Some(value.clone())
            }
            Some(_) => {
                state.entries.pop(key);
                None
            }
            None => None,
        }
    }

    /// Call before reading the value that will be stored.
    pub(super) fn begin_read(&self) -> ReadTicket {
        ReadTicket(self.state().generation)
    }

    /// Keeps a value read since `ticket`, unless a write has invalidated
    /// anything in the meantime.
    pub(super) fn store(&self, ticket: ReadTicket, key: &str, value: &V) {
        let mut state = self.state();
        if state.generation == ticket.0 {
            let read_at = self.clock.now();
            state.entries.put(key.to_owned(), (read_at, value.clone()));
        }
    }

    /// Drops one value; call after the write that changed it.
    pub(super) fn forget(&self, key: &str) {
        let mut state = self.state();
        state.generation += 1;
        state.entries.pop(key);
    }

    /// Drops every value; call after a write that may change many.
    pub(super) fn forget_all(&self) {
        let mut state = self.state();
        state.generation += 1;
        state.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn cache() -> (FreshCache<String>, ManualClock) {
        let clock = ManualClock::new(Timestamp::UNIX_EPOCH);
        (FreshCache::new(8, Arc::new(clock.clone())), clock)
    }

    fn record(id: &str) -> String {
        format!("row {id}")
    }

    fn store(cache: &FreshCache<String>, ticket: ReadTicket, id: &str) {
        cache.store(ticket, id, &record(id));
    }

    #[test]
    fn a_stored_row_is_served_until_forgotten() {
        let (cache, _clock) = cache();
        let ticket = cache.begin_read();
        store(&cache, ticket, "a");
        assert_eq!(cache.get("a"), Some(record("a")));
        cache.forget("a");
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let (cache, _clock) = cache();
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
        let (cache, _clock) = cache();
        let ticket = cache.begin_read();
        store(&cache, ticket, "a");
        store(&cache, ticket, "b");
        cache.forget_all();
        assert!(cache.get("a").is_none() && cache.get("b").is_none());
    }

    #[test]
    fn a_row_is_trusted_for_one_second_of_the_clock() {
        let (cache, clock) = cache();
        let ticket = cache.begin_read();
        store(&cache, ticket, "a");
        clock.advance(SignedDuration::from_millis(999));
        assert_eq!(cache.get("a"), Some(record("a")));
        clock.advance(SignedDuration::from_millis(1));
        assert!(
            cache.get("a").is_none(),
            "served a row older than FRESH_FOR"
        );
    }
}
