//! A QR code's life as one state machine: the states it is stored in, what
//! its status page is told, which step may move it out of which state, and
//! the refusal a client gets for each step that may not happen.
//!
//! Storage writes every step as a conditional UPDATE whose condition it
//! builds from this same table (`QrStep::from_states`, `QrStep::deadline`,
//! `QrStep::within_attempts`), so the check made here before a step and the
//! single-use guarantee the database enforces cannot drift apart.

use jiff::Timestamp;

use crate::domain::DomainError;
use crate::domain::secret::TokenHash;
use crate::domain::types::{ServiceId, UserId};

/// Where a QR code stands, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrState {
    /// Shown on the service's page, waiting for a phone.
    Pending,
    /// A phone has it and holds the PIN.
    Scanned,
    /// Its PIN opened a session: used up.
    Verified,
    /// Too many wrong PINs: closed for good.
    Locked,
    /// Its person said "this wasn't me": closed for good.
    Denied,
}

impl QrState {
    pub const ALL: [QrState; 5] = [
        Self::Pending,
        Self::Scanned,
        Self::Verified,
        Self::Locked,
        Self::Denied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Scanned => "scanned",
            Self::Verified => "verified",
            Self::Locked => "locked",
            Self::Denied => "denied",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// What a QR code's status page may know: its state, or that it expired.
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

/// The steps that change a QR code's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrStep {
    /// A phone claims the code and gets the PIN: pending → scanned.
    Scan,
    /// Its person did not start this login: → denied, for good.
    Deny,
    /// A wrong PIN is counted: scanned stays scanned, or → locked at the
    /// limit.
    CountWrongPin,
    /// The right PIN opens a session: scanned → verified.
    Verify,
}

/// Which of a QR code's expiries a step must beat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// The QR code's own (two minutes after it was made).
    Qr,
    /// The PIN's (five minutes after the scan).
    Pin,
}

impl QrStep {
    /// The states the step may start from.
    pub fn from_states(self) -> &'static [QrState] {
        match self {
            Self::Scan => &[QrState::Pending],
            // Denying again, or after a lock, keeps the code closed and
            // records the person's word; only a used code is past saving.
            Self::Deny => &[
                QrState::Pending,
                QrState::Scanned,
                QrState::Locked,
                QrState::Denied,
            ],
            Self::CountWrongPin | Self::Verify => &[QrState::Scanned],
        }
    }

    /// The state the step leaves the code in (a wrong PIN locks it instead
    /// once the limit is reached).
    pub fn to_state(self) -> QrState {
        match self {
            Self::Scan | Self::CountWrongPin => QrState::Scanned,
            Self::Deny => QrState::Denied,
            Self::Verify => QrState::Verified,
        }
    }

    /// The expiry the step must happen before, if any. A denial has none:
    /// closing a code for good is safe at any time.
    pub fn deadline(self) -> Option<Deadline> {
        match self {
            Self::Scan => Some(Deadline::Qr),
            Self::Deny => None,
            Self::CountWrongPin | Self::Verify => Some(Deadline::Pin),
        }
    }

    /// Whether the step needs the code to have wrong PINs left.
    pub fn within_attempts(self) -> bool {
        matches!(self, Self::CountWrongPin | Self::Verify)
    }
}

/// A QR code as stored (the token and PIN only as hashes).
#[derive(Debug, Clone)]
pub struct QrRecord {
    pub qr_id: String,
    pub service_id: ServiceId,
    pub state: QrState,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub requester_ip: Option<String>,
    pub requester_user_agent: Option<String>,
    pub user_id: Option<UserId>,
    pub pin_hash: Option<TokenHash>,
    pub pin_expires_at: Option<Timestamp>,
    pub failed_attempts: i64,
    /// Shown on Central Auth's own login page (an OIDC login).
    pub on_login_page: bool,
}

impl QrRecord {
    /// The expiry that matters once the code is scanned: the PIN's.
    fn pin_expiry(&self) -> Timestamp {
        self.pin_expires_at.unwrap_or(self.expires_at)
    }

    /// The status at `now`, and the expiry that matters for it: the QR
    /// code's while pending, the PIN's from the scan on.
    pub fn status_at(&self, now: Timestamp) -> (QrStatus, Timestamp) {
        let pin_expiry = self.pin_expiry();
        match self.state {
            QrState::Pending if now >= self.expires_at => (QrStatus::Expired, self.expires_at),
            QrState::Pending => (QrStatus::Pending, self.expires_at),
            QrState::Scanned if now >= pin_expiry => (QrStatus::Expired, pin_expiry),
            QrState::Scanned => (QrStatus::Scanned, pin_expiry),
            QrState::Verified => (QrStatus::Verified, pin_expiry),
            QrState::Locked => (QrStatus::Locked, pin_expiry),
            QrState::Denied => (QrStatus::Denied, pin_expiry),
        }
    }

