//! Drains the outbox: claims due messages, sends them, and reschedules
//! failures with exponential backoff. Every instance may run one; claims are
//! leases in the database, so each message goes out once, and a message whose
//! worker died is picked up again when its lease runs out.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::email::mailer::Mailer;
use crate::storage::{Database, StorageError};

/// How long a claimed message is reserved for the worker sending it.
const LEASE: SignedDuration = SignedDuration::from_secs(120);
const FIRST_RETRY: SignedDuration = SignedDuration::from_secs(10);
const LONGEST_WAIT: SignedDuration = SignedDuration::from_hours(1);

/// The wait before attempt `n + 1`: 10 s, 20 s, 40 s, … at most an hour.
pub fn backoff(attempts: i64) -> SignedDuration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let secs = FIRST_RETRY.as_secs().saturating_mul(1_i64 << doublings);
    SignedDuration::from_secs(secs.min(LONGEST_WAIT.as_secs()))
}

pub struct OutboxWorker {
    pub db: Database,
    pub mailer: Mailer,
    pub clock: Arc<dyn Clock>,
    /// Rung when a message is queued, so it goes out at once.
    pub wake: Arc<Notify>,
    /// How often to look anyway: for retries, and for messages queued by
    /// other instances.
    pub poll: Duration,
}

impl OutboxWorker {
    pub async fn run(self) {
        loop {
            if let Err(e) = self.drain().await {
                tracing::warn!(error = %e, "email outbox: database error; will retry");
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// Sends every message that is due now.
    async fn drain(&self) -> Result<(), StorageError> {
        loop {
            let now = self.clock.now();
            let lease_until = now.saturating_add(LEASE).unwrap_or(now);
            let Some(email) = self.db.claim_due_email(now, lease_until).await? else {
                return Ok(());
            };
            match self.mailer.send(&email).await {
                Ok(delivery) => {
                    self.db
                        .mark_email_delivered(email.id, delivery, self.clock.now())
                        .await?;
                    tracing::info!(
                        id = email.id,
                        kind = %email.kind,
                        to = %email.recipient,
                        status = delivery.as_str(),
                        "email delivered"
                    );
                }
                Err(failure) => {
                    let retry_at =
                        (!failure.permanent).then(|| retry_time(self.clock.now(), email.attempts));
                    self.db
                        .mark_email_failed(email.id, &failure.message, retry_at)
                        .await?;
                    tracing::warn!(
                        id = email.id,
                        kind = %email.kind,
                        attempts = email.attempts,
                        permanent = failure.permanent,
                        error = %failure.message,
                        "email not sent"
                    );
                }
            }
        }
    }
}

fn retry_time(now: Timestamp, attempts: i64) -> Timestamp {
    now.saturating_add(backoff(attempts)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps_at_an_hour() {
        assert_eq!(backoff(1).as_secs(), 10);
        assert_eq!(backoff(2).as_secs(), 20);
        assert_eq!(backoff(3).as_secs(), 40);
        assert_eq!(backoff(12).as_secs(), 3600);
        assert_eq!(backoff(1000).as_secs(), 3600);
        assert_eq!(backoff(0).as_secs(), 10);
    }
}
