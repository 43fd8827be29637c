//! Secrets that cannot leak: their `Debug` prints `[redacted]`, they have no
//! `Display`, only their SHA-256 hash is ever stored, and hashes are compared
//! in constant time.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use unicode_normalization::UnicodeNormalization;

use crate::domain::FieldError;

/// Fills `N` bytes from the operating system's random number generator.
pub fn os_random<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

/// 256 random bits as URL-safe base64: nonces and other one-off tokens.
pub fn random_token() -> Result<String, getrandom::Error> {
    Ok(URL_SAFE_NO_PAD.encode(os_random::<32>()?))
}

/// The hex SHA-256 of a high-entropy token: what storage keeps instead of it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn of(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in digest {
            hex.push_str(&format!("{byte:02x}"));
        }
        Self(hex)
    }

    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time equality, so timing reveals nothing about a stored hash.
    pub fn matches(&self, other: &TokenHash) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenHash([redacted])")
    }
}

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(String);

        impl $name {
            /// The clear value: only for the one response that issues it.
            pub fn expose(&self) -> &str {
                &self.0
            }

            pub fn hash(&self) -> TokenHash {
                TokenHash::of(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}([redacted])", stringify!($name))
            }
        }
    };
}

/// Random bytes as URL-safe base64 behind a recognisable prefix, so a leaked
/// key is easy to spot in a scanner or a log.
fn prefixed_token(prefix: &str) -> Result<String, getrandom::Error> {
    let bytes = os_random::<32>()?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// A password in its NFKC form, 10 to 256 characters: "é" typed composed
/// (one code point, as most keyboards send it) and decomposed ("e" and a
/// combining accent, as some Mac input methods send it) are one password,
/// and so are fullwidth and plain letters. Hashes are made from this form.
#[derive(Clone)]
pub struct Password {
    nfkc: String,
    /// At sign-in only, the password as typed when that differs from its
    /// NFKC form: hashes stored before normalisation were made from it.
    typed: Option<String>,
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(raw: String) -> Result<Self, FieldError> {
        Self::parse_field("password", raw)
    }

    /// Only the length rules, counted in characters of the NFKC form (the
    /// one hashed); the rules for a new password are in `password_rules`.
    pub fn parse_field(field: &str, raw: String) -> Result<Self, FieldError> {
        // Bounded before normalising: NFKC may grow a string (up to 18
        // times for one code point), and a huge input should cost nothing.
        if raw.len() > 4 * Self::MAX_CHARS {
            return Err(FieldError::new(field, "must be at most 256 characters"));
        }
        let nfkc: String = raw.nfkc().collect();
        let chars = nfkc.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(FieldError::new(field, "must be at least 10 characters"));
        }
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new(field, "must be at most 256 characters"));
        }
        Ok(Self { nfkc, typed: None })
    }

    /// A password offered at sign-in: not checked against the rules (an old
    /// password may predate them), only bounded so hashing stays cheap. The
    /// typed form is kept when it differs from the NFKC one, for hashes
    /// stored before normalisation (see `PasswordHasher::verify`).
    pub fn offered(raw: String) -> Option<Self> {
        if raw.len() > 4 * Self::MAX_CHARS {
            return None;
        }
        let nfkc: String = raw.nfkc().collect();
        let typed = (nfkc != raw).then_some(raw);
        Some(Self { nfkc, typed })
    }

    /// A random password for a generated admin account: 24 URL-safe characters.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let bytes = os_random::<18>()?;
        Ok(Self {
            nfkc: URL_SAFE_NO_PAD.encode(bytes),
            typed: None,
        })
    }

    /// The NFKC form: what is hashed and compared.
    pub fn expose(&self) -> &str {
        &self.nfkc
    }

    /// The form as typed, when it differs from the NFKC one (sign-in only).
    pub fn typed(&self) -> Option<&str> {
        self.typed.as_deref()
    }
}

secret_type!(
    /// The key a user's authenticator app holds: a UUID from the OS RNG.
    AuthKey
);

impl AuthKey {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let bytes = os_random::<16>()?;
        Ok(Self(
            uuid::Builder::from_random_bytes(bytes)
                .into_uuid()
                .to_string(),
        ))
    }

    pub fn from_client(raw: String) -> Self {
        Self(raw)
    }
}

secret_type!(
    /// A relying service's API key (`cas_…`).
    ApiKey
);

impl ApiKey {
    pub fn generate() -> Result<Self, getrandom::Error> {
        prefixed_token("cas_").map(Self)
    }

    pub fn from_client(raw: String) -> Self {
        Self(raw)
    }
}

secret_type!(
    /// An admin's bearer token (`caa_…`), issued by `POST /api/admin/login`.
    AdminToken
);

impl AdminToken {
    pub fn generate() -> Result<Self, getrandom::Error> {
        prefixed_token("caa_").map(Self)
    }

    pub fn from_client(raw: String) -> Self {
        Self(raw)
    }
}

secret_type!(
    /// The token a QR code carries: 256 bits from the OS RNG.
    QrToken
);

impl QrToken {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let bytes = os_random::<32>()?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub fn from_client(raw: String) -> Self {
        Self(raw)
    }
}

secret_type!(
    /// A 6-digit PIN, shown on the phone and typed into the service.
    Pin
);

impl Pin {
    /// Uniform over 000000–999999: draws above the largest multiple of a
    /// million are rejected so no PIN is likelier than another.
    pub fn generate() -> Result<Self, getrandom::Error> {
        const LIMIT: u32 = 4_294_000_000;
        loop {
            let n = u32::from_le_bytes(os_random::<4>()?);
            if n < LIMIT {
                return Ok(Self(format!("{:06}", n % 1_000_000)));
            }
        }
    }

