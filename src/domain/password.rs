//! Argon2id password hashing, run on the blocking pool so a login never
//! stalls the async runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::domain::DomainError;
use crate::domain::secret::Password;

/// A PHC string (`$argon2id$v=19$…`) as stored in the database.
#[derive(Clone)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// Whose hashing it is: admins have a lane of their own, so that a flood
/// of phone sign-ins or registrations cannot keep them out of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Phone sign-ins, registrations.
    People,
    /// Admin sign-in (API and console), admin passwords.
    Admins,
}

/// One lane: hashes run on its permits; past `max_waiting` callers waiting
/// for one, more are refused at once (429) rather than queued without end.
struct Queue {
    permits: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Counts a caller as waiting until it has its permit, or gives up (a
/// cancelled request included).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Queue {
    fn new(permits: usize, max_waiting: usize) -> Self {
        Self {
            permits: Semaphore::new(permits),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    async fn permit(&self) -> Result<SemaphorePermit<'_>, DomainError> {
        if let Ok(permit) = self.permits.try_acquire() {
            return Ok(permit);
        }
        let ahead = self.waiting.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(&self.waiting);
        if ahead >= self.max_waiting {
            return Err(DomainError::RateLimited { retry_after: 1 });
        }
        self.permits
            .acquire()
            .await
            .map_err(|e| DomainError::Internal(format!("password hashing closed: {e}")))
    }
}

/// Hashes and verifies passwords with Argon2id (OWASP parameters:
/// 19 MiB, 2 passes, 1 lane).
#[derive(Clone)]
pub struct PasswordHasher {
    /// Verified against when the username is unknown, so an unknown user
    /// costs the same time as a wrong password.
    dummy: Arc<PasswordHash>,
    /// People's hashes run on at most half the cores (at least one) at a
    /// time: a burst of sign-ins then queues here instead of taking every
    /// thread of the blocking pool and 19 MiB each, so memory stays flat and
    /// the other requests keep at least half the machine.
    people: Arc<Queue>,
    /// One more hash at a time, for admins only.
    admins: Arc<Queue>,
}

impl PasswordHasher {
    /// `max_waiting`: callers that may wait for a hash in each lane
    /// (`HASH_QUEUE_MAX`); past it they are refused with 429.
    pub async fn new(max_waiting: usize) -> Result<Self, DomainError> {
        let seed = Password::generate().map_err(DomainError::internal)?;
        let dummy = hash_blocking(seed).await?;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Self {
            dummy: Arc::new(dummy),
            people: Arc::new(Queue::new(cores.div_ceil(2), max_waiting)),
            admins: Arc::new(Queue::new(1, max_waiting)),
        })
    }

    fn queue(&self, lane: Lane) -> &Queue {
        match lane {
            Lane::People => &self.people,
            Lane::Admins => &self.admins,
        }
    }

    pub async fn hash(&self, lane: Lane, password: &Password) -> Result<PasswordHash, DomainError> {
        let _permit = self.queue(lane).permit().await?;
        hash_blocking(password.clone()).await
    }

    /// Checks `password` against `stored`; with no stored hash (unknown user)
    /// it does the same work against a dummy hash and answers `No`.
    /// Refused (429) when the lane's queue is full.
    ///
    /// The NFKC form is tried first. Hashes stored before passwords were
    /// normalised were made from the password as typed, so when the typed
    /// form differs from its NFKC form and the first check failed, the typed
    /// form is tried too (`AsTyped`: the caller stores an NFKC hash in its
    /// place). Whether that second check runs depends on what was typed
    /// only, never on whether the account exists: an unknown name with the
    /// same input costs the same two checks against the dummy hash.
    pub async fn verify(
        &self,
        lane: Lane,
        password: &Password,
        stored: Option<&PasswordHash>,
    ) -> Result<Verified, DomainError> {
        let (hash, known) = match stored {
            Some(h) => (h.clone(), true),
            None => ((*self.dummy).clone(), false),
        };
        let password = password.clone();
        let _permit = self.queue(lane).permit().await?;
        let verdict = tokio::task::spawn_blocking(move || {
            let matches = |candidate: &str| {
                Argon2::default()
                    .verify_password(candidate.as_bytes(), hash.as_str())
                    .is_ok()
            };
            if matches(password.expose()) {
                Verified::Yes
            } else if password.typed().is_some_and(matches) {
                Verified::AsTyped
            } else {
                Verified::No
            }
        })
        .await
        .unwrap_or(Verified::No);
        Ok(if known { verdict } else { Verified::No })
    }
}

/// What a sign-in's password check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Wrong password, or no such account.
    No,
    /// The NFKC form matched: the usual case.
    Yes,
    /// Only the form as typed matched: a hash from before normalisation,
    /// to be replaced by a hash of the NFKC form.
    AsTyped,
}

