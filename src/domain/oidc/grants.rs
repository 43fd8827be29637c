//! `/oauth2/token`: a code or a refresh token for an ID token, an access
//! token and a new refresh token. Codes are single use; refresh tokens
//! rotate on every use. A second use of either is taken as theft: the
//! session behind it ends, and with it every token issued for it.

use jiff::Timestamp;

use crate::domain::login::records::SessionRecord;
use crate::domain::oidc::authorize::verifier_matches;
use crate::domain::oidc::claims::{AMR, IdTokenClaims, ProfileClaims};
use crate::domain::oidc::client::{ClientType, OidcClient};
use crate::domain::oidc::error::OAuthError;
use crate::domain::oidc::records::{IssuedToken, TokenKind};
use crate::domain::secret::{ApiKey, OAuthSecret};
use crate::domain::types::ServiceId;
use crate::domain::{Core, DomainError};

/// How a client authenticated at the token, revocation or introspection
/// endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `client_secret_basic`: the Authorization header.
    Basic,
    /// `client_secret_post`: the form body.
    Post,
    /// `none`: a public client names itself only.
    None,
}

/// The client's credentials as the request carried them.
#[derive(Debug)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<ApiKey>,
    pub method: AuthMethod,
}

/// What a token request trades.
#[derive(Debug)]
pub enum TokenGrant {
    AuthorizationCode {
        code: OAuthSecret,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    },
    RefreshToken {
        refresh_token: OAuthSecret,
        /// A narrower scope than the grant's, if asked.
        scope: Option<String>,
    },
}

/// The clear tokens of a grant, until their rows are stored.
struct NewTokens {
    access: OAuthSecret,
    refresh: OAuthSecret,
    access_expires: Timestamp,
}

/// What the token endpoint hands out.
#[derive(Debug)]
pub struct TokenSet {
    pub access_token: OAuthSecret,
    pub expires_in: i64,
    pub refresh_token: OAuthSecret,
    pub id_token: String,
    pub scope: String,
}

impl Core {
    /// The OIDC client behind `credentials`, if they are right. Every
    /// failure is the same `invalid_client` to the caller, with a reason.
    pub(crate) async fn authenticate_client(
        &self,
        credentials: &ClientCredentials,
    ) -> Result<OidcClient, OAuthError> {
        let service_id = ServiceId::from_client(&credentials.client_id);
        let Some(client) = self.oidc_client(&service_id).await? else {
            return Err(OAuthError::invalid_client("unknown client"));
        };
        match (&credentials.secret, client.client_type) {
            (Some(secret), _) => match self.authenticate_service(&service_id, secret).await {
                Ok(_) => {}
                Err(DomainError::InvalidApiKey) => {
                    return Err(OAuthError::invalid_client("wrong client secret"));
                }
                Err(other) => return Err(other.into()),
            },
            (None, ClientType::Confidential) => {
                return Err(OAuthError::invalid_client(
                    "this client must authenticate (client_secret_basic or client_secret_post)",
                ));
            }
            (None, ClientType::Public) => {}
        }
        match self.db.find_service(&service_id).await? {
            Some(service) if service.is_active => Ok(client),
            _ => Err(OAuthError::invalid_client(
                "the client has been deactivated",
            )),
        }
    }

