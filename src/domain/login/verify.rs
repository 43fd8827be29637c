//! Step 3: the service trades QR token + PIN for a session. Everything the
//! scan checked is checked again: a state change between the steps is never
//! bypassed.

use jiff::Timestamp;

use crate::domain::login::AttemptTrail;
use crate::domain::model::{ClientInfo, User};
use crate::domain::secret::{ApiKey, Pin, QrToken, SessionToken};
use crate::domain::types::ServiceId;
use crate::domain::{Core, DomainError};
use crate::storage::qr::{QrRecord, QrState};
use crate::storage::sessions::NewLogin;

/// A session opened by a verified PIN.
#[derive(Debug)]
pub struct Login {
    pub token: SessionToken,
    pub session_id: String,
    pub expires_at: Timestamp,
    pub expires_in: i64,
    pub user: User,
    pub service_id: ServiceId,
}

fn internal(e: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(e.to_string())
}

/// Why a QR code cannot be verified now, in the contract's order: expired
/// (the QR code if never scanned, else the PIN), then the state it is in. A
/// locked code answers 429 for good, whatever the time. `None`: it is
/// scanned and its PIN is live.
fn verify_refusal(qr: &QrRecord, now: Timestamp) -> Option<DomainError> {
    if qr.state == QrState::Locked {
        return Some(DomainError::TooManyAttempts);
    }
    match qr.pin_expires_at {
        None if now >= qr.expires_at => return Some(DomainError::QrExpired),
        Some(pin_expiry) if now >= pin_expiry => return Some(DomainError::PinExpired),
        _ => {}
    }
    match qr.state {
        QrState::Pending => Some(DomainError::QrNotScanned),
        QrState::Verified => Some(DomainError::QrAlreadyUsed),
        QrState::Denied => Some(DomainError::QrDenied),
        QrState::Locked => Some(DomainError::TooManyAttempts),
        QrState::Scanned => None,
    }
}

impl Core {
    /// `service`: the caller's credentials when it sends them; they must be
    /// those of the service that generated the QR code.
    pub async fn verify_pin(
        &self,
        token: &QrToken,
        pin: &Pin,
        service: Option<(&ServiceId, &ApiKey)>,
        caller: &ClientInfo,
    ) -> Result<Login, DomainError> {
        let mut trail = AttemptTrail::new(caller);
        let result = self.verify_steps(&mut trail, token, pin, service).await;
        self.audited(&trail, result).await
    }

    async fn verify_steps(
        &self,
        trail: &mut AttemptTrail,
        token: &QrToken,
        pin: &Pin,
        service: Option<(&ServiceId, &ApiKey)>,
    ) -> Result<Login, DomainError> {
        let qr = self.gated_qr(trail, token).await?;
        let now = self.now();
        if let Some(refusal) = verify_refusal(&qr, now) {
            return Err(refusal);
        }
        // The authenticated caller is the QR code's service (or the answer
        // is `wrong_service`), so its row serves the activity check below.
        let caller = match service {
            Some((service_id, api_key)) => {
                let caller = self.authenticate_service(service_id, api_key).await?;
                if caller.service_id != qr.service_id {
                    return Err(DomainError::WrongService);
                }
                Some(caller)
            }
            None => None,
        };
        let user_id = qr
            .user_id
            .clone()
            .ok_or_else(|| internal("scanned QR code without a user"))?;
        let user = self
            .db
            .find_user(&user_id)
            .await?
            .ok_or(DomainError::UserInactive)?;
        if !user.is_active {
            return Err(DomainError::UserInactive);
        }
        let service = match caller {
            Some(caller) => Some(caller),
            None => self.db.find_service(&qr.service_id).await?,
        };
        if !service.is_some_and(|s| s.is_active) {
            return Err(DomainError::ServiceInactive);
        }
        let max = self.settings.max_pin_attempts;
        let right = qr
            .pin_hash
            .as_ref()
            .is_some_and(|stored| stored.matches(&pin.hash_for(token)));
        if !right {
            return match self.db.record_wrong_pin(&qr.qr_id, max, now).await? {
                Some(failed) => Err(DomainError::InvalidPin {
                    attempts_remaining: (max - failed).max(0),
                }),
                None => Err(self.refusal_after_race(&qr.qr_id, now).await),
            };
        }
        let session_id = uuid::Uuid::new_v4().to_string();
        let idle = self.settings.session_idle_timeout;
        let absolute_expires_at = now
            .checked_add(self.settings.session_max_lifetime)
            .map_err(internal)?;
        let expires_at = now
            .checked_add(idle)
            .map_err(internal)?
            .min(absolute_expires_at);
        let won = self
            .db
            .complete_login(
                &NewLogin {
                    qr_id: &qr.qr_id,
                    session_id: &session_id,
                    user_id: &user.user_id,
                    service_id: &qr.service_id,
                    now,
                    idle_expires_at: expires_at,
                    absolute_expires_at,
                    ip: qr.requester_ip.as_deref(),
                    user_agent: qr.requester_user_agent.as_deref(),
                },
                max,
            )
            .await?;
        if !won {
            return Err(self.refusal_after_race(&qr.qr_id, now).await);
        }
        let token = self.signer.sign(
            user.user_id.as_str(),
            qr.service_id.as_str(),
            &session_id,
            now,
            expires_at,
        )?;
        tracing::info!(user_id = %user.user_id, service_id = %qr.service_id, session_id, "login");
        Ok(Login {
            token,
            session_id,
            expires_at,
            expires_in: expires_at.duration_since(now).as_secs(),
            user: User {
                last_login: Some(now),
                ..user
            },
            service_id: qr.service_id,
        })
    }

    /// After a conditional update lost, the state that beat it decides the answer.
    async fn refusal_after_race(&self, qr_id: &str, now: Timestamp) -> DomainError {
        match self.db.reload_qr(qr_id).await {
            Ok(current) => verify_refusal(&current, now).unwrap_or(DomainError::QrAlreadyUsed),
            Err(e) => e.into(),
        }
    }
}
