//! Step 1: a service asks for a QR code; and the status its page polls.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;

use crate::domain::login::qr_state::QrStatus;
use crate::domain::login::records::NewQr;
use crate::domain::login::{AttemptTrail, qr_image};
use crate::domain::model::{ClientInfo, Service};
use crate::domain::secret::{ApiKey, QrToken};
use crate::domain::service_registry::check_api_key;
use crate::domain::types::ServiceId;
use crate::domain::{Core, DomainError};

/// A new QR code, as handed to the service.
#[derive(Debug)]
pub struct IssuedQr {
    pub qr_id: String,
    pub token: QrToken,
    /// What the QR code encodes: the authenticator page with the token in
    /// the URL fragment (fragments never reach a server log).
    pub payload: String,
    pub png: Vec<u8>,
    pub expires_at: Timestamp,
    pub expires_in: i64,
}

impl IssuedQr {
    pub fn png_base64(&self) -> String {
        STANDARD.encode(&self.png)
    }
}

impl Core {
    /// Issues a QR code for an authenticated, active service. `requester` is
    /// the end user's browser as the service reports it.
    pub async fn generate_qr(
        &self,
        service_id: &ServiceId,
        api_key: &ApiKey,
        requester: &ClientInfo,
        caller: &ClientInfo,
    ) -> Result<IssuedQr, DomainError> {
        let reported = if requester.ip.is_some() || requester.user_agent.is_some() {
            requester
        } else {
            caller
        };
        let mut trail = AttemptTrail::new(reported);
        let result = self
            .generate_steps(&mut trail, service_id, api_key, requester)
            .await;
        if let Err(DomainError::RateLimited { .. }) = &result {
            // Not written to the history: a flood of refusals must not
            // become a flood of writes.
            return result;
        }
        self.audited(&trail, result).await
    }

    async fn generate_steps(
        &self,
        trail: &mut AttemptTrail,
        service_id: &ServiceId,
        api_key: &ApiKey,
        requester: &ClientInfo,
    ) -> Result<IssuedQr, DomainError> {
        let found = self.db.find_service_with_key(service_id).await?;
        // Attribute even a refused attempt to the service it names, if real.
        if let Some((service, _)) = &found {
            trail.service_id = Some(service.service_id.clone());
        }
        self.ensure_open().await?;
        let service = check_api_key(found, api_key)?;
        if !service.is_active {
            return Err(DomainError::ServiceInactive);
        }
        self.issue_qr(&service, requester, false).await
    }

    /// A new QR code for an active service whose right to ask was checked.
    /// `on_login_page`: shown on Central Auth's own login page (an OIDC
    /// login), so the phone asks the person to look for this server's
    /// address rather than the service's.
    pub(crate) async fn issue_qr(
        &self,
        service: &Service,
        requester: &ClientInfo,
        on_login_page: bool,
    ) -> Result<IssuedQr, DomainError> {
        // Counted after the key is checked: keyed by the claimed id, anyone
        // who knows a service's id (it is no secret) could spend that
        // service's budget and stop its logins. Bad keys are 401 and cost a
        // hash compare, and the per-service map only ever holds real services.
        self.generate_rate.check(&service.service_id)?;
        let token = QrToken::generate().map_err(DomainError::internal)?;
        let now = self.now();
        let ttl = self.settings.qr_ttl;
        let expires_at = now.checked_add(ttl).map_err(DomainError::internal)?;
        let payload = self.qr_payload(&token);
        let png = qr_image::png(&payload)?;
        let qr_id = uuid::Uuid::new_v4().to_string();
        self.db
            .insert_qr(&NewQr {
                qr_id: &qr_id,
                token_hash: &token.hash(),
                service_id: &service.service_id,
                created_at: now,
                expires_at,
                requester_ip: requester.ip.as_deref(),
                requester_user_agent: requester.user_agent.as_deref(),
                on_login_page,
            })
            .await?;
        Ok(IssuedQr {
            qr_id,
            token,
            payload,
            png,
            expires_at,
            expires_in: ttl.as_secs(),
        })
    }

    /// What a QR code encodes: the authenticator page with the token in
    /// the URL fragment (fragments never reach a server log).
    pub(crate) fn qr_payload(&self, token: &QrToken) -> String {
        format!("{}/app#qr={}", self.settings.public_url, token.expose())
    }

    /// Where a QR code stands, for the service's waiting page.
    pub async fn qr_status(&self, token: &QrToken) -> Result<(QrStatus, Timestamp), DomainError> {
        let qr = self
            .db
            .find_qr(&token.hash())
            .await?
            .ok_or(DomainError::QrNotFound)?;
        Ok(qr.status_at(self.now()))
    }
}
