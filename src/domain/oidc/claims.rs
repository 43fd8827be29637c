//! What a token says about the person: the ID token's claims, and the
//! same profile claims in userinfo, by scope.

use serde::Serialize;

use crate::domain::login::records::SessionRecord;

/// How the person proved who they are, as RFC 8176 names it: a key held
/// by software (the phone app's `auth_key`) over more than one channel (the
/// QR code on one device, the phone's answer on another).
pub const AMR: [&str; 2] = ["swk", "mca"];

/// The claims a scope grants, beside `sub`.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ProfileClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Always true when given: an admin approved the registration that
    /// gave the address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

impl ProfileClaims {
    /// The claims `scope` (space-separated) grants about the session's user.
    pub fn for_scope(scope: &str, session: &SessionRecord, groups: Vec<String>) -> Self {
        let has = |name: &str| scope.split(' ').any(|s| s == name);
        let mut claims = Self::default();
        if has("profile") {
            claims.name = Some(session.full_name.clone());
            claims.preferred_username = Some(session.username.clone());
        }
        if has("email") {
            claims.email = Some(session.email.clone());
            claims.email_verified = Some(true);
        }
        if has("groups") {
            claims.groups = Some(groups);
        }
        claims
    }
}

/// The ID token.
#[derive(Debug, Serialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    /// The client the token was issued to (OIDC Core §2), equal to `aud`.
    pub azp: String,
    pub exp: i64,
    pub iat: i64,
    /// When the person logged in with the QR code: the session's start.
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub amr: [&'static str; 2],
    /// The session the token belongs to (also named by `end_session`).
    pub sid: String,
    pub jti: String,
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// Userinfo: `sub` and the claims of the access token's scope.
#[derive(Debug, Serialize)]
pub struct UserInfo {
    pub sub: String,
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// What an `id_token_hint` must tell us.
#[derive(Debug, serde::Deserialize)]
pub struct HintClaims {
    pub aud: String,
    pub sid: String,
}
