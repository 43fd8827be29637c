//! Step 1: a service asks for a QR code; and the status its page polls.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;

use crate::domain::login::{AttemptTrail, qr_image};
use crate::domain::model::ClientInfo;
use crate::domain::secret::{ApiKey, QrToken};
use crate::domain::service_registry::check_api_key;
use crate::domain::types::ServiceId;
use crate::domain::{Core, DomainError};
use crate::storage::qr::{NewQr, QrRecord, QrState};

/// A new QR code, as handed to the service.
#[derive(Debug)]
pub struct IssuedQr {
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

/// What a QR code's status page may know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrStatus {
    Pending,
    Scanned,
    Verified,
    Expired,
    Locked,
    Denied,
}

impl QrStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Scanned => "scanned",
            Self::Verified => "verified",
            Self::Expired => "expired",
            Self::Locked => "locked",
            Self::Denied => "denied",
        }
    }
}

/// The status of a QR code at `now`, and the expiry that matters for it:
/// the QR code's while pending, the PIN's once scanned.
pub fn status_at(qr: &QrRecord, now: Timestamp) -> (QrStatus, Timestamp) {
    let pin_expiry = qr.pin_expires_at.unwrap_or(qr.expires_at);
    match qr.state {
        QrState::Pending if now >= qr.expires_at => (QrStatus::Expired, qr.expires_at),
        QrState::Pending => (QrStatus::Pending, qr.expires_at),
        QrState::Scanned if now >= pin_expiry => (QrStatus::Expired, pin_expiry),
        QrState::Scanned => (QrStatus::Scanned, pin_expiry),
        QrState::Verified => (QrStatus::Verified, pin_expiry),
        QrState::Locked => (QrStatus::Locked, pin_expiry),
        QrState::Denied => (QrStatus::Denied, qr.pin_expires_at.unwrap_or(qr.expires_at)),
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
        let token = QrToken::generate().map_err(|e| DomainError::Internal(e.to_string()))?;
        let now = self.now();
        let ttl = self.settings.qr_ttl;
        let expires_at = now
            .checked_add(ttl)
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        let payload = format!("{}/app#qr={}", self.settings.public_url, token.expose());
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
            })
            .await?;
        Ok(IssuedQr {
            token,
            payload,
            png,
            expires_at,
            expires_in: ttl.as_secs(),
        })
    }

    /// Where a QR code stands, for the service's waiting page.
    pub async fn qr_status(&self, token: &QrToken) -> Result<(QrStatus, Timestamp), DomainError> {
        let qr = self
            .db
            .find_qr(&token.hash())
            .await?
            .ok_or(DomainError::QrNotFound)?;
        Ok(status_at(&qr, self.now()))
    }
}