    /// Whether `step` may happen at `now`, or the refusal in the contract's
    /// order for that step.
    pub fn check(&self, step: QrStep, now: Timestamp) -> Result<(), DomainError> {
        match step {
            QrStep::Scan => self.check_scan(now),
            QrStep::Deny => self.check_deny(now),
            QrStep::CountWrongPin | QrStep::Verify => self.check_verify(now),
        }
    }

    /// Expired first (the QR code's own expiry, whatever the state), then
    /// the state.
    fn check_scan(&self, now: Timestamp) -> Result<(), DomainError> {
        if now >= self.expires_at {
            return Err(DomainError::QrExpired);
        }
        match self.state {
            QrState::Pending => Ok(()),
            QrState::Denied => Err(DomainError::QrDenied),
            QrState::Scanned | QrState::Verified | QrState::Locked => {
                Err(DomainError::QrAlreadyScanned)
            }
        }
    }

    /// Anything but an expired or used code can be denied.
    fn check_deny(&self, now: Timestamp) -> Result<(), DomainError> {
        match self.status_at(now).0 {
            QrStatus::Expired => Err(DomainError::QrExpired),
            QrStatus::Verified => Err(DomainError::QrAlreadyUsed),
            QrStatus::Pending | QrStatus::Scanned | QrStatus::Locked | QrStatus::Denied => Ok(()),
        }
    }

    /// A locked code answers 429 for good, whatever the time; then expired
    /// (the QR code if never scanned, else the PIN); then the state.
    fn check_verify(&self, now: Timestamp) -> Result<(), DomainError> {
        if self.state == QrState::Locked {
            return Err(DomainError::TooManyAttempts);
        }
        match self.pin_expires_at {
            None if now >= self.expires_at => return Err(DomainError::QrExpired),
            Some(pin_expiry) if now >= pin_expiry => return Err(DomainError::PinExpired),
            _ => {}
        }
        match self.state {
            QrState::Scanned => Ok(()),
            QrState::Pending => Err(DomainError::QrNotScanned),
            QrState::Verified => Err(DomainError::QrAlreadyUsed),
            QrState::Denied => Err(DomainError::QrDenied),
            QrState::Locked => Err(DomainError::TooManyAttempts),
        }
    }