    pub fn parse(raw: String) -> Result<Self, FieldError> {
        if raw.len() == 6 && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw))
        } else {
            Err(FieldError::new(
                "pin",
                "must be the 6 digits shown on the phone",
            ))
        }
    }

    /// The stored form, keyed by the QR token: the database alone (which
    /// holds only the token's hash) is not enough to brute-force the PIN.
    pub fn hash_for(&self, qr: &QrToken) -> TokenHash {
        TokenHash::of(&format!("{}:{}", qr.expose(), self.0))
    }
}

secret_type!(
    /// A session JWT as presented by a service.
    SessionToken
);

impl SessionToken {
    pub fn new(raw: String) -> Self {
        Self(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let key = ApiKey::generate().unwrap();
        let printed = format!("{key:?}");
        assert_eq!(printed, "ApiKey([redacted])");
        assert!(!printed.contains(key.expose()));
        let pw = Password::parse("correct horse battery".into()).unwrap();
        assert!(!format!("{pw:?}").contains("horse"));
        let hash = TokenHash::of(pw.expose());
        assert!(!format!("{hash:?}").contains(hash.as_str()));
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert!(Password::parse("123456789".into()).is_err());
        assert!(Password::parse("1234567890".into()).is_ok());
        assert!(Password::parse("é".repeat(256)).is_ok());
        assert!(Password::parse("é".repeat(257)).is_err());
    }

    #[test]
    fn passwords_are_nfkc_and_their_length_is_of_that_form() {
        let composed = Password::parse("caf\u{e9} au lait".into()).unwrap();
        let decomposed = Password::parse("cafe\u{301} au lait".into()).unwrap();
        assert_eq!(composed.expose(), decomposed.expose());
        assert_eq!(composed.expose(), "caf\u{e9} au lait");
        let fullwidth =
            Password::parse("\u{ff50}\u{ff41}\u{ff53}\u{ff53} phrase 7".into()).unwrap();
        assert_eq!(fullwidth.expose(), "pass phrase 7");
        // Nine characters once composed, though ten code points as typed.
        assert!(Password::parse("abcdefghe\u{301}".into()).is_err());
        assert!(Password::parse("abcdefghie\u{301}".into()).is_ok());
        assert!(Password::parse("x".repeat(4 * 256 + 1)).is_err());
    }

    #[test]
    fn an_offered_password_keeps_its_typed_form_only_when_it_differs() {
        let plain = Password::offered("correct horse".into()).unwrap();
        assert_eq!(plain.typed(), None);
        let decomposed = Password::offered("cafe\u{301} au lait".into()).unwrap();
        assert_eq!(decomposed.expose(), "caf\u{e9} au lait");
        assert_eq!(decomposed.typed(), Some("cafe\u{301} au lait"));
        assert!(Password::offered("x".repeat(4 * 256 + 1)).is_none());
    }

    #[test]
    fn generated_tokens_are_unique_and_prefixed() {
        let a = ApiKey::generate().unwrap();
        let b = ApiKey::generate().unwrap();
        assert!(a.expose().starts_with("cas_"));
        assert_ne!(a.expose(), b.expose());
        assert!(AdminToken::generate().unwrap().expose().starts_with("caa_"));
        let auth = AuthKey::generate().unwrap();
        assert!(uuid::Uuid::parse_str(auth.expose()).is_ok());
    }

    #[test]
    fn pins_are_six_digits_and_hashed_with_their_qr_token() {
        for _ in 0..200 {
            let pin = Pin::generate().unwrap();
            assert_eq!(pin.expose().len(), 6);
            assert!(pin.expose().bytes().all(|b| b.is_ascii_digit()));
        }
        let pin = Pin::parse("012345".into()).unwrap();
        let a = QrToken::generate().unwrap();
        let b = QrToken::generate().unwrap();
        assert!(pin.hash_for(&a).matches(&pin.hash_for(&a)));
        assert!(!pin.hash_for(&a).matches(&pin.hash_for(&b)));
        assert!(Pin::parse("12345".into()).is_err());
        assert!(Pin::parse("12345a".into()).is_err());
        assert_eq!(QrToken::generate().unwrap().expose().len(), 43);
    }

    #[test]
    fn hashes_match_only_the_same_secret() {
        let a = TokenHash::of("one");
        assert!(a.matches(&TokenHash::of("one")));
        assert!(!a.matches(&TokenHash::of("two")));
        assert_eq!(a.as_str().len(), 64);
    }
}

secret_type!(
    /// An OpenID Connect secret handed to a browser or a client: the login
    /// page's browser binding (a cookie), an authorization code (`cac_…`),
    /// an access token (`caat_…`) or a refresh token (`cart_…`).
    OAuthSecret
);

impl OAuthSecret {
    /// The cookie that binds an authorization request to its browser.
    pub fn browser_binding() -> Result<Self, getrandom::Error> {
        prefixed_token("").map(Self)
    }

    pub fn code() -> Result<Self, getrandom::Error> {
        prefixed_token("cac_").map(Self)
    }

    pub fn access_token() -> Result<Self, getrandom::Error> {
        prefixed_token("caat_").map(Self)
    }

    pub fn refresh_token() -> Result<Self, getrandom::Error> {
        prefixed_token("cart_").map(Self)
    }

    pub fn from_client(raw: String) -> Self {
        Self(raw)
    }
}
