//! The keys that sign tokens, one current key per algorithm: Ed25519 signs
//! session tokens (made on first start), RSA signs OpenID Connect ID tokens
//! (made the first time one is needed: generating it takes a while, and most
//! servers never need it). Both are kept in the database so that every
//! instance, and every restart, signs alike; sealed at rest when
//! `SIGNING_KEY_ENCRYPTION_KEY` is set; rotated together by
//! `central-auth rotate-signing-key`, after which the retired keys stay
//! published until the last token they signed can have expired.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
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

/// A signing key as stored. `private_key` is the stored text: base64 DER
/// (PKCS#8 for Ed25519, PKCS#1 for RSA, as the JWT library takes them) in
/// clear, a sealed value, or empty once the key has retired.
/// `public_key` holds the public members of its JWK: the base64url `x` of
/// an Ed25519 key (as every key was stored before there were RSA keys), a
/// JSON `{"n","e"}` of an RSA key.
#[derive(Clone)]
pub struct StoredSigningKey {
    pub kid: String,
    pub algorithm: JwsAlgorithm,
    pub private_key: String,
    pub public_key: String,
    /// When it stopped signing; `None` for a current key.
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

/// The public members of an RSA JWK, base64url big-endian, as stored in
/// `public_key`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RsaPublicMembers {
    pub n: String,
    pub e: String,
}

impl StoredSigningKey {
    /// Whether this key signs now (rather than only being published).
    pub fn is_current(&self) -> bool {
        self.retired_at.is_none()
    }

    /// The RSA members of `public_key`, for an RS256 key.
    pub(crate) fn rsa_members(&self) -> Result<RsaPublicMembers, DomainError> {
        serde_json::from_str(&self.public_key).map_err(|_| {
            DomainError::internal(format!(
                "signing key {}: unreadable RSA public key",
                self.kid
            ))
        })
    }
}

/// A fresh Ed25519 key pair: private half as base64 PKCS#8 DER, public
/// half as the base64url `x` of a JWK, `kid` derived from the public key.
pub(crate) fn generate() -> Result<StoredSigningKey, DomainError> {
    let seed = os_random::<32>().map_err(DomainError::internal)?;
    let key = SigningKey::from_bytes(&seed);
    let der = key.to_pkcs8_der().map_err(DomainError::internal)?;
    let public = key.verifying_key().to_bytes();
    let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..12]);
    Ok(StoredSigningKey {
        kid,
        algorithm: JwsAlgorithm::EdDSA,
        private_key: STANDARD.encode(der.as_bytes()),
        public_key: URL_SAFE_NO_PAD.encode(public),
        retired_at: None,
    })
}

/// The size of the RSA keys: 2048 bits, what RS256 relying parties expect
/// and verify quickly.
const RSA_BITS: usize = 2048;

