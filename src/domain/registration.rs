//! Registration: a person asks for an account and waits in the queue.

use jiff::{SignedDuration, Timestamp};

use crate::domain::emails::{self, Person};
use crate::domain::model::{ClientInfo, PendingUser};
use crate::domain::password::{Lane, PasswordHash};
use crate::domain::password_rules::NewPassword;
use crate::domain::rates::address_key;
use crate::domain::types::{Email, FullName, Phone, UserId, Username};
use crate::domain::{Core, DomainError};

/// How long a registration refused for a full queue is told to wait: the
/// queue empties only as admins work it, so a short retry would only spin.
const QUEUE_FULL_RETRY_SECS: u64 = 600;
/// Registrations a digest email names one by one; the rest it counts.
const DIGEST_LISTS: u32 = 20;

/// Caps on the pending queue (`REGISTRATION_PENDING_*`): a flood of
/// registrations fills neither the database nor the admins' day. `None`:
/// no cap (also under `RATE_LIMITS=off`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCaps {
    pub overall: Option<u32>,
    pub per_address: Option<u32>,
}

/// When admins are told of registrations one by one, and when in a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestSettings {
    /// Registrations an hour announced one email each; past that, a digest.
    pub individual_per_hour: u32,
    /// A digest goes out once its oldest registration has waited this long.
    pub every: SignedDuration,
}

impl Default for DigestSettings {
    fn default() -> Self {
        Self {
            individual_per_hour: 5,
            every: SignedDuration::from_mins(15),
        }
    }
}

/// The pending queue as a new registration sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCounts {
    /// Registrations waiting for approval.
    pub pending: i64,
    /// …of which came from the new registration's address.
    pub pending_from: i64,
    /// Registrations (waiting) that arrived within the last hour.
    pub last_hour: i64,
}

impl QueueCaps {
    /// Whether one more registration from that address fits.
    pub fn admits(&self, counts: &QueueCounts) -> bool {
        let under = |cap: Option<u32>, count: i64| cap.is_none_or(|cap| count < i64::from(cap));
        under(self.overall, counts.pending) && under(self.per_address, counts.pending_from)
    }
}

/// Registrations the admins have not been told of yet.
#[derive(Debug, Clone)]
pub struct Unannounced {
    pub count: i64,
    pub oldest: Option<Timestamp>,
    pub newest: Option<Timestamp>,
    /// The oldest few, for the digest to name.
    pub first: Vec<PendingUser>,
}

/// A registration whose every field is valid.
#[derive(Debug)]
pub struct NewUser {
    pub email: Email,
    pub username: Username,
    pub password: NewPassword,
    pub full_name: FullName,
    pub phone: Option<Phone>,
}

/// A validated registration, ready to store.
pub struct NewRegistration<'a> {
    pub user_id: &'a UserId,
    pub email: &'a str,
    pub email_lower: &'a str,
    pub username: &'a str,
    pub password_hash: &'a PasswordHash,
    pub full_name: &'a str,
    pub phone: Option<&'a str>,
    pub registered_at: Timestamp,
    /// The address the registration came from, as the per-address cap counts it.
    pub registered_from: &'a str,
    /// When the admins were told (now), or `None`: the next digest tells them.
    pub admins_notified_at: Option<Timestamp>,
    /// Checked again by the insert, so that racing registrations cannot
    /// all slip past a nearly full queue.
    pub caps: QueueCaps,
}

/// What storing a registration came to: the database settles a race
/// between two registrations of one name.
#[derive(Debug, PartialEq, Eq)]
pub enum RegistrationOutcome {
    Created,
    EmailTaken,
    UsernameTaken,
    /// A cap on the pending queue was reached.
    QueueFull,
}

