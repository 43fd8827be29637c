//! The OpenID Connect provider: services are its clients, and the QR code
//! and PIN are how a person proves who they are. The authorization code
//! flow with PKCE, refresh tokens that rotate, and the same session model
//! (history, operating hours, deactivation) as every other login.

pub mod access;
pub mod authorize;
pub mod claims;
pub mod client;
pub mod error;
pub mod grants;
pub mod interaction;
pub mod logout;
pub mod records;

use jiff::SignedDuration;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::signing::JwsAlgorithm;
use crate::domain::{Core, DomainError};

/// The lifetimes of the OIDC flow.
#[derive(Debug, Clone, Copy)]
pub struct OidcSettings {
    /// How long an access token (and the ID token beside it) lives
    /// (`OIDC_ACCESS_TOKEN_TTL_SECS`); never past its session.
    pub access_token_ttl: SignedDuration,
    /// How long an authorization code can be redeemed.
    pub code_ttl: SignedDuration,
    /// How long the login page of one authorization request stays usable
    /// (several QR codes in a row).
    pub interaction_ttl: SignedDuration,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            access_token_ttl: SignedDuration::from_mins(10),
            code_ttl: SignedDuration::from_secs(60),
            interaction_ttl: SignedDuration::from_mins(10),
        }
    }
}

impl Core {
    /// Signs an ID token with the client's algorithm.
    pub(crate) async fn sign_id_token<T: Serialize>(
        &self,
        alg: JwsAlgorithm,
        claims: &T,
    ) -> Result<String, DomainError> {
        if alg == JwsAlgorithm::RS256 {
            self.ensure_rsa_key().await?;
        }
        self.signer().sign_claims(alg, claims)
    }

    /// The claims of a JWS this server signed (any of its keys, expired or
    /// not): an `id_token_hint`.
    /// (A key this instance has not loaded yet is read by `verify_claims`.)
    pub(crate) async fn verify_own_jwt<T: DeserializeOwned>(&self, token: &str) -> Option<T> {
        self.verify_claims(token, true).await
    }
}
