//! Step 3: the service trades QR token + PIN for a session. Everything the
//! scan checked is checked again: a state change between the steps is never
//! bypassed.

use jiff::Timestamp;

use crate::domain::login::AttemptTrail;
use crate::domain::login::qr_state::{QrRecord, QrStep};
use crate::domain::login::records::NewLogin;
use crate::domain::model::{ClientInfo, Service, User};
use crate::domain::secret::{ApiKey, Pin, QrToken, SessionToken};
use crate::domain::types::ServiceId;
use crate::domain::{Core, DomainError};

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

/// Who trades the PIN: a service over the API (with its credentials when
/// it sends them), or Central Auth's own login page for an OIDC client.
#[derive(Clone, Copy)]
pub(crate) enum Verifier<'a> {
    Service(Option<(&'a ServiceId, &'a ApiKey)>),
    LoginPage(&'a ServiceId),
}

/// The lifetime of a session opened at `now`.
struct SessionTimes {
    now: Timestamp,
    /// The idle expiry, capped by the absolute one: what the token carries.
    expires_at: Timestamp,
    absolute_expires_at: Timestamp,
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
        self.verify_as(token, pin, Verifier::Service(service), caller)
            .await
    }

    pub(crate) async fn verify_as(
        &self,
        token: &QrToken,
        pin: &Pin,
        verifier: Verifier<'_>,
        caller: &ClientInfo,
    ) -> Result<Login, DomainError> {
        let mut trail = AttemptTrail::new(caller);
        let result = self.verify_steps(&mut trail, token, pin, verifier).await;
        self.audited(&trail, result).await
    }

    /// The checks in the contract's order, then the PIN, then the session.
    async fn verify_steps(
        &self,
        trail: &mut AttemptTrail,
        token: &QrToken,
        pin: &Pin,
        verifier: Verifier<'_>,
    ) -> Result<Login, DomainError> {
        let qr = self.gated_qr(trail, token).await?;
        let now = self.now();
        qr.check(QrStep::Verify, now)?;
        let caller = match verifier {
            Verifier::Service(credentials) => self.caller_of(&qr, credentials).await?,
            // The login page serves one interaction, whose QR code it made:
            // a code of another service is not its to trade.
            Verifier::LoginPage(service_id) if *service_id != qr.service_id => {
                return Err(DomainError::WrongService);
            }
            Verifier::LoginPage(_) => None,
        };
        let user = self.scanner_of(&qr).await?;
        self.ensure_service_active(&qr, caller).await?;
        self.check_pin(&qr, token, pin, now).await?;
        let times = self.session_times(now)?;
        let session_id = self.open_session(&qr, &user, &times).await?;
        self.issue_login(qr, user, session_id, &times)
    }

    /// The authenticated caller, which must be the QR code's own service
    /// (else `wrong_service`); `None` when the caller sent no credentials
    /// and its service allows that (else `credentials_required`).
    async fn caller_of(
        &self,
        qr: &QrRecord,
        credentials: Option<(&ServiceId, &ApiKey)>,
    ) -> Result<Option<Service>, DomainError> {
        let Some((service_id, api_key)) = credentials else {
            let service = self.db.find_service(&qr.service_id).await?;
            if service.as_ref().is_some_and(|s| s.require_credentials) {
                return Err(DomainError::CredentialsRequired);
            }
            return Ok(None);
        };
        let caller = self.authenticate_service(service_id, api_key).await?;
        if caller.service_id != qr.service_id {
            return Err(DomainError::WrongService);
        }
        Ok(Some(caller))
    }

    /// The person who scanned the code, still active.
    async fn scanner_of(&self, qr: &QrRecord) -> Result<User, DomainError> {
        let user_id = qr
            .user_id
            .as_ref()
            .ok_or_else(|| DomainError::internal("scanned QR code without a user"))?;
        let user = self
            .db
            .find_user(user_id)
            .await?
            .ok_or(DomainError::UserInactive)?;
        if !user.is_active {
            return Err(DomainError::UserInactive);
        }
        Ok(user)
    }

    /// The QR code's service is still active. The authenticated caller, if
    /// any, is that service, so its row serves without another read.
    async fn ensure_service_active(
        &self,
        qr: &QrRecord,
        caller: Option<Service>,
    ) -> Result<(), DomainError> {
        let service = match caller {
            Some(caller) => Some(caller),
            None => self.db.find_service(&qr.service_id).await?,
        };
        if service.is_some_and(|s| s.is_active) {
            Ok(())
        } else {
            Err(DomainError::ServiceInactive)
        }
    }

    /// The PIN is the one the scan issued; a wrong one is counted
    /// ([`QrStep::CountWrongPin`]) and locks the code at the limit.
    async fn check_pin(
        &self,
        qr: &QrRecord,
        token: &QrToken,
        pin: &Pin,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let right = qr
            .pin_hash
            .as_ref()
            .is_some_and(|stored| stored.matches(&pin.hash_for(token)));
        if right {
            return Ok(());
        }
        let max = self.settings.max_pin_attempts;
        match self.db.record_wrong_pin(&qr.qr_id, max, now).await? {
            Some(failed) => Err(DomainError::InvalidPin {
                attempts_remaining: (max - failed).max(0),
            }),
            None => Err(self
                .refusal_after_race(&qr.qr_id, QrStep::CountWrongPin, now)
                .await),
        }
    }

    fn session_times(&self, now: Timestamp) -> Result<SessionTimes, DomainError> {
        let absolute_expires_at = now
            .checked_add(self.settings.session_max_lifetime)
            .map_err(DomainError::internal)?;
        let expires_at = now
            .checked_add(self.settings.session_idle_timeout)
            .map_err(DomainError::internal)?
            .min(absolute_expires_at);
        Ok(SessionTimes {
            now,
            expires_at,
            absolute_expires_at,
        })
    }

    /// [`QrStep::Verify`]: claims the code and writes the session, its
    /// history row and the user's last login together; a verification that
    /// lost the claim is answered from the state that won.
    async fn open_session(
        &self,
        qr: &QrRecord,
        user: &User,
        times: &SessionTimes,
    ) -> Result<String, DomainError> {
        let session_id = uuid::Uuid::new_v4().to_string();
        let won = self
            .db
            .complete_login(
                &NewLogin {
                    qr_id: &qr.qr_id,
                    session_id: &session_id,
                    user_id: &user.user_id,
                    service_id: &qr.service_id,
                    now: times.now,
                    idle_expires_at: times.expires_at,
                    absolute_expires_at: times.absolute_expires_at,
                    ip: qr.requester_ip.as_deref(),
                    user_agent: qr.requester_user_agent.as_deref(),
                },
                self.settings.max_pin_attempts,
            )
            .await?;
        if !won {
            return Err(self
                .refusal_after_race(&qr.qr_id, QrStep::Verify, times.now)
                .await);
        }
        Ok(session_id)
    }

    /// Signs the session token the service receives.
    fn issue_login(
        &self,
        qr: QrRecord,
        user: User,
        session_id: String,
        times: &SessionTimes,
    ) -> Result<Login, DomainError> {
        let token = self.signer().sign(
            user.user_id.as_str(),
            qr.service_id.as_str(),
            &session_id,
            times.now,
            times.expires_at,
        )?;
        tracing::info!(user_id = %user.user_id, service_id = %qr.service_id, session_id, "login");
        Ok(Login {
            token,
            session_id,
            expires_at: times.expires_at,
            expires_in: times.expires_at.duration_since(times.now).as_secs(),
            user: User {
                last_login: Some(times.now),
                ..user
            },
            service_id: qr.service_id,
        })
    }
}
