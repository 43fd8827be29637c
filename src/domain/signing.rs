//! The Ed25519 key that signs session tokens, made on first start and kept in
//! the database so that every instance, and every restart, signs alike.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use sha2::{Digest, Sha256};

use crate::domain::secret::os_random;
use jiff::Timestamp;

use crate::domain::DomainError;
use crate::domain::session_token::SessionSigner;
use crate::storage::Database;

/// A signing key as stored: the private half is base64 PKCS#8 DER.
#[derive(Clone)]
pub struct StoredSigningKey {
    pub kid: String,
    pub algorithm: String,
    pub private_key: String,
    pub public_key: String,
}

impl std::fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_key", &"[redacted]")
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
    })
}

/// The session signer over the database's current key, which is created
/// (and stored for every other instance) if there is none yet.
pub async fn load_signer(
    db: &Database,
    issuer: String,
    now: Timestamp,
) -> Result<SessionSigner, DomainError> {
    let current = db.current_signing_key_or_insert(&generate()?, now).await?;
    let all = db.all_signing_keys().await?;
    SessionSigner::new(issuer, &current, &all)
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
}
