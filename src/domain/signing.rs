//! The Ed25519 keys that sign session tokens: made on first start and kept
//! in the database so that every instance, and every restart, signs alike;
//! sealed at rest when `SIGNING_KEY_ENCRYPTION_KEY` is set; rotated by
//! `central-auth rotate-signing-key`, after which the retired key stays
//! published until the last token it signed can have expired.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};

use crate::domain::DomainError;
use crate::domain::sealing::{KeyEncryptionKey, is_sealed};
use crate::domain::secret::os_random;
use crate::domain::session_token::SessionSigner;
use crate::storage::Database;

/// The JWS algorithms tokens are signed with. Session tokens are EdDSA;
/// OpenID Connect ID tokens are RS256 by default (OIDC Core requires it and
/// many relying parties verify nothing else), EdDSA where a client asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsAlgorithm {
    RS256,
    EdDSA,
}

impl JwsAlgorithm {
    /// Every algorithm this server signs with, as discovery lists them.
    pub const ALL: [Self; 2] = [Self::RS256, Self::EdDSA];

    /// The JOSE name (`alg`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::EdDSA => "EdDSA",
        }
    }

    /// The algorithm a JOSE name stands for, if we sign with it.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == name)
    }
}

/// A signing key as stored. `private_key` is the stored text: base64 PKCS#8
/// DER in clear, a sealed value, or empty once the key has retired.
#[derive(Clone)]
pub struct StoredSigningKey {
    pub kid: String,
    pub algorithm: String,
    pub private_key: String,
    pub public_key: String,
    /// When it stopped signing; `None` for the current key.
    pub retired_at: Option<Timestamp>,
}

impl std::fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_key", &"[redacted]")
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// A fresh key pair: private half as base64 PKCS#8 DER, public half as the
/// base64url `x` of a JWK, `kid` derived from the public key.
pub(crate) fn generate() -> Result<StoredSigningKey, DomainError> {
    let seed = os_random::<32>().map_err(DomainError::internal)?;
    let key = SigningKey::from_bytes(&seed);
    let der = key.to_pkcs8_der().map_err(DomainError::internal)?;
    let public = key.verifying_key().to_bytes();
    let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..12]);
    Ok(StoredSigningKey {
        kid,
        algorithm: "EdDSA".to_owned(),
        private_key: STANDARD.encode(der.as_bytes()),
        public_key: URL_SAFE_NO_PAD.encode(public),
        retired_at: None,
    })
}

/// Why the server will not start with the signing keys it found. Each
/// message names the setting to fix; none shows a secret.
#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error(
        "the signing keys in the database are encrypted, but neither SIGNING_KEY_ENCRYPTION_KEY \
         nor SIGNING_KEY_ENCRYPTION_KEY_FILE is set: give the key they were encrypted with \
         (no new signing key is made: that would end every session)"
    )]
    Locked,
    #[error(
        "SIGNING_KEY_ENCRYPTION_KEY does not open the signing key {kid} in the database: it is \
         not the key it was encrypted with, or the row was altered (no new signing key is made: \
         that would end every session)"
    )]
    WrongKey { kid: String },
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<crate::storage::StorageError> for SigningKeyError {
    fn from(err: crate::storage::StorageError) -> Self {
        Self::Domain(err.into())
    }
}

/// What the key ring needs from the settings.
#[derive(Debug)]
pub struct SigningSettings {
    /// Seals the private halves at rest; `None`: they are stored in clear.
    pub encryption: Option<KeyEncryptionKey>,
    /// How long a retired key stays published: a token lives no longer
    /// than its session's maximum lifetime, and an instance that has not
    /// reloaded yet may sign with the old key for one reload interval more.
    pub keep_retired: SignedDuration,
}

/// What a rotation did, for the operator.
#[derive(Debug)]
pub struct Rotation {
    pub new_kid: String,
    pub retired_kid: Option<String>,
    /// Until when the retired key stays in the JWKS.
    pub published_until: Timestamp,
}

