//! Sessions after login: validation (the authority services ask, which also
//! renews) and logout.

use std::sync::Arc;

use jiff::Timestamp;

use crate::domain::login::records::SessionRecord;
use crate::domain::secret::SessionToken;
use crate::domain::session_token::SessionClaims;
use crate::domain::types::ServiceId;
use crate::domain::{Core, DomainError};

/// Why a token does not (or no longer) open a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidReason {
    Expired,
    LoggedOut,
    Revoked,
    UserInactive,
    ServiceInactive,
    WrongService,
    Invalid,
}

impl InvalidReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::LoggedOut => "logged_out",
            Self::Revoked => "revoked",
            Self::UserInactive => "user_inactive",
            Self::ServiceInactive => "service_inactive",
            Self::WrongService => "wrong_service",
            Self::Invalid => "invalid",
        }
    }

    fn from_ended(reason: Option<&str>) -> Self {
        match reason {
            Some("logged_out") => Self::LoggedOut,
            Some("expired") => Self::Expired,
            Some("user_inactive") => Self::UserInactive,
            Some("service_inactive") => Self::ServiceInactive,
            _ => Self::Revoked,
        }
    }
}

/// A live, renewed session.
#[derive(Debug)]
pub struct ValidSession {
    pub session_id: String,
    pub user: SessionUser,
    pub service_id: ServiceId,
    pub token: SessionToken,
    pub expires_at: Timestamp,
    pub expires_in: i64,
}

/// The person a session belongs to, as services see them.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user_id: String,
    pub username: String,
    pub full_name: String,
    pub email: String,
}

impl From<&SessionRecord> for SessionUser {
    fn from(s: &SessionRecord) -> Self {
        Self {
            user_id: s.user_id.to_string(),
            username: s.username.clone(),
            full_name: s.full_name.clone(),
            email: s.email.clone(),
        }
    }
}

impl Core {
    /// The session a token names, if the token is ours and matches its row.
    async fn session_of(
        &self,
        token: &SessionToken,
    ) -> Result<Option<(Arc<SessionClaims>, SessionRecord)>, DomainError> {
        let Some(claims) = self.verify_session_token(token).await else {
            return Ok(None);
        };
        let Some(session) = self.db.find_session(&claims.sid).await? else {
            return Ok(None);
        };
        let matches =
            session.user_id.as_str() == claims.sub && session.service_id.as_str() == claims.aud;
        Ok(matches.then_some((claims, session)))
    }

    /// Checks a session and renews its idle timeout. The renewal is written
    /// only when it moves the expiry by more than `session_renew_step`, so
    /// busy sessions do not write on every call.
    pub async fn validate_session(
        &self,
        token: &SessionToken,
        for_service: Option<&ServiceId>,
    ) -> Result<Result<ValidSession, InvalidReason>, DomainError> {
        let Some((claims, session)) = self.session_of(token).await? else {
            return Ok(Err(InvalidReason::Invalid));
        };
        // A service that must name itself and did not is refused as if it
        // were another: its caller forgot to check whose token this is.
        let named = for_service.is_some_and(|s| *s == session.service_id);
        if (for_service.is_some() || session.service_requires_credentials) && !named {
            return Ok(Err(InvalidReason::WrongService));
        }
        if session.ended_at.is_some() {
            return Ok(Err(InvalidReason::from_ended(
                session.ended_reason.as_deref(),
            )));
        }
        if !session.user_active {
            return Ok(Err(InvalidReason::UserInactive));
        }
        if !session.service_active {
            return Ok(Err(InvalidReason::ServiceInactive));
        }
        let now = self.now();
        let ends = session.ends_at();
        if now >= ends {
            self.db
                .end_session(&session.session_id, "expired", ends)
                .await?;
            return Ok(Err(InvalidReason::Expired));
        }
        let renewed = now
            .checked_add(self.settings.session_idle_timeout)
            .map_err(DomainError::internal)?
            .min(session.absolute_expires_at);
        let step = renewed.duration_since(session.idle_expires_at);
        let expires_at = if step > self.settings.session_renew_step
            && self
                .db
                .renew_session(&session.session_id, renewed, now)
                .await?
        {
            renewed
        } else {
            session.idle_expires_at
        };
        // A token that already carries this expiry is handed back as it is:
        // signing is the dearest step of the most frequent call.
        let token = if claims.exp == expires_at.as_second() {
            token.clone()
        } else {
            self.signer().renewed(
                session.user_id.as_str(),
                session.service_id.as_str(),
                &session.session_id,
                now,
                expires_at,
            )?
        };
        let remaining = expires_at.duration_since(now).as_secs_f64().ceil();
        Ok(Ok(ValidSession {
            user: SessionUser::from(&session),
            session_id: session.session_id,
            service_id: session.service_id,
            token,
            expires_at,
            expires_in: remaining as i64,
        }))
    }

    /// Ends the session a token names. Idempotent: an ended session answers
    /// the same. A token that is not ours is `InvalidToken`.
    pub async fn logout(&self, token: &SessionToken) -> Result<String, DomainError> {
        let Some((_, session)) = self.session_of(token).await? else {
            return Err(DomainError::InvalidToken);
        };
        if session.ended_at.is_none() {
            let now = self.now();
            let ends = session.ends_at();
            // A session that timed out unnoticed ended then, not now.
            let (reason, at) = if now >= ends {
                ("expired", ends)
            } else {
                ("logged_out", now)
            };
            if self.db.end_session(&session.session_id, reason, at).await? {
                tracing::info!(session_id = %session.session_id, reason, "session ended");
            }
        }
        Ok(session.session_id)
    }
}
