//! Session JWTs: signed with the Ed25519 key from the database (`kid` in the
//! header), verified against every key this server has published. Claims
//! name the session; they never carry a secret.
//!
//! The two memos here (tokens verified, tokens signed per session and
//! expiry) stay in the domain rather than joining storage's caches: they
//! keep the results of pure computations over bytes and keys, not copies
//! of rows. A token verifies the same way for as long as its key exists,
//! so nothing a write does can make a memo stale: whether the session
//! behind it is still live is asked of storage on every validation.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lru::LruCache;
use serde::{Deserialize, Serialize};

use crate::domain::DomainError;
use crate::domain::secret::SessionToken;
use crate::domain::signing::StoredSigningKey;

/// The claims of a session token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionClaims {
    pub iss: String,
    /// The user's id.
    pub sub: String,
    /// The service the session was opened for.
    pub aud: String,
    /// The session's id: what `validate-session` and `logout` look up.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// A public key as published in the JWKS document.
#[derive(Debug, Clone, Serialize)]
pub struct PublicJwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub x: String,
    pub kid: String,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
}

pub struct SessionSigner {
    issuer: String,
    kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    jwks: Vec<PublicJwk>,
    /// Tokens whose signature checked out (or that we signed), with their
    /// claims. An Ed25519 verification is about 50 µs, most of a
    /// validation's CPU, and services present the same token again and
    /// again; the same bytes under the same keys verify the same way every
    /// time. Only good tokens are kept, so junk cannot crowd them out.
    verified: Memo<Box<str>, Arc<SessionClaims>>,
    /// The last token signed for a session and expiry, handed out again to
    /// every validation that renews to the same expiry, instead of a
    /// signature (another ~20 µs) each time.
    renewed: Memo<(Box<str>, i64), SessionToken>,
}

/// A bounded map that forgets the least recently used entries.
struct Memo<K, V>(Mutex<LruCache<K, V>>);

const MEMO_CAPACITY: NonZeroUsize = NonZeroUsize::MIN.saturating_add(9_999);

impl<K: std::hash::Hash + Eq, V: Clone> Memo<K, V> {
    fn new() -> Self {
        Self(Mutex::new(LruCache::new(MEMO_CAPACITY)))
    }

    fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let mut memo = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        memo.get(key).cloned()
    }

    fn remember(&self, key: K, value: V) {
        let mut memo = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        memo.put(key, value);
    }
}