impl Core {
    /// Queues a registration. Names are checked before the (slow) password
    /// hash, and again by the database's UNIQUE constraints at insert, which
    /// settle a race between two identical registrations. So are the
    /// queue's caps, before the hash and again in the insert.
    pub async fn register(&self, new: NewUser, client: &ClientInfo) -> Result<UserId, DomainError> {
        let email_lower = new.email.normalized();
        let username = new.username.as_str();
        if let Some(taken) = self.db.find_taken_name(&email_lower, username).await? {
            return Err(taken_error(taken));
        }
        let now = self.now();
        let from = address_key(client.ip.as_deref()).to_string();
        let an_hour_ago = now
            .checked_sub(SignedDuration::from_hours(1))
            .map_err(DomainError::internal)?;
        let counts = self.db.queue_counts(&from, an_hour_ago).await?;
        let caps = self.settings.queue_caps;
        if !caps.admits(&counts) {
            return Err(queue_full(&from));
        }
        let password_hash: PasswordHash = self
            .hasher
            .hash(Lane::People, new.password.password())
            .await?;
        let user_id = UserId::generate();
        // Past a few an hour, the admins hear of registrations in one digest.
        let one_by_one = counts.last_hour < i64::from(self.settings.digest.individual_per_hour);
        let emails = if one_by_one {
            emails::registration_received(
                &self.admin_recipients().await?,
                &Person {
                    email: new.email.as_str(),
                    username,
                    full_name: new.full_name.as_str(),
                },
                new.phone.as_ref().map(Phone::as_str),
                &self.settings.public_url,
            )?
        } else {
            Vec::new()
        };
        let outcome = self
            .db
            .insert_registration(
                &NewRegistration {
                    user_id: &user_id,
                    email: new.email.as_str(),
                    email_lower: &email_lower,
                    username,
                    password_hash: &password_hash,
                    full_name: new.full_name.as_str(),
                    phone: new.phone.as_ref().map(Phone::as_str),
                    registered_at: now,
                    registered_from: &from,
                    admins_notified_at: one_by_one.then_some(now),
                    caps,
                },
                &emails,
            )
            .await?;
        match outcome {
            RegistrationOutcome::Created => {
                self.outbox_wake.notify_one();
                tracing::info!(user_id = %user_id, "registration queued for approval");
                Ok(user_id)
            }
            RegistrationOutcome::QueueFull => Err(queue_full(&from)),
            taken => Err(taken_error(taken)),
        }
    }

    /// Tells the admins, in one email each, of the registrations that came
    /// past the hourly few, once the oldest of them has waited
    /// `digest.every`. Several instances may run this at once: one claims
    /// the registrations, the others find nothing to claim. Returns how many
    /// registrations the digest announced.
    pub async fn send_registration_digest(&self) -> Result<i64, DomainError> {
        let now = self.now();
        let waiting = self.db.unannounced_registrations(DIGEST_LISTS).await?;
        let (Some(oldest), Some(newest)) = (waiting.oldest, waiting.newest) else {
            return Ok(0);
        };
        if now.duration_since(oldest) < self.settings.digest.every {
            return Ok(0);
        }
        let emails = emails::registration_digest(
            &self.admin_recipients().await?,
            &waiting.first,
            waiting.count,
            &self.settings.public_url,
        )?;
        if !self
            .db
            .claim_announcement(newest, waiting.count, now, &emails)
            .await?
        {
            // The queue moved between the read and the claim (an approval, or
            // another instance's digest): the next run looks again.
            return Ok(0);
        }
        self.outbox_wake.notify_one();
        tracing::info!(count = waiting.count, "registration digest queued");
        Ok(waiting.count)
    }
}

fn queue_full(from: &str) -> DomainError {
    tracing::warn!(
        from,
        "registration refused: the pending queue is at its cap"
    );
    DomainError::RateLimited {
        retry_after: QUEUE_FULL_RETRY_SECS,
    }
}

fn taken_error(outcome: RegistrationOutcome) -> DomainError {
    match outcome {
        RegistrationOutcome::EmailTaken => DomainError::EmailTaken,
        RegistrationOutcome::UsernameTaken
        | RegistrationOutcome::Created
        | RegistrationOutcome::QueueFull => DomainError::UsernameTaken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pending: i64, pending_from: i64) -> QueueCounts {
        QueueCounts {
            pending,
            pending_from,
            last_hour: 0,
        }
    }

    #[test]
    fn each_cap_admits_up_to_its_figure_and_none_admits_all() {
        let caps = QueueCaps {
            overall: Some(10),
            per_address: Some(2),
        };
        assert!(caps.admits(&counts(9, 1)));
        assert!(!caps.admits(&counts(10, 0)), "overall cap");
        assert!(!caps.admits(&counts(3, 2)), "per-address cap");
        assert!(QueueCaps::default().admits(&counts(i64::MAX, i64::MAX)));
    }
}