/// The current signer, swapped whole when the keys in the database change.
pub struct KeyRing {
    db: Database,
    issuer: String,
    settings: SigningSettings,
    signer: RwLock<Arc<SessionSigner>>,
    /// When the keys were last read because a token named a kid we do not
    /// know: such reads are at most one a second, so junk tokens cannot
    /// turn validation into database reads.
    last_unknown_lookup: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("issuer", &self.issuer)
            .field("kid", &self.current().kid())
            .finish_non_exhaustive()
    }
}

const UNKNOWN_KID_LOOKUP_EVERY: Duration = Duration::from_secs(1);

impl KeyRing {
    /// Loads the keys at start, making the first one if there is none, and
    /// seals any key still stored in clear when an encryption key is set.
    /// Refuses (never makes a new key) when the stored keys are sealed and
    /// the right encryption key is not given.
    pub async fn open(
        db: Database,
        issuer: String,
        settings: SigningSettings,
        now: Timestamp,
    ) -> Result<Self, SigningKeyError> {
        let mut keys = db.all_signing_keys().await?;
        if !keys.iter().any(|k| k.retired_at.is_none()) {
            let fresh = generate()?;
            let stored = seal(&settings, &fresh)?;
            db.current_signing_key_or_insert(&stored, now).await?;
            keys = db.all_signing_keys().await?;
        }
        match &settings.encryption {
            None if keys.iter().any(|k| is_sealed(&k.private_key)) => {
                return Err(SigningKeyError::Locked);
            }
            None => tracing::warn!(
                "SIGNING_KEY_ENCRYPTION_KEY is not set: the private signing key is stored in \
                 clear in the database, and whoever copies the database can sign session tokens \
                 (set SIGNING_KEY_ENCRYPTION_KEY or SIGNING_KEY_ENCRYPTION_KEY_FILE)"
            ),
            Some(encryption) => {
                for key in &keys {
                    if is_sealed(&key.private_key) {
                        encryption.open(&key.kid, &key.private_key).map_err(|_| {
                            SigningKeyError::WrongKey {
                                kid: key.kid.clone(),
                            }
                        })?;
                    } else if !key.private_key.is_empty() {
                        let der = STANDARD
                            .decode(&key.private_key)
                            .map_err(DomainError::internal)?;
                        let sealed = encryption.seal(&key.kid, &der)?;
                        if db
                            .replace_signing_private_key(&key.kid, &key.private_key, &sealed)
                            .await?
                        {
                            tracing::info!(kid = %key.kid, "signing key encrypted at rest");
                        }
                    }
                }
            }
        }
        let signer = build(&issuer, &settings, &keys, now)?;
        Ok(Self {
            db,
            issuer,
            settings,
            signer: RwLock::new(Arc::new(signer)),
            last_unknown_lookup: tokio::sync::Mutex::new(None),
        })
    }

