//! What the OIDC flow hands storage to write, and reads back.

use jiff::Timestamp;

use crate::domain::secret::TokenHash;
use crate::domain::types::{ServiceId, UserId};

/// An authorization request waiting for its QR login.
#[derive(Debug, Clone)]
pub struct Interaction {
    pub interaction_id: String,
    /// The hash of the cookie that binds the request to its browser.
    pub browser_hash: TokenHash,
    pub service_id: ServiceId,
    pub redirect_uri: String,
    /// The granted scopes, space-separated.
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The PKCE S256 challenge, if the client sent one.
    pub code_challenge: Option<String>,
    /// The QR code shown on the login page now.
    pub qr_id: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub completed_at: Option<Timestamp>,
}

/// An authorization code as stored (the code itself only as its hash).
#[derive(Debug, Clone)]
pub struct AuthorizationCode {
    pub code_hash: TokenHash,
    pub service_id: ServiceId,
    pub session_id: String,
    pub user_id: UserId,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// Which kind of token a row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }

    pub fn from_stored(raw: &str) -> Option<Self> {
        match raw {
            "access" => Some(Self::Access),
            "refresh" => Some(Self::Refresh),
            _ => None,
        }
    }
}

/// An access or refresh token as stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token_hash: TokenHash,
    pub kind: TokenKind,
    pub session_id: String,
    pub service_id: ServiceId,
    pub user_id: UserId,
    pub scope: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// A refresh token that was traded for a new one.
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}