impl std::fmt::Debug for SessionSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSigner")
            .field("issuer", &self.issuer)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SessionSigner {
    /// Signs with `current`; verifies tokens of any key in `all`.
    pub fn new(
        issuer: String,
        current: &StoredSigningKey,
        all: &[StoredSigningKey],
    ) -> Result<Self, DomainError> {
        let der = STANDARD
            .decode(&current.private_key)
            .map_err(DomainError::internal)?;
        let mut decoding = HashMap::new();
        let mut jwks = Vec::new();
        for key in all.iter().chain(std::iter::once(current)) {
            if decoding.contains_key(&key.kid) {
                continue;
            }
            decoding.insert(
                key.kid.clone(),
                DecodingKey::from_ed_components(&key.public_key).map_err(DomainError::internal)?,
            );
            jwks.push(PublicJwk {
                kty: "OKP",
                crv: "Ed25519",
                x: key.public_key.clone(),
                kid: key.kid.clone(),
                alg: "EdDSA",
                use_: "sig",
            });
        }
        Ok(Self {
            issuer,
            kid: current.kid.clone(),
            encoding: EncodingKey::from_ed_der(&der),
            decoding,
            jwks,
            verified: Memo::new(),
            renewed: Memo::new(),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn jwks(&self) -> &[PublicJwk] {
        &self.jwks
    }

    /// The kid of the key that signs.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Whether `token` names a kid this signer does not have: a key made
    /// (by another instance, or the CLI) since the keys were last read.
    pub fn names_unknown_kid(&self, token: &SessionToken) -> bool {
        jsonwebtoken::decode_header(token.expose())
            .ok()
            .and_then(|header| header.kid)
            .is_some_and(|kid| !self.decoding.contains_key(&kid))
    }

    pub fn sign(
        &self,
        user_id: &str,
        service_id: &str,
        session_id: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<SessionToken, DomainError> {
        let claims = SessionClaims {
            iss: self.issuer.clone(),
            sub: user_id.to_owned(),
            aud: service_id.to_owned(),
            sid: session_id.to_owned(),
            iat: now.as_second(),
            exp: expires_at.as_second(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map(SessionToken::new)
            .map_err(DomainError::internal)?;
        self.verified
            .remember(token.expose().into(), Arc::new(claims));
        Ok(token)
    }

    /// A token for a session renewed until `expires_at`: the one already
    /// signed for that session and expiry, else a new one.
    pub fn renewed(
        &self,
        user_id: &str,
        service_id: &str,
        session_id: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<SessionToken, DomainError> {
        let key = (Box::from(session_id), expires_at.as_second());
        if let Some(token) = self.renewed.get(&key) {
            return Ok(token);
        }
        let token = self.sign(user_id, service_id, session_id, now, expires_at)?;
        self.renewed.remember(key, token.clone());
        Ok(token)
    }

    /// The claims of a token this server signed, or `InvalidToken`. Expiry is
    /// not judged here: the session row is the authority on that.
    pub fn verify(&self, token: &SessionToken) -> Result<Arc<SessionClaims>, DomainError> {
        if let Some(claims) = self.verified.get(token.expose()) {
            return Ok(claims);
        }
        let claims = Arc::new(self.verify_signature(token)?);
        self.verified
            .remember(token.expose().into(), Arc::clone(&claims));
        Ok(claims)
    }

    fn verify_signature(&self, token: &SessionToken) -> Result<SessionClaims, DomainError> {
        let header =
            jsonwebtoken::decode_header(token.expose()).map_err(|_| DomainError::InvalidToken)?;
        let key = header
            .kid
            .as_ref()
            .and_then(|kid| self.decoding.get(kid))
            .ok_or(DomainError::InvalidToken)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
        jsonwebtoken::decode::<SessionClaims>(token.expose(), key, &validation)
            .map(|data| data.claims)
            .map_err(|_| DomainError::InvalidToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::signing::generate;

    fn signer(issuer: &str) -> SessionSigner {
        let key = generate().unwrap();
        SessionSigner::new(issuer.into(), &key, std::slice::from_ref(&key)).unwrap()
    }

    #[test]
    fn signs_and_verifies_its_own_tokens_only() {
        let a_key = generate().unwrap();
        let a =
            SessionSigner::new("http://a".into(), &a_key, std::slice::from_ref(&a_key)).unwrap();
        let b = signer("http://a");
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let exp: Timestamp = "2026-11-25T12:30:00Z".parse().unwrap();
        let token = a.sign("u1", "s1", "sid1", now, exp).unwrap();
        // Another signer with the same keys checks the signature itself
        // (the signer that made the token remembers it).
        let same_keys =
            SessionSigner::new("http://a".into(), &a_key, std::slice::from_ref(&a_key)).unwrap();
        let claims = same_keys.verify(&token).unwrap();
        assert_eq!(
            (
                claims.sub.as_str(),
                claims.aud.as_str(),
                claims.sid.as_str()
            ),
            ("u1", "s1", "sid1")
        );
        assert_eq!(claims.exp - claims.iat, 1800);
        assert!(b.verify(&token).is_err(), "another key must not verify");
        // The second time comes from the cache, with the same answer.
        assert_eq!(a.verify(&token).unwrap().sid, "sid1");
        let mut tampered = token.expose().to_owned();
        tampered.pop();
        assert!(a.verify(&SessionToken::new(tampered)).is_err());
        assert!(same_keys.verify(&token).is_ok());
        assert!(a.verify(&SessionToken::new("not.a.jwt".into())).is_err());
        let other_issuer = signer("http://b");
        assert!(other_issuer.verify(&token).is_err());
    }

    #[test]
    fn a_renewal_to_the_same_expiry_hands_out_the_same_token() {
        let a = signer("http://a");
        let now: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let exp: Timestamp = "2026-11-25T12:30:00Z".parse().unwrap();
        let later: Timestamp = "2026-11-25T12:31:00Z".parse().unwrap();
        let first = a.renewed("u1", "s1", "sid1", now, exp).unwrap();
        let again = a.renewed("u1", "s1", "sid1", now, exp).unwrap();
        assert_eq!(first.expose(), again.expose());
        let moved = a.renewed("u1", "s1", "sid1", now, later).unwrap();
        assert_ne!(first.expose(), moved.expose());
        assert_eq!(a.verify(&moved).unwrap().exp, later.as_second());
        let other_session = a.renewed("u1", "s1", "sid2", now, exp).unwrap();
        assert_eq!(a.verify(&other_session).unwrap().sid, "sid2");
    }
}
