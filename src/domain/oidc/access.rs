//! What a client does with its tokens: userinfo (the access token), and
//! revocation (RFC 7009) and introspection (RFC 7662) of either kind.

use jiff::Timestamp;

use crate::domain::login::records::SessionRecord;
use crate::domain::oidc::claims::{ProfileClaims, UserInfo};
use crate::domain::oidc::client::ClientType;
use crate::domain::oidc::error::OAuthError;
use crate::domain::oidc::grants::ClientCredentials;
use crate::domain::oidc::records::{IssuedToken, TokenKind};
use crate::domain::secret::OAuthSecret;
use crate::domain::{Core, DomainError};

/// An introspection answer: `active: false` says nothing more.
#[derive(Debug, serde::Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub details: Option<TokenDetails>,
}

#[derive(Debug, serde::Serialize)]
pub struct TokenDetails {
    pub scope: String,
    pub client_id: String,
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    pub exp: i64,
    pub iat: i64,
    pub sub: String,
    pub aud: String,
    pub iss: String,
    pub sid: String,
}

impl Core {
    /// The token and its session, if the token still works at `now`.
    async fn live_token(
        &self,
        token: &OAuthSecret,
        now: Timestamp,
    ) -> Result<Option<(IssuedToken, SessionRecord)>, DomainError> {
        let Some(stored) = self.db.find_oidc_token(&token.hash()).await? else {
            return Ok(None);
        };
        if stored.used_at.is_some() || stored.revoked_at.is_some() || now >= stored.expires_at {
            return Ok(None);
        }
        match self.live_session(&stored.session_id, now).await {
            Ok(session) => Ok(Some((stored, session))),
            Err(OAuthError::Failure(err)) => Err(err),
            Err(OAuthError::Refused { .. }) => Ok(None),
        }
    }

    /// The claims an access token's scope grants about its user.
    pub async fn userinfo(&self, token: &OAuthSecret) -> Result<UserInfo, OAuthError> {
        let now = self.now();
        match self.live_token(token, now).await? {
            Some((stored, session)) if stored.kind == TokenKind::Access => {
                let groups = self.user_groups_for(&session, &stored.scope).await?;
                Ok(UserInfo {
                    sub: session.user_id.to_string(),
                    profile: ProfileClaims::for_scope(&stored.scope, &session, groups),
                })
            }
            _ => Err(OAuthError::invalid_token(
                "the access token is invalid, expired or revoked",
            )),
        }
    }

    /// RFC 7009: revoking a refresh token ends its whole grant (the login
    /// behind it); an access token stops alone. A token that is unknown or
    /// another client's is answered the same (200), and left alone.
    pub async fn revoke(
        &self,
        credentials: &ClientCredentials,
        token: &OAuthSecret,
    ) -> Result<(), OAuthError> {
        let client = self.authenticate_client(credentials).await?;
        let Some(stored) = self.db.find_oidc_token(&token.hash()).await? else {
            return Ok(());
        };
        if stored.service_id != client.service_id {
            return Ok(());
        }
        let now = self.now();
        match stored.kind {
            TokenKind::Refresh => {
                if self
                    .db
                    .end_session(&stored.session_id, "logged_out", now)
                    .await?
                {
                    tracing::info!(session_id = %stored.session_id, "OIDC grant revoked by its client");
                }
            }
            TokenKind::Access => {
                self.db.revoke_oidc_token(&stored.token_hash, now).await?;
            }
        }
        Ok(())
    }

    /// RFC 7662, for confidential clients, about their own tokens.
    pub async fn introspect(
        &self,
        credentials: &ClientCredentials,
        token: &OAuthSecret,
    ) -> Result<Introspection, OAuthError> {
        let client = self.authenticate_client(credentials).await?;
        if client.client_type == ClientType::Public {
            return Err(OAuthError::invalid_client(
                "introspection is for confidential clients",
            ));
        }
        let now = self.now();
        let inactive = Introspection {
            active: false,
            details: None,
        };
        let Some((stored, session)) = self.live_token(token, now).await? else {
            return Ok(inactive);
        };
        if stored.service_id != client.service_id {
            return Ok(inactive);
        }
        Ok(Introspection {
            active: true,
            details: Some(TokenDetails {
                scope: stored.scope,
                client_id: stored.service_id.to_string(),
                username: session.username.clone(),
                token_type: (stored.kind == TokenKind::Access).then_some("Bearer"),
                exp: stored.expires_at.as_second(),
                iat: stored.created_at.as_second(),
                sub: session.user_id.to_string(),
                aud: stored.service_id.to_string(),
                iss: self.settings.public_url.clone(),
                sid: session.session_id,
            }),
        })
    }
}
