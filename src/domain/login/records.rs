//! What the login steps hand storage to write, and the session as they read
//! it back. (The QR code's own record lives with its state machine in
//! `qr_state`.)

use jiff::Timestamp;

use crate::domain::secret::TokenHash;
use crate::domain::types::{ServiceId, UserId};

/// A new QR code to store.
pub struct NewQr<'a> {
    pub qr_id: &'a str,
    pub token_hash: &'a TokenHash,
    pub service_id: &'a ServiceId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub requester_ip: Option<&'a str>,
    pub requester_user_agent: Option<&'a str>,
    /// Shown on Central Auth's own login page (an OIDC login).
    pub on_login_page: bool,
}

/// What a successful scan writes.
pub struct Scan<'a> {
    pub user_id: &'a UserId,
    pub scanner_ip: Option<&'a str>,
    pub pin_hash: &'a TokenHash,
    pub pin_expires_at: Timestamp,
}

/// Everything a successful PIN verification writes, in one transaction.
pub struct NewLogin<'a> {
    pub qr_id: &'a str,
    pub session_id: &'a str,
    pub user_id: &'a UserId,
    pub service_id: &'a ServiceId,
    pub now: Timestamp,
    pub idle_expires_at: Timestamp,
    pub absolute_expires_at: Timestamp,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// A failed (or denied) login attempt for the audit trail.
pub struct Attempt<'a> {
    pub user_id: Option<&'a UserId>,
    pub service_id: Option<&'a ServiceId>,
    pub qr_id: Option<&'a str>,
    pub outcome: &'a str,
    pub at: Timestamp,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// A password sign-in: which (`mobile`, `admin`) and the name typed.
    pub sign_in: Option<(&'a str, &'a str)>,
}

/// A session joined with what validation must know about its user and
/// service.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub session_id: String,
    pub user_id: UserId,
    pub service_id: ServiceId,
    pub created_at: Timestamp,
    pub idle_expires_at: Timestamp,
    pub absolute_expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub ended_reason: Option<String>,
    pub user_active: bool,
    pub service_active: bool,
    /// Validation must name the session's service (`service_id`).
    pub service_requires_credentials: bool,
    pub username: String,
    pub full_name: String,
    pub email: String,
}

impl SessionRecord {
    /// When the session ends if nothing renews it: idle expiry, capped by
    /// the absolute lifetime.
    pub fn ends_at(&self) -> Timestamp {
        self.idle_expires_at.min(self.absolute_expires_at)
    }
}
