//! Registration: a person asks for an account and waits in the queue.

use jiff::Timestamp;

use crate::domain::emails::{self, Person};
use crate::domain::password::PasswordHash;
use crate::domain::secret::Password;
use crate::domain::types::{Email, FullName, Phone, UserId, Username};
use crate::domain::{Core, DomainError};

/// A registration whose every field is valid.
#[derive(Debug)]
pub struct NewUser {
    pub email: Email,
    pub username: Username,
    pub password: Password,
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
}

/// What storing a registration came to: the database settles a race
/// between two registrations of one name.
#[derive(Debug, PartialEq, Eq)]
pub enum RegistrationOutcome {
    Created,
    EmailTaken,
    UsernameTaken,
}

impl Core {
    /// Queues a registration. Names are checked before the (slow) password
    /// hash, and again by the database's UNIQUE constraints at insert, which
    /// settle a race between two identical registrations.
    pub async fn register(&self, new: NewUser) -> Result<UserId, DomainError> {
        let email_lower = new.email.normalized();
        let username = new.username.as_str();
        if let Some(taken) = self.db.find_taken_name(&email_lower, username).await? {
            return Err(taken_error(taken));
        }
        let password_hash: PasswordHash = self.hasher.hash(&new.password).await?;
        let user_id = UserId::generate();
        let emails = emails::registration_received(
            &self.admin_recipients().await?,
            &Person {
                email: new.email.as_str(),
                username,
                full_name: new.full_name.as_str(),
            },
            new.phone.as_ref().map(Phone::as_str),
            &self.settings.public_url,
        )?;
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
                    registered_at: self.now(),
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
            taken => Err(taken_error(taken)),
        }
    }
}

fn taken_error(outcome: RegistrationOutcome) -> DomainError {
    match outcome {
        RegistrationOutcome::EmailTaken => DomainError::EmailTaken,
        RegistrationOutcome::UsernameTaken | RegistrationOutcome::Created => {
            DomainError::UsernameTaken
        }
    }
}
