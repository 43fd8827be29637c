//! The key that encrypts the signing keys at rest
//! (`SIGNING_KEY_ENCRYPTION_KEY`): with it, a copy of the database alone
//! cannot mint session tokens that validate.
//!
//! XChaCha20-Poly1305 (RustCrypto): its 24-byte nonce can be drawn at random
//! for every seal without counting, and its tag tells a wrong key from a
//! right one, so a server given the wrong key refuses to start instead of
//! signing with garbage. The key id is the associated data: a sealed key
//! copied onto another row does not open.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::domain::DomainError;
use crate::domain::secret::os_random;

/// How a sealed private key starts in the database. Base64 never contains
/// `:`, so a key stored in clear (base64 PKCS#8) is told apart at a glance.
const SEALED_PREFIX: &str = "xchacha20poly1305:";
const NONCE_LEN: usize = 24;

/// 32 secret bytes; `Debug` prints nothing of them and they are wiped on drop.
pub struct KeyEncryptionKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey([redacted])")
    }
}

/// Why a key setting was refused; never shows the value itself.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "must be 32 random bytes in base64 (it decodes to {0} bytes); make one with `openssl rand -base64 32`"
)]
pub struct BadKeyEncryptionKey(usize);

/// A sealed value did not open: the wrong key, or the value was altered.
#[derive(Debug, thiserror::Error)]
#[error("the value does not open with this key")]
pub struct OpenFailed;

impl KeyEncryptionKey {
    /// The key from its base64 text (standard or URL-safe, padded or not;
    /// surrounding whitespace, such as a file's final newline, is ignored).
    pub fn parse(text: &str) -> Result<Self, BadKeyEncryptionKey> {
        let text = text.trim();
        let decoded = Zeroizing::new(
            [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(text).ok())
                .ok_or(BadKeyEncryptionKey(0))?,
        );
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| BadKeyEncryptionKey(decoded.len()))?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(*self.0))
    }

    /// `plain` sealed under this key for the row `kid`, as stored text.
    pub fn seal(&self, kid: &str, plain: &[u8]) -> Result<String, DomainError> {
        let nonce = os_random::<NONCE_LEN>().map_err(DomainError::internal)?;
        let payload = Payload {
            msg: plain,
            aad: kid.as_bytes(),
        };
        // Encryption fails only for messages of gigabytes; a key is 48 bytes.
        let sealed = self
            .cipher()
            .encrypt(&XNonce::from(nonce), payload)
            .map_err(|_| DomainError::internal("sealing a signing key failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(out)))
    }

    /// The plain bytes of a value `seal` made for the row `kid`.
    pub fn open(&self, kid: &str, stored: &str) -> Result<Zeroizing<Vec<u8>>, OpenFailed> {
        let body = stored.strip_prefix(SEALED_PREFIX).ok_or(OpenFailed)?;
        let raw = STANDARD.decode(body).map_err(|_| OpenFailed)?;
        if raw.len() < NONCE_LEN {
            return Err(OpenFailed);
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| OpenFailed)?;
        let payload = Payload {
            msg: sealed,
            aad: kid.as_bytes(),
        };
        self.cipher()
            .decrypt(&XNonce::from(nonce), payload)
            .map(Zeroizing::new)
            .map_err(|_| OpenFailed)
    }
}

/// Whether a stored private key is sealed (else it is in clear).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> KeyEncryptionKey {
        KeyEncryptionKey::parse(&STANDARD.encode([byte; 32])).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_row_only() {
        let k = key(7);
        let sealed = k.seal("kid-1", b"private der").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("private der"));
        assert_eq!(k.open("kid-1", &sealed).unwrap().as_slice(), b"private der");
        assert!(key(8).open("kid-1", &sealed).is_err(), "another key");
        assert!(k.open("kid-2", &sealed).is_err(), "another row");
        assert_ne!(
            sealed,
            k.seal("kid-1", b"private der").unwrap(),
            "fresh nonce"
        );
        let mut altered = sealed.clone();
        altered.replace_range(sealed.len() - 4.., "AAAA");
        assert!(k.open("kid-1", &altered).is_err());
        assert!(!is_sealed(&STANDARD.encode(b"clear pkcs8")));
    }

    #[test]
    fn the_key_is_32_bytes_of_base64_in_any_alphabet_and_never_shown() {
        let bytes = [0xfb_u8; 32];
        for text in [
            STANDARD.encode(bytes),
            URL_SAFE_NO_PAD.encode(bytes),
            format!("  {}\n", STANDARD.encode(bytes)),
        ] {
            let parsed = KeyEncryptionKey::parse(&text).unwrap();
            assert_eq!(format!("{parsed:?}"), "KeyEncryptionKey([redacted])");
        }
        assert_eq!(
            KeyEncryptionKey::parse(&STANDARD.encode([1u8; 16])).unwrap_err(),
            BadKeyEncryptionKey(16)
        );
        assert!(KeyEncryptionKey::parse("not base64 at all!").is_err());
        assert!(KeyEncryptionKey::parse("").is_err());
    }
}
