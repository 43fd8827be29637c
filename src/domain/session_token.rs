//! The signer: session JWTs signed with the Ed25519 key from the database
//! (`kid` in the header) and verified against every Ed25519 key this server
//! has published; other JWTs (OpenID Connect ID tokens) signed with the
//! current key of the algorithm asked for, RS256 or EdDSA. Session claims
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
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::domain::DomainError;
use crate::domain::secret::SessionToken;
use crate::domain::signing::{JwsAlgorithm, StoredSigningKey};

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

/// A public key as published in the JWKS document: an Ed25519 key has
/// `crv` and `x`, an RSA key `n` and `e`.
#[derive(Debug, Clone, Serialize)]
pub struct PublicJwk {
    pub kty: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    pub kid: String,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
}

pub struct SessionSigner {
    issuer: String,
    /// The Ed25519 key that signs session tokens.
    kid: String,
    encoding: EncodingKey,
    /// The RSA key that signs RS256 tokens, once it has been made.
    rsa: Option<(String, EncodingKey)>,
    /// Every published key by kid, with the one algorithm it verifies.
    decoding: HashMap<String, (JwsAlgorithm, DecodingKey)>,
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
    /// Signs session tokens with the Ed25519 key `current`; verifies tokens
    /// of any key in `all`, each under its own algorithm.
    pub fn new(
        issuer: String,
        current: &StoredSigningKey,
        all: &[StoredSigningKey],
    ) -> Result<Self, DomainError> {
        if current.algorithm != JwsAlgorithm::EdDSA {
            return Err(DomainError::internal(
                "session tokens are signed with EdDSA",
            ));
        }
        let der = STANDARD
            .decode(&current.private_key)
            .map_err(DomainError::internal)?;
        let mut signer = Self {
            issuer,
            kid: current.kid.clone(),
            encoding: EncodingKey::from_ed_der(&der),
            rsa: None,
            decoding: HashMap::new(),
            jwks: Vec::new(),
            verified: Memo::new(),
            renewed: Memo::new(),
        };
        for key in all.iter().chain(std::iter::once(current)) {
            signer.publish(key)?;
        }
        Ok(signer)
    }

    /// This signer with `current` as the RSA key that signs RS256 tokens.
    pub fn with_rsa(mut self, current: &StoredSigningKey) -> Result<Self, DomainError> {
        if current.algorithm != JwsAlgorithm::RS256 {
            return Err(DomainError::internal("not an RSA key"));
        }
        let der = STANDARD
            .decode(&current.private_key)
            .map_err(DomainError::internal)?;
        self.publish(current)?;
        self.rsa = Some((current.kid.clone(), EncodingKey::from_rsa_der(&der)));
        Ok(self)
    }