    /// The signer in use now.
    pub fn current(&self) -> Arc<SessionSigner> {
        self.signer
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reads the keys again and swaps the signer when they changed (another
    /// instance or the CLI rotated, or a retired key's time is up). Returns
    /// whether it swapped.
    pub async fn reload(&self, now: Timestamp) -> Result<bool, DomainError> {
        let keys = self.db.all_signing_keys().await?;
        let before = self.current();
        let published = published(&keys, self.settings.keep_retired, now);
        let current = published.iter().find(|k| k.retired_at.is_none());
        let same = current.is_some_and(|c| c.kid == before.kid())
            && published.len() == before.jwks().len()
            && published
                .iter()
                .all(|k| before.jwks().iter().any(|j| j.kid == k.kid));
        if keys.len() > published.len() {
            let cutoff = now
                .checked_sub(self.settings.keep_retired)
                .map_err(DomainError::internal)?;
            self.db.delete_signing_keys_retired_before(cutoff).await?;
        }
        if same {
            return Ok(false);
        }
        let signer = build(&self.issuer, &self.settings, &keys, now)?;
        if signer.kid() != before.kid() {
            tracing::info!(kid = %signer.kid(), "signing with a new key from now on");
        }
        *self.signer.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(signer);
        Ok(true)
    }

    /// A token named a kid the signer does not know: perhaps another
    /// instance signs with a key made since we last looked. Reads the keys
    /// at most once a second; returns whether the signer changed.
    pub async fn reload_for_unknown_kid(&self, now: Timestamp) -> bool {
        let mut last = self.last_unknown_lookup.lock().await;
        if last.is_some_and(|at| at.elapsed() < UNKNOWN_KID_LOOKUP_EVERY) {
            return false;
        }
        *last = Some(Instant::now());
        match self.reload(now).await {
            Ok(changed) => changed,
            Err(err) => {
                tracing::warn!(error = %err, "reading the signing keys failed");
                false
            }
        }
    }

    /// Makes a new key current; the old one stops signing (its private half
    /// is erased) and stays published for `keep_retired`.
    pub async fn rotate(&self, now: Timestamp) -> Result<Rotation, DomainError> {
        let fresh = generate()?;
        let stored = seal(&self.settings, &fresh)?;
        let retired_kid = self.db.rotate_signing_key(&stored, now).await?;
        self.reload(now).await?;
        Ok(Rotation {
            new_kid: fresh.kid,
            retired_kid,
            published_until: now
                .checked_add(self.settings.keep_retired)
                .map_err(DomainError::internal)?,
        })
    }
}

/// `key` as it is to be stored: sealed when an encryption key is set.
fn seal(
    settings: &SigningSettings,
    key: &StoredSigningKey,
) -> Result<StoredSigningKey, DomainError> {
    let Some(encryption) = &settings.encryption else {
        return Ok(key.clone());
    };
    let der = STANDARD
        .decode(&key.private_key)
        .map_err(DomainError::internal)?;
    Ok(StoredSigningKey {
        private_key: encryption.seal(&key.kid, &der)?,
        ..key.clone()
    })
}

/// The keys still published at `now`: the current one and those retired
/// less than `keep_retired` ago.
fn published(
    keys: &[StoredSigningKey],
    keep_retired: SignedDuration,
    now: Timestamp,
) -> Vec<StoredSigningKey> {
    keys.iter()
        .filter(|k| match k.retired_at {
            None => true,
            Some(at) => at.checked_add(keep_retired).is_ok_and(|until| until > now),
        })
        .cloned()
        .collect()
}

/// The signer over the current key (opened if sealed) and the published ones.
fn build(
    issuer: &str,
    settings: &SigningSettings,
    keys: &[StoredSigningKey],
    now: Timestamp,
) -> Result<SessionSigner, DomainError> {
    let published = published(keys, settings.keep_retired, now);
    let current = published
        .iter()
        .find(|k| k.retired_at.is_none())
        .ok_or_else(|| DomainError::internal("no current signing key in the database"))?;
    let clear = match &settings.encryption {
        Some(encryption) if is_sealed(&current.private_key) => {
            let der = encryption
                .open(&current.kid, &current.private_key)
                .map_err(|_| {
                    DomainError::internal(format!(
                        "SIGNING_KEY_ENCRYPTION_KEY does not open the signing key {}",
                        current.kid
                    ))
                })?;
            StoredSigningKey {
                private_key: STANDARD.encode(der.as_slice()),
                ..current.clone()
            }
        }
        None if is_sealed(&current.private_key) => {
            return Err(DomainError::internal(SigningKeyError::Locked));
        }
        _ => current.clone(),
    };
    SessionSigner::new(issuer.to_owned(), &clear, &published)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_differ_and_hide_the_private_half() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a.kid, b.kid);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a.public_key).unwrap().len(), 32);
        assert!(!format!("{a:?}").contains(&a.private_key));
    }

    #[test]
    fn a_retired_key_is_published_until_its_time_is_up() {
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let keep = SignedDuration::from_hours(12);
        let current = generate().unwrap();
        let recent = StoredSigningKey {
            retired_at: Some(now - SignedDuration::from_hours(11)),
            ..generate().unwrap()
        };
        let old = StoredSigningKey {
            retired_at: Some(now - SignedDuration::from_hours(12)),
            ..generate().unwrap()
        };
        let keys = [current.clone(), recent.clone(), old];
        let kids: Vec<String> = published(&keys, keep, now)
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(kids, [current.kid, recent.kid]);
    }
}