/// A fresh RSA key pair: private half as base64 PKCS#1 DER, public half as
/// its JWK `n` and `e`, `kid` from the RFC 7638 thumbprint. Takes a good
/// part of a second even optimised: call it off the async runtime.
pub(crate) fn generate_rsa() -> Result<StoredSigningKey, DomainError> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS)
        .map_err(DomainError::internal)?;
    let der = key.to_pkcs1_der().map_err(DomainError::internal)?;
    let members = RsaPublicMembers {
        n: URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    };
    // RFC 7638: the required members in lexicographic order, no spaces.
    let thumbprint = format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, members.e, members.n);
    let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(thumbprint.as_bytes())[..12]);
    Ok(StoredSigningKey {
        kid,
        algorithm: JwsAlgorithm::RS256,
        private_key: STANDARD.encode(der.as_bytes()),
        public_key: serde_json::to_string(&members).map_err(DomainError::internal)?,
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
    /// One entry per algorithm that was rotated: the Ed25519 key always,
    /// the RSA key if there was one (else it is made when first needed).
    pub keys: Vec<RotatedKey>,
    /// Until when the retired keys stay in the JWKS.
    pub published_until: Timestamp,
}

/// The new key of one algorithm and the key it replaced.
#[derive(Debug)]
pub struct RotatedKey {
    pub algorithm: JwsAlgorithm,
    pub new_kid: String,
    pub retired_kid: Option<String>,
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
    /// Held while the RSA key is looked for or made, so that requests
    /// arriving together on one instance make it once.
    making_rsa: tokio::sync::Mutex<()>,
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
    /// Loads the keys at start, making the Ed25519 key if there is none
    /// (the RSA key waits until it is needed: see `ensure_rsa`), and seals
    /// any key still stored in clear when an encryption key is set.
    /// Refuses (never makes a new key) when the stored keys are sealed and
    /// the right encryption key is not given.
    pub async fn open(
        db: Database,
        issuer: String,
        settings: SigningSettings,
        now: Timestamp,
    ) -> Result<Self, SigningKeyError> {
        let mut keys = db.all_signing_keys().await?;
        if !keys
            .iter()
            .any(|k| k.is_current() && k.algorithm == JwsAlgorithm::EdDSA)
        {
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
                "SIGNING_KEY_ENCRYPTION_KEY is not set: the private signing keys are stored in \
                 clear in the database, and whoever copies the database can sign session and ID \
                 tokens (set SIGNING_KEY_ENCRYPTION_KEY or SIGNING_KEY_ENCRYPTION_KEY_FILE)"
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
            making_rsa: tokio::sync::Mutex::new(()),
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
    /// instance or the CLI rotated or made the RSA key, or a retired key's
    /// time is up). Returns whether it swapped.
    pub async fn reload(&self, now: Timestamp) -> Result<bool, DomainError> {
        let keys = self.db.all_signing_keys().await?;
        let before = self.current();
        let published = published(&keys, self.settings.keep_retired, now);
        let current_of = |alg: JwsAlgorithm| {
            published
                .iter()
                .find(|k| k.is_current() && k.algorithm == alg)
                .map(|k| k.kid.as_str())
        };
        let same = current_of(JwsAlgorithm::EdDSA) == Some(before.kid())
            && current_of(JwsAlgorithm::RS256) == before.rsa_kid()
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
            tracing::info!(kid = %signer.kid(), "signing session tokens with a new key from now on");
        }
        if let Some(kid) = signer
            .rsa_kid()
            .filter(|kid| Some(*kid) != before.rsa_kid())
        {
            tracing::info!(%kid, "signing RS256 tokens with a new key from now on");
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

    /// Makes sure the signer holds a current RSA key: the one in the
    /// database if another instance (or an earlier start) made it, else a
    /// new one. Once it is there this reads nothing; the first call makes
    /// the key off the async runtime, and callers arriving meanwhile wait
    /// for it instead of making their own. Two instances making one at
    /// once agree on the one whose insert won.
    pub async fn ensure_rsa(&self, now: Timestamp) -> Result<(), DomainError> {
        if self.current().rsa_kid().is_some() {
            return Ok(());
        }
        let _making = self.making_rsa.lock().await;
        if self.current().rsa_kid().is_some() {
            return Ok(());
        }
        let keys = self.db.all_signing_keys().await?;
        if !keys
            .iter()
            .any(|k| k.is_current() && k.algorithm == JwsAlgorithm::RS256)
        {
            let fresh = tokio::task::spawn_blocking(generate_rsa)
                .await
                .map_err(DomainError::internal)??;
            let stored = seal(&self.settings, &fresh)?;
            let kept = self.db.current_signing_key_or_insert(&stored, now).await?;
            if kept.kid == fresh.kid {
                tracing::info!(kid = %kept.kid, "made the RSA key that signs RS256 tokens");
            }
        }
        self.reload(now).await?;
        match self.current().rsa_kid() {
            Some(_) => Ok(()),
            None => Err(DomainError::internal(
                "the RSA signing key is in the database but did not load",
            )),
        }
    }

    /// Makes new keys current: the Ed25519 key, and the RSA key if there is
    /// one (otherwise it is made when first needed, as on a fresh server).
    /// The old ones stop signing (their private halves are erased) and
    /// stay published for `keep_retired`.
    pub async fn rotate(&self, now: Timestamp) -> Result<Rotation, DomainError> {
        let mut fresh = vec![generate()?];
        let has_rsa = self
            .db
            .all_signing_keys()
            .await?
            .iter()
            .any(|k| k.is_current() && k.algorithm == JwsAlgorithm::RS256);
        if has_rsa {
            fresh.push(
                tokio::task::spawn_blocking(generate_rsa)
                    .await
                    .map_err(DomainError::internal)??,
            );
        }
        let stored = fresh
            .iter()
            .map(|key| seal(&self.settings, key))
            .collect::<Result<Vec<_>, _>>()?;
        let retired = self.db.rotate_signing_keys(&stored, now).await?;
        self.reload(now).await?;
        Ok(Rotation {
            keys: fresh
                .into_iter()
                .zip(retired)
                .map(|(key, retired_kid)| RotatedKey {
                    algorithm: key.algorithm,
                    new_kid: key.kid,
                    retired_kid,
                })
                .collect(),
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

/// The keys still published at `now`: the current ones and those retired
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

/// `key` with its private half in clear (opened if sealed).
fn opened(
    settings: &SigningSettings,
    key: &StoredSigningKey,
) -> Result<StoredSigningKey, DomainError> {
    match &settings.encryption {
        Some(encryption) if is_sealed(&key.private_key) => {
            let der = encryption.open(&key.kid, &key.private_key).map_err(|_| {
                DomainError::internal(format!(
                    "SIGNING_KEY_ENCRYPTION_KEY does not open the signing key {}",
                    key.kid
                ))
            })?;
            Ok(StoredSigningKey {
                private_key: STANDARD.encode(der.as_slice()),
                ..key.clone()
            })
        }
        None if is_sealed(&key.private_key) => Err(DomainError::internal(SigningKeyError::Locked)),
        _ => Ok(key.clone()),
    }
}

/// The signer over the current keys (opened if sealed) and the published
/// ones.
fn build(
    issuer: &str,
    settings: &SigningSettings,
    keys: &[StoredSigningKey],
    now: Timestamp,
) -> Result<SessionSigner, DomainError> {
    let published = published(keys, settings.keep_retired, now);
    let current_of = |alg: JwsAlgorithm| {
        published
            .iter()
            .find(|k| k.is_current() && k.algorithm == alg)
    };
    let session = current_of(JwsAlgorithm::EdDSA)
        .ok_or_else(|| DomainError::internal("no current signing key in the database"))?;
    let signer = SessionSigner::new(issuer.to_owned(), &opened(settings, session)?, &published)?;
    match current_of(JwsAlgorithm::RS256) {
        Some(rsa) => signer.with_rsa(&opened(settings, rsa)?),
        None => Ok(signer),
    }
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
    fn an_rsa_key_is_2048_bits_with_its_jwk_members_and_a_thumbprint_kid() {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::traits::PublicKeyParts;
        let key = generate_rsa().unwrap();
        assert_eq!(key.algorithm, JwsAlgorithm::RS256);
        let der = STANDARD.decode(&key.private_key).unwrap();
        let private = rsa::RsaPrivateKey::from_pkcs1_der(&der).unwrap();
        assert_eq!(private.size() * 8, 2048);
        let members = key.rsa_members().unwrap();
        assert_eq!(members.e, "AQAB");
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&members.n).unwrap(),
            private.n().to_bytes_be()
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&key.kid).unwrap().len(), 12);
        assert!(!format!("{key:?}").contains(&key.private_key));
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