    /// Adds `key`'s public half to the keys that verify and to the JWKS.
    fn publish(&mut self, key: &StoredSigningKey) -> Result<(), DomainError> {
        if self.decoding.contains_key(&key.kid) {
            return Ok(());
        }
        let (decoding, jwk) = match key.algorithm {
            JwsAlgorithm::EdDSA => (
                DecodingKey::from_ed_components(&key.public_key).map_err(DomainError::internal)?,
                PublicJwk {
                    kty: "OKP",
                    crv: Some("Ed25519"),
                    x: Some(key.public_key.clone()),
                    n: None,
                    e: None,
                    kid: key.kid.clone(),
                    alg: "EdDSA",
                    use_: "sig",
                },
            ),
            JwsAlgorithm::RS256 => {
                let members = key.rsa_members()?;
                (
                    DecodingKey::from_rsa_components(&members.n, &members.e)
                        .map_err(DomainError::internal)?,
                    PublicJwk {
                        kty: "RSA",
                        crv: None,
                        x: None,
                        n: Some(members.n),
                        e: Some(members.e),
                        kid: key.kid.clone(),
                        alg: "RS256",
                        use_: "sig",
                    },
                )
            }
        };
        self.decoding
            .insert(key.kid.clone(), (key.algorithm, decoding));
        self.jwks.push(jwk);
        Ok(())
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn jwks(&self) -> &[PublicJwk] {
        &self.jwks
    }

    /// The kid of the key that signs session tokens.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The kid of the RSA key that signs RS256 tokens, once there is one.
    pub fn rsa_kid(&self) -> Option<&str> {
        self.rsa.as_ref().map(|(kid, _)| kid.as_str())
    }

    /// Whether `token` names a kid this signer does not have: a key made
    /// (by another instance, or the CLI) since the keys were last read.
    pub fn names_unknown_kid(&self, token: &SessionToken) -> bool {
        self.names_unknown_kid_str(token.expose())
    }

    /// `names_unknown_kid` for a token that is not a session token.
    pub fn names_unknown_kid_str(&self, token: &str) -> bool {
        jsonwebtoken::decode_header(token)
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

    /// `claims` as a compact JWS (`kid` and `typ: "JWT"` in the header),
    /// signed by the current key of `alg`. RS256 fails until the RSA key has
    /// been made (`Core::ensure_rsa_key`).
    pub fn sign_claims<T: Serialize>(
        &self,
        alg: JwsAlgorithm,
        claims: &T,
    ) -> Result<String, DomainError> {
        let (kid, key) = match alg {
            JwsAlgorithm::EdDSA => (&self.kid, &self.encoding),
            JwsAlgorithm::RS256 => {
                let (kid, key) = self.rsa.as_ref().ok_or_else(|| {
                    DomainError::internal("no RSA signing key yet (Core::ensure_rsa_key)")
                })?;
                (kid, key)
            }
        };
        let mut header = Header::new(jose(alg));
        header.kid = Some(kid.clone());
        header.typ = Some("JWT".to_owned());
        jsonwebtoken::encode(&header, claims, key).map_err(DomainError::internal)
    }

    /// The claims of a JWS one of our published keys signed, checked under
    /// the algorithm that key is for (whatever the header says), with `iss`
    /// our issuer and, unless `allow_expired`, `exp` after `now`. `aud` is
    /// the caller's to check. `None` for anything else.
    pub fn verify_claims<T: DeserializeOwned>(
        &self,
        token: &str,
        now: Timestamp,
        allow_expired: bool,
    ) -> Option<T> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let (alg, key) = self.decoding.get(header.kid.as_deref()?)?;
        let algorithm = jose(*alg);
        if header.alg != algorithm {
            return None;
        }
        let mut validation = Validation::new(algorithm);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["iss", "exp"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, key, &validation)
            .ok()?
            .claims;
        // Expiry against our clock (time is an input), not the system's.
        let exp = claims.get("exp")?.as_i64()?;
        if !allow_expired && exp <= now.as_second() {
            return None;
        }
        serde_json::from_value(claims).ok()
    }

    fn verify_signature(&self, token: &SessionToken) -> Result<SessionClaims, DomainError> {
        let header =
            jsonwebtoken::decode_header(token.expose()).map_err(|_| DomainError::InvalidToken)?;
        // Only an Ed25519 key signs session tokens.
        let key = header
            .kid
            .as_ref()
            .and_then(|kid| self.decoding.get(kid))
            .and_then(|(alg, key)| (*alg == JwsAlgorithm::EdDSA).then_some(key))
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

/// The JWT library's name for `alg`.
fn jose(alg: JwsAlgorithm) -> Algorithm {
    match alg {
        JwsAlgorithm::RS256 => Algorithm::RS256,
        JwsAlgorithm::EdDSA => Algorithm::EdDSA,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::signing::{generate, generate_rsa};
    use serde_json::{Value, json};

    /// One RSA key for all the tests here: making one is the slow part.
    fn rsa_key() -> StoredSigningKey {
        static KEY: std::sync::OnceLock<StoredSigningKey> = std::sync::OnceLock::new();
        KEY.get_or_init(|| generate_rsa().unwrap()).clone()
    }

    /// A signer with both keys, for `issuer`.
    fn both(issuer: &str) -> SessionSigner {
        let ed = generate().unwrap();
        let rsa = rsa_key();
        SessionSigner::new(issuer.into(), &ed, &[ed.clone(), rsa.clone()])
            .unwrap()
            .with_rsa(&rsa)
            .unwrap()
    }

    fn at(when: &str) -> Timestamp {
        when.parse().unwrap()
    }

    fn claims(iss: &str, exp: &str) -> Value {
        json!({"iss": iss, "sub": "u1", "aud": "client", "exp": at(exp).as_second()})
    }

    fn b64(value: &Value) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    #[test]
    fn claims_signed_with_either_algorithm_verify_with_kid_and_typ() {
        let signer = both("http://a");
        let now = at("2026-11-25T12:00:00Z");
        let body = claims("http://a", "2026-11-25T13:00:00Z");
        for (alg, kid) in [
            (JwsAlgorithm::RS256, signer.rsa_kid().unwrap().to_owned()),
            (JwsAlgorithm::EdDSA, signer.kid().to_owned()),
        ] {
            let token = signer.sign_claims(alg, &body).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.alg, jose(alg));
            assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
            assert_eq!(header.typ.as_deref(), Some("JWT"));
            let back: Value = signer.verify_claims(&token, now, false).unwrap();
            assert_eq!(back, body);
        }
        let kinds: Vec<&str> = signer.jwks().iter().map(|k| k.kty).collect();
        assert_eq!(kinds, ["OKP", "RSA"]);
    }

    #[test]
    fn rs256_is_refused_until_there_is_an_rsa_key() {
        let only_ed = signer("http://a");
        let body = claims("http://a", "2026-11-25T13:00:00Z");
        assert!(only_ed.sign_claims(JwsAlgorithm::RS256, &body).is_err());
        assert!(only_ed.sign_claims(JwsAlgorithm::EdDSA, &body).is_ok());
    }

    #[test]
    fn verify_claims_refuses_expired_foreign_and_forged_tokens() {
        let signer = both("http://a");
        let now = at("2026-11-25T12:00:00Z");
        let expired = claims("http://a", "2026-11-25T11:59:00Z");
        let token = signer.sign_claims(JwsAlgorithm::RS256, &expired).unwrap();
        assert!(signer.verify_claims::<Value>(&token, now, false).is_none());
        assert_eq!(
            signer.verify_claims::<Value>(&token, now, true),
            Some(expired),
            "an expired token passes where expiry does not matter"
        );

        let foreign = claims("http://b", "2026-11-25T13:00:00Z");
        let token = signer.sign_claims(JwsAlgorithm::RS256, &foreign).unwrap();
        assert!(signer.verify_claims::<Value>(&token, now, true).is_none());

        let body = claims("http://a", "2026-11-25T13:00:00Z");
        let ed_kid = signer.kid().to_owned();
        // HS256 keyed with the public key's text: the classic confusion.
        let ed_public = signer.jwks()[0].x.clone().unwrap();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(ed_kid.clone());
        let hs = jsonwebtoken::encode(
            &header,
            &body,
            &EncodingKey::from_secret(ed_public.as_bytes()),
        )
        .unwrap();
        assert!(signer.verify_claims::<Value>(&hs, now, true).is_none());

        let none = format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "kid": ed_kid, "typ": "JWT"})),
            b64(&body)
        );
        assert!(signer.verify_claims::<Value>(&none, now, true).is_none());

