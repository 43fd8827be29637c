//! What the server does on a timer so that nothing grows without bound:
//! the purge of what is over, and the registration digest.

use jiff::SignedDuration;

use crate::domain::{Core, DomainError};

/// How long what is over is kept before the purge deletes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// QR codes and sessions, after they ended or expired
    /// (`PURGE_AFTER_HOURS`). Long enough that a late poll or validation
    /// still gets its precise answer (`expired`, `logged_out`) for a while.
    pub flows: SignedDuration,
    /// Delivered and failed emails in the outbox (`OUTBOX_KEEP_DAYS`).
    pub emails: SignedDuration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            flows: SignedDuration::from_hours(24),
            emails: SignedDuration::from_hours(24 * 30),
        }
    }
}

/// What one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub qr_codes: u64,
    pub sessions: u64,
    pub admin_tokens: u64,
    pub emails: u64,
    pub sign_in_counts: u64,
    /// OIDC authorization requests, codes and tokens past their expiry.
    pub oidc: u64,
}

impl Core {
    /// One upkeep run: the registration digest if one is due, then the
    /// purge. Idempotent, so every instance of a cluster may run it.
    pub async fn upkeep(&self) -> Result<(), DomainError> {
        self.send_registration_digest().await?;
        let purged = self.purge().await?;
        if purged != Purged::default() {
            tracing::info!(
                qr_codes = purged.qr_codes,
                sessions = purged.sessions,
                admin_tokens = purged.admin_tokens,
                emails = purged.emails,
                sign_in_counts = purged.sign_in_counts,
                oidc = purged.oidc,
                "purged what is over"
            );
        }
        Ok(())
    }

    /// Deletes what is past its retention; the login history stays.
    pub async fn purge(&self) -> Result<Purged, DomainError> {
        let now = self.now();
        let keep = self.settings.retention;
        let before = |d: SignedDuration| now.checked_sub(d).map_err(DomainError::internal);
        // Without the limits nothing reads the counts: all may go.
        let counts = match self.settings.guessing {
            Some(policy) => before(policy.forget_after)?,
            None => now,
        };
        Ok(self
            .db
            .purge(before(keep.flows)?, before(keep.emails)?, counts, now)
            .await?)
    }
}