impl Verified {
    pub fn matched(self) -> bool {
        self != Verified::No
    }
}

async fn hash_blocking(password: Password) -> Result<PasswordHash, DomainError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|h| PasswordHash(h.to_string()))
            .map_err(|e| DomainError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| DomainError::Internal(format!("password hashing task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_only_the_right_password() {
        let hasher = PasswordHasher::new(8).await.unwrap();
        let pw = Password::parse("correct horse battery".into()).unwrap();
        let hash = hasher.hash(Lane::People, &pw).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        let verify = async |pw: &Password, hash: Option<&PasswordHash>| {
            hasher.verify(Lane::People, pw, hash).await.unwrap()
        };
        assert_eq!(verify(&pw, Some(&hash)).await, Verified::Yes);
        assert_eq!(
            hasher.verify(Lane::Admins, &pw, Some(&hash)).await.unwrap(),
            Verified::Yes
        );
        let wrong = Password::parse("wrong horse battery".into()).unwrap();
        assert_eq!(verify(&wrong, Some(&hash)).await, Verified::No);
        assert_eq!(verify(&pw, None).await, Verified::No);
    }

    #[tokio::test]
    async fn other_unicode_forms_of_one_password_match_its_hash() {
        let hasher = PasswordHasher::new(8).await.unwrap();
        let composed = Password::parse("caf\u{e9} au lait".into()).unwrap();
        let hash = hasher.hash(Lane::People, &composed).await.unwrap();
        let decomposed = Password::offered("cafe\u{301} au lait".into()).unwrap();
        let verdict = hasher.verify(Lane::People, &decomposed, Some(&hash));
        assert_eq!(verdict.await.unwrap(), Verified::Yes);
    }

    #[tokio::test]
    async fn a_hash_of_the_typed_form_matches_as_typed() {
        let hasher = PasswordHasher::new(8).await.unwrap();
        // What the server stored before passwords were normalised.
        let raw = "cafe\u{301} au lait";
        let old = PasswordHash::from_stored(
            Argon2::default()
                .hash_password(raw.as_bytes())
                .unwrap()
                .to_string(),
        );
        let typed = Password::offered(raw.into()).unwrap();
        let verdict = hasher.verify(Lane::People, &typed, Some(&old));
        assert_eq!(verdict.await.unwrap(), Verified::AsTyped);
        // The composed form alone never matches the old hash…
        let composed = Password::offered("caf\u{e9} au lait".into()).unwrap();
        let verdict = hasher.verify(Lane::People, &composed, Some(&old));
        assert_eq!(verdict.await.unwrap(), Verified::No);
        // …and nothing matches an unknown account.
        let verdict = hasher.verify(Lane::People, &typed, None);
        assert_eq!(verdict.await.unwrap(), Verified::No);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_frees_its_place() {
        let queue = Queue::new(1, 1);
        let held = queue.permit().await.unwrap();
        // One may wait…
        let waiter = queue.permit();
        tokio::pin!(waiter);
        assert!(futures_poll_once(waiter.as_mut()).await.is_none());
        // …the next is refused.
        assert!(matches!(
            queue.permit().await,
            Err(DomainError::RateLimited { retry_after: 1 })
        ));
        drop(held);
        let _second = waiter.await.unwrap();
        assert_eq!(queue.waiting.load(Ordering::Relaxed), 0);
    }

    /// Polls a future once: `Some` if it finished.
    async fn futures_poll_once<F: std::future::Future + Unpin>(f: F) -> Option<F::Output> {
        let mut f = f;
        std::future::poll_fn(|cx| match std::pin::Pin::new(&mut f).poll(cx) {
            std::task::Poll::Ready(v) => std::task::Poll::Ready(Some(v)),
            std::task::Poll::Pending => std::task::Poll::Ready(None),
        })
        .await
    }
}