    pub async fn token(
        &self,
        credentials: &ClientCredentials,
        grant: TokenGrant,
    ) -> Result<TokenSet, OAuthError> {
        let client = self.authenticate_client(credentials).await?;
        match grant {
            TokenGrant::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                self.redeem_code(
                    &client,
                    &code,
                    redirect_uri.as_deref(),
                    code_verifier.as_deref(),
                )
                .await
            }
            TokenGrant::RefreshToken {
                refresh_token,
                scope,
            } => {
                self.refresh(&client, &refresh_token, scope.as_deref())
                    .await
            }
        }
    }

    async fn redeem_code(
        &self,
        client: &OidcClient,
        code: &OAuthSecret,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
    ) -> Result<TokenSet, OAuthError> {
        let invalid = || OAuthError::invalid_grant("the code is invalid, expired or already used");
        let Some(stored) = self.db.find_code(&code.hash()).await? else {
            return Err(invalid());
        };
        let now = self.now();
        // Checked before anything is spent: another client cannot burn a
        // code it has somehow seen.
        if stored.service_id != client.service_id {
            return Err(invalid());
        }
        if stored.used_at.is_some() {
            self.end_grant(&stored.session_id, "code used twice", now)
                .await?;
            return Err(invalid());
        }
        if now >= stored.expires_at {
            return Err(invalid());
        }
        if redirect_uri != Some(stored.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant(
                "redirect_uri must be the one of the authorization request",
            ));
        }
        match (stored.code_challenge.as_deref(), verifier) {
            (Some(challenge), Some(verifier)) if verifier_matches(verifier, challenge) => {}
            (Some(_), Some(_)) => {
                return Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ));
            }
            (Some(_), None) => {
                return Err(OAuthError::invalid_grant("code_verifier is missing"));
            }
            // A verifier for a code issued without a challenge is a PKCE
            // downgrade attempt (RFC 9700 §2.1.1).
            (None, Some(_)) => {
                return Err(OAuthError::invalid_grant(
                    "code_verifier given, but the authorization request had no code_challenge",
                ));
            }
            (None, None) => {}
        }
        let session = self.live_session(&stored.session_id, now).await?;
        let (tokens, rows) = self.new_tokens(&session, &client.service_id, &stored.scope, now)?;
        if !self.db.redeem_code(&stored.code_hash, now, &rows).await? {
            // Another request redeemed it a moment ago.
            self.end_grant(&stored.session_id, "code used twice", now)
                .await?;
            return Err(invalid());
        }
        self.finish_tokens(client, &session, tokens, &stored.scope, stored.nonce, now)
            .await
    }

    async fn refresh(
        &self,
        client: &OidcClient,
        token: &OAuthSecret,
        scope: Option<&str>,
    ) -> Result<TokenSet, OAuthError> {
        let invalid =
            || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        let Some(stored) = self.db.find_oidc_token(&token.hash()).await? else {
            return Err(invalid());
        };
        if stored.kind != TokenKind::Refresh || stored.service_id != client.service_id {
            return Err(invalid());
        }
        let now = self.now();
        if stored.used_at.is_some() {
            // A rotated token came back: one of the two holders is not the
            // client. End the whole family.
            self.end_grant(&stored.session_id, "refresh token reused", now)
                .await?;
            return Err(invalid());
        }
        if stored.revoked_at.is_some() || now >= stored.expires_at {
            return Err(invalid());
        }
        let scope = match scope {
            None => stored.scope.clone(),
            Some(asked) => narrowed_scope(&stored.scope, asked).ok_or_else(|| {
                OAuthError::new(
                    crate::domain::oidc::error::OAuthErrorCode::InvalidScope,
                    "a refresh may only keep or narrow the granted scope",
                )
            })?,
        };
        let session = self.live_session(&stored.session_id, now).await?;
        let renewed = now
            .checked_add(self.settings.session_idle_timeout)
            .map_err(DomainError::internal)?
            .min(session.absolute_expires_at);
        let (tokens, rows) = self.new_tokens(&session, &client.service_id, &scope, now)?;
        if !self
            .db
            .rotate_refresh_token(&stored.token_hash, now, &rows, &session.session_id, renewed)
            .await?
        {
            self.end_grant(&stored.session_id, "refresh token reused", now)
                .await?;
            return Err(invalid());
        }
        self.finish_tokens(client, &session, tokens, &scope, None, now)
            .await
    }

    /// The session a grant belongs to, if it still lets tokens be issued:
    /// not ended, user and service active, not timed out.
    pub(crate) async fn live_session(
        &self,
        session_id: &str,
        now: Timestamp,
    ) -> Result<SessionRecord, OAuthError> {
        let ended = || OAuthError::invalid_grant("the login this grant belongs to has ended");
        let Some(session) = self.db.find_session(session_id).await? else {
            return Err(ended());
        };
        if session.ended_at.is_some() || !session.user_active || !session.service_active {
            return Err(ended());
        }
        let ends = session.ends_at();
        if now >= ends {
            self.db.end_session(session_id, "expired", ends).await?;
            return Err(ended());
        }
        Ok(session)
    }

    /// Ends the session behind a grant that was misused: every token issued
    /// for it stops working.
    async fn end_grant(
        &self,
        session_id: &str,
        why: &str,
        now: Timestamp,
    ) -> Result<(), OAuthError> {
        if self.db.end_session(session_id, "revoked", now).await? {
            tracing::warn!(session_id, why, "OIDC grant revoked");
        }
        Ok(())
    }

    /// A new access and refresh token for `session`, and their rows.
    fn new_tokens(
        &self,
        session: &SessionRecord,
        service_id: &ServiceId,
        scope: &str,
        now: Timestamp,
    ) -> Result<(NewTokens, Vec<IssuedToken>), DomainError> {
        let access = OAuthSecret::access_token().map_err(DomainError::internal)?;
        let refresh = OAuthSecret::refresh_token().map_err(DomainError::internal)?;
        let access_expires = now
            .checked_add(self.settings.oidc.access_token_ttl)
            .map_err(DomainError::internal)?
            .min(session.absolute_expires_at);
        let row = |secret: &OAuthSecret, kind, expires_at| IssuedToken {
            token_hash: secret.hash(),
            kind,
            session_id: session.session_id.clone(),
            service_id: service_id.clone(),
            user_id: session.user_id.clone(),
            scope: scope.to_owned(),
            created_at: now,
            expires_at,
            used_at: None,
            revoked_at: None,
        };
        let rows = vec![
            row(&access, TokenKind::Access, access_expires),
            row(&refresh, TokenKind::Refresh, session.absolute_expires_at),
        ];
        Ok((
            NewTokens {
                access,
                refresh,
                access_expires,
            },
            rows,
        ))
    }

    /// Signs the ID token for tokens already stored.
    async fn finish_tokens(
        &self,
        client: &OidcClient,
        session: &SessionRecord,
        NewTokens {
            access,
            refresh,
            access_expires,
        }: NewTokens,
        scope: &str,
        nonce: Option<String>,
        now: Timestamp,
    ) -> Result<TokenSet, OAuthError> {
        let id_token = self
            .id_token(client, session, scope, nonce, now, access_expires)
            .await?;
        Ok(TokenSet {
            expires_in: access_expires.duration_since(now).as_secs(),
            access_token: access,
            refresh_token: refresh,
            id_token,
            scope: scope.to_owned(),
        })
    }

    async fn id_token(
        &self,
        client: &OidcClient,
        session: &SessionRecord,
        scope: &str,
        nonce: Option<String>,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<String, OAuthError> {
        let groups = self.user_groups_for(session, scope).await?;
        let claims = IdTokenClaims {
            iss: self.settings.public_url.clone(),
            sub: session.user_id.to_string(),
            aud: client.service_id.to_string(),
            azp: client.service_id.to_string(),
            exp: expires_at.as_second(),
            iat: now.as_second(),
            auth_time: session.created_at.as_second(),
            nonce,
            amr: AMR,
            sid: session.session_id.clone(),
            jti: uuid::Uuid::new_v4().to_string(),
            profile: ProfileClaims::for_scope(scope, session, groups),
        };
        Ok(self.sign_id_token(client.id_token_alg, &claims).await?)
    }

    /// The user's groups, read only when the scope grants them.
    pub(crate) async fn user_groups_for(
        &self,
        session: &SessionRecord,
        scope: &str,
    ) -> Result<Vec<String>, DomainError> {
        if scope.split(' ').any(|s| s == "groups") {
            Ok(self.db.user_groups(&session.user_id).await?)
        } else {
            Ok(Vec::new())
        }
    }
}

/// `asked` if every scope in it was granted (and `openid` is kept).
fn narrowed_scope(granted: &str, asked: &str) -> Option<String> {
    let granted: Vec<&str> = granted.split(' ').collect();
    let mut kept: Vec<&str> = Vec::new();
    for word in asked.split(' ').filter(|w| !w.is_empty()) {
        if !granted.contains(&word) {
            return None;
        }
        if !kept.contains(&word) {
            kept.push(word);
        }
    }
    kept.contains(&"openid").then(|| kept.join(" "))
}

#[cfg(test)]
mod tests {
    use super::narrowed_scope;

    #[test]
    fn a_refresh_may_narrow_the_scope_but_not_widen_it() {
        assert_eq!(
            narrowed_scope("openid email profile", "openid email").as_deref(),
            Some("openid email")
        );
        assert_eq!(narrowed_scope("openid email", "openid groups"), None);
        assert_eq!(narrowed_scope("openid email", "email"), None);
    }
}
