//! The cross-device login: a service asks for a QR code, the person's phone
//! scans it and shows a PIN, the service trades QR token + PIN for a session.
//! Every failed step is written to the audit trail with its outcome code.

pub mod qr_code;
pub mod qr_image;
pub mod qr_state;
pub mod records;
pub mod scan;
pub mod sessions;
pub mod verify;

use jiff::Timestamp;

use crate::domain::login::qr_state::{QrRecord, QrStep};
use crate::domain::login::records::Attempt;
use crate::domain::model::ClientInfo;
use crate::domain::secret::QrToken;
use crate::domain::types::{ServiceId, UserId};
use crate::domain::{Core, DomainError};

/// Who and what a login attempt concerned, filled in as a step learns it, so
/// that a failure is recorded with everything known at that point.
#[derive(Debug, Default)]
pub(crate) struct AttemptTrail {
    pub user_id: Option<UserId>,
    pub service_id: Option<ServiceId>,
    pub qr_id: Option<String>,
    /// The requesting browser once the QR code is known, else the caller.
    pub client: ClientInfo,
}

impl AttemptTrail {
    pub fn new(caller: &ClientInfo) -> Self {
        Self {
            client: caller.clone(),
            ..Self::default()
        }
    }

    /// Every history row of a QR code keeps its requester's IP and user agent.
    pub fn learn_qr(&mut self, qr: &QrRecord) {
        self.qr_id = Some(qr.qr_id.clone());
        self.service_id = Some(qr.service_id.clone());
        if qr.user_id.is_some() {
            self.user_id.clone_from(&qr.user_id);
        }
        self.client = ClientInfo {
            ip: qr.requester_ip.clone(),
            user_agent: qr.requester_user_agent.clone(),
        };
    }
}

impl Core {
    /// Writes a failed attempt to the audit trail. Infrastructure failures
    /// are not attempts (and could not be written anyway).
    pub(crate) async fn record_failure(&self, trail: &AttemptTrail, err: &DomainError) {
        if matches!(err, DomainError::Internal(_) | DomainError::Unavailable) {
            return;
        }
        self.record_outcome(trail, err.code()).await;
    }

    /// Writes an attempt with `outcome` to the audit trail; a failure to
    /// write is logged, never turned into the attempt's answer.
    pub(crate) async fn record_outcome(&self, trail: &AttemptTrail, outcome: &str) {
        let attempt = Attempt {
            user_id: trail.user_id.as_ref(),
            service_id: trail.service_id.as_ref(),
            qr_id: trail.qr_id.as_deref(),
            outcome,
            at: self.now(),
            ip: trail.client.ip.as_deref(),
            user_agent: trail.client.user_agent.as_deref(),
            sign_in: None,
        };
        if let Err(e) = self.db.record_attempt(&attempt).await {
            tracing::error!(error = %e, outcome, "could not record a login attempt");
        }
    }

    /// The first checks of a gated step (scan, verify): the QR code is looked
    /// up before the operating-hours gate so that even a refusal for closed
    /// hours is recorded against its QR code and service; then it must exist.
    pub(crate) async fn gated_qr(
        &self,
        trail: &mut AttemptTrail,
        token: &QrToken,
    ) -> Result<QrRecord, DomainError> {
        let qr = self.db.find_qr(&token.hash()).await?;
        if let Some(qr) = &qr {
            trail.learn_qr(qr);
        }
        self.ensure_open().await?;
        qr.ok_or(DomainError::QrNotFound)
    }

    /// After `step`'s conditional write lost a race, the state that won
    /// decides the answer.
    pub(crate) async fn refusal_after_race(
        &self,
        qr_id: &str,
        step: QrStep,
        now: Timestamp,
    ) -> DomainError {
        match self.db.reload_qr(qr_id).await {
            Ok(current) => current.refusal_after_race(step, now),
            Err(e) => e.into(),
        }
    }

    /// Runs one login step and records its failure, if any.
    pub(crate) async fn audited<T>(
        &self,
        trail: &AttemptTrail,
        result: Result<T, DomainError>,
    ) -> Result<T, DomainError> {
        if let Err(err) = &result {
            self.record_failure(trail, err).await;
        }
        result
    }
}
