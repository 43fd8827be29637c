//! Argon2id password hashing, run on the blocking pool so a login never
//! stalls the async runtime.

use std::sync::Arc;

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

/// Hashes and verifies passwords with Argon2id (OWASP parameters:
/// 19 MiB, 2 passes, 1 lane).
#[derive(Clone)]
pub struct PasswordHasher {
    /// Verified against when the username is unknown, so an unknown user
    /// costs the same time as a wrong password.
    dummy: Arc<PasswordHash>,
    /// Hashes run on at most half the cores (at least one) at a time: a
    /// burst of sign-ins then queues here instead of taking every thread of
    /// the blocking pool and 19 MiB each, so memory stays flat and the other
    /// requests keep at least half the machine.
    permits: Arc<Semaphore>,
}

impl PasswordHasher {
    pub async fn new() -> Result<Self, DomainError> {
        let seed = Password::generate().map_err(DomainError::internal)?;
        let dummy = hash_blocking(seed).await?;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(Self {
            dummy: Arc::new(dummy),
            permits: Arc::new(Semaphore::new(cores.div_ceil(2))),
        })
    }

    async fn permit(&self) -> Result<SemaphorePermit<'_>, DomainError> {
        self.permits
            .acquire()
            .await
            .map_err(|e| DomainError::Internal(format!("password hashing closed: {e}")))
    }

    pub async fn hash(&self, password: &Password) -> Result<PasswordHash, DomainError> {
        let _permit = self.permit().await?;
        hash_blocking(password.clone()).await
    }

    /// Checks `password` against `stored`; with no stored hash (unknown user)
    /// it does the same work against a dummy hash and answers `false`.
    pub async fn verify(&self, password: &Password, stored: Option<&PasswordHash>) -> bool {
        let (hash, known) = match stored {
            Some(h) => (h.clone(), true),
            None => ((*self.dummy).clone(), false),
        };
        let password = password.clone();
        let Ok(_permit) = self.permit().await else {
            return false;
        };
        let matched = tokio::task::spawn_blocking(move || {
            Argon2::default()
                .verify_password(password.expose().as_bytes(), hash.as_str())
                .is_ok()
        })
        .await
        .unwrap_or(false);
        matched && known
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
        let hasher = PasswordHasher::new().await.unwrap();
        let pw = Password::parse("correct horse battery".into()).unwrap();
        let hash = hasher.hash(&pw).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(hasher.verify(&pw, Some(&hash)).await);
        let wrong = Password::parse("wrong horse battery".into()).unwrap();
        assert!(!hasher.verify(&wrong, Some(&hash)).await);
        assert!(!hasher.verify(&pw, None).await);
    }
}