    /// The refusal for `step` after its conditional write lost a race: the
    /// state that won decides; `fallback` when that state would allow the
    /// step after all (the winner was an identical step).
    pub fn refusal_after_race(&self, step: QrStep, now: Timestamp) -> DomainError {
        match self.check(step, now) {
            Err(refusal) => refusal,
            Ok(()) => match step {
                QrStep::Scan => DomainError::QrAlreadyScanned,
                QrStep::Deny | QrStep::CountWrongPin | QrStep::Verify => DomainError::QrAlreadyUsed,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: [QrStep; 4] = [
        QrStep::Scan,
        QrStep::Deny,
        QrStep::CountWrongPin,
        QrStep::Verify,
    ];

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    /// Made at 0, QR expiry at 120; scanned codes have a PIN until 300.
    fn qr(state: QrState) -> QrRecord {
        let scanned = state != QrState::Pending;
        QrRecord {
            qr_id: "q".into(),
            service_id: ServiceId::from_stored("s".into()),
            state,
            created_at: at(0),
            expires_at: at(120),
            requester_ip: None,
            requester_user_agent: None,
            user_id: scanned.then(|| UserId::from_stored("u".into())),
            pin_hash: None,
            pin_expires_at: scanned.then(|| at(300)),
            failed_attempts: 0,
            on_login_page: false,
        }
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in QrState::ALL {
            assert_eq!(QrState::parse(state.as_str()), Some(state));
        }
        assert_eq!(QrState::parse("nonsense"), None);
    }

    /// The check made in memory and the condition storage writes agree:
    /// before every deadline, a step is allowed exactly from its
    /// `from_states`.
    #[test]
    fn a_live_step_is_allowed_exactly_from_its_from_states() {
        for step in STEPS {
            for state in QrState::ALL {
                let allowed = qr(state).check(step, at(10)).is_ok();
                assert_eq!(
                    allowed,
                    step.from_states().contains(&state),
                    "{step:?} from {state:?}"
                );
            }
        }
    }

    #[test]
    fn every_step_ends_in_a_state_of_its_own_table() {
        assert_eq!(QrStep::Scan.to_state(), QrState::Scanned);
        assert_eq!(QrStep::Verify.to_state(), QrState::Verified);
        assert_eq!(QrStep::Deny.to_state(), QrState::Denied);
        // Counting a wrong PIN leaves the code where verification finds it.
        assert!(
            QrStep::Verify
                .from_states()
                .contains(&QrStep::CountWrongPin.to_state())
        );
    }

    #[test]
    fn scan_refusals_put_expiry_before_state() {
        let late = at(120);
        assert!(matches!(
            qr(QrState::Pending).check(QrStep::Scan, late),
            Err(DomainError::QrExpired)
        ));
        assert!(matches!(
            qr(QrState::Denied).check(QrStep::Scan, late),
            Err(DomainError::QrExpired)
        ));
        assert!(matches!(
            qr(QrState::Denied).check(QrStep::Scan, at(10)),
            Err(DomainError::QrDenied)
        ));
        assert!(matches!(
            qr(QrState::Verified).check(QrStep::Scan, at(10)),
            Err(DomainError::QrAlreadyScanned)
        ));
    }

    #[test]
    fn verify_refusals_follow_the_contract_order() {
        // Locked beats everything, even an expired PIN.
        assert!(matches!(
            qr(QrState::Locked).check(QrStep::Verify, at(400)),
            Err(DomainError::TooManyAttempts)
        ));
        assert!(matches!(
            qr(QrState::Pending).check(QrStep::Verify, at(130)),
            Err(DomainError::QrExpired)
        ));
        assert!(matches!(
            qr(QrState::Pending).check(QrStep::Verify, at(10)),
            Err(DomainError::QrNotScanned)
        ));
        assert!(matches!(
            qr(QrState::Scanned).check(QrStep::Verify, at(300)),
            Err(DomainError::PinExpired)
        ));
        // A scanned code outlives its QR expiry until the PIN's.
        assert!(qr(QrState::Scanned).check(QrStep::Verify, at(200)).is_ok());
        assert!(matches!(
            qr(QrState::Verified).check(QrStep::Verify, at(10)),
            Err(DomainError::QrAlreadyUsed)
        ));
    }

    #[test]
    fn deny_is_refused_only_for_expired_or_used_codes() {
        assert!(matches!(
            qr(QrState::Pending).check(QrStep::Deny, at(120)),
            Err(DomainError::QrExpired)
        ));
        assert!(matches!(
            qr(QrState::Scanned).check(QrStep::Deny, at(300)),
            Err(DomainError::QrExpired)
        ));
        assert!(qr(QrState::Locked).check(QrStep::Deny, at(400)).is_ok());
        assert!(matches!(
            qr(QrState::Verified).check(QrStep::Deny, at(10)),
            Err(DomainError::QrAlreadyUsed)
        ));
    }

    #[test]
    fn status_names_the_expiry_that_matters() {
        assert_eq!(
            qr(QrState::Pending).status_at(at(10)),
            (QrStatus::Pending, at(120))
        );
        assert_eq!(
            qr(QrState::Pending).status_at(at(120)),
            (QrStatus::Expired, at(120))
        );
        assert_eq!(
            qr(QrState::Scanned).status_at(at(200)),
            (QrStatus::Scanned, at(300))
        );
        assert_eq!(
            qr(QrState::Scanned).status_at(at(300)),
            (QrStatus::Expired, at(300))
        );
        assert_eq!(
            qr(QrState::Verified).status_at(at(900)),
            (QrStatus::Verified, at(300))
        );
    }

    #[test]
    fn a_lost_race_is_answered_from_the_winning_state() {
        let now = at(10);
        assert!(matches!(
            qr(QrState::Verified).refusal_after_race(QrStep::Verify, now),
            DomainError::QrAlreadyUsed
        ));
        assert!(matches!(
            qr(QrState::Locked).refusal_after_race(QrStep::Verify, now),
            DomainError::TooManyAttempts
        ));
        assert!(matches!(
            qr(QrState::Scanned).refusal_after_race(QrStep::Scan, now),
            DomainError::QrAlreadyScanned
        ));
        assert!(matches!(
            qr(QrState::Denied).refusal_after_race(QrStep::Scan, now),
            DomainError::QrDenied
        ));
    }
}