        // Signed by our own RSA key, but naming the Ed25519 key's kid.
        let rsa = rsa_key();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(ed_kid);
        let der = STANDARD.decode(&rsa.private_key).unwrap();
        let crossed =
            jsonwebtoken::encode(&header, &body, &EncodingKey::from_rsa_der(&der)).unwrap();
        assert!(signer.verify_claims::<Value>(&crossed, now, true).is_none());
        // The same bytes under the right kid do verify: the refusal above
        // is the kid's algorithm, not a broken signature.
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(rsa.kid.clone());
        let right = jsonwebtoken::encode(&header, &body, &EncodingKey::from_rsa_der(&der)).unwrap();
        assert!(signer.verify_claims::<Value>(&right, now, false).is_some());

        let unknown = both("http://a")
            .sign_claims(JwsAlgorithm::EdDSA, &body)
            .unwrap();
        assert!(signer.verify_claims::<Value>(&unknown, now, true).is_none());
    }

    #[test]
    fn a_session_token_is_never_accepted_from_the_rsa_key() {
        let signer = both("http://a");
        let rsa = rsa_key();
        let body = json!({"iss": "http://a", "sub": "u1", "aud": "s1", "sid": "x",
            "iat": 0, "exp": 1, "jti": "j"});
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(rsa.kid.clone());
        let der = STANDARD.decode(&rsa.private_key).unwrap();
        let token = jsonwebtoken::encode(&header, &body, &EncodingKey::from_rsa_der(&der)).unwrap();
        assert!(signer.verify(&SessionToken::new(token)).is_err());
    }

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
