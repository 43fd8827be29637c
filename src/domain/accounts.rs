//! Accounts after registration: the admin's approval queue, activation and
//! deactivation, and enrolling the authenticator app (`mobile/login`).

use crate::clock::rfc3339;
use crate::domain::emails::{self, Person};
use crate::domain::model::{
    AccountStatus, Admin, ClientInfo, Page, PageRequest, PendingUser, User,
};
use crate::domain::password::{Lane, PasswordHash, Verified};
use crate::domain::secret::{AuthKey, Password};
use crate::domain::throttle::SignIn;
use crate::domain::types::{RejectionReason, UserId, Username};
use crate::domain::{Core, DomainError};

/// What the authenticator app receives when a device is enrolled.
#[derive(Debug)]
pub struct Enrolment {
    pub user: User,
    pub auth_key: AuthKey,
}

/// What an approval or rejection came to: of concurrent decisions on one
/// registration, exactly one finds it still pending.
#[derive(Debug)]
pub enum ApprovalOutcome<T> {
    Done(T),
    NotFound,
    NotPending,
}

/// The result of activating or deactivating a user.
#[derive(Debug)]
pub enum StatusChange {
    Changed(User),
    NotFound,
}

/// Where a person stands, with what sign-in needs.
pub struct AccountCredentials {
    pub user_id: UserId,
    pub status: AccountStatus,
    pub password_hash: PasswordHash,
}

/// Filters of the admin's user list.
pub struct UserFilter<'a> {
    pub status: Option<AccountStatus>,
    /// Lower-cased search text, matched inside username, email and full name.
    pub query: Option<&'a str>,
}

fn person(p: &PendingUser) -> Person<'_> {
    Person {
        email: &p.email,
        username: &p.username,
        full_name: &p.full_name,
    }
}

fn settle<T>(outcome: ApprovalOutcome<T>) -> Result<T, DomainError> {
    match outcome {
        ApprovalOutcome::Done(v) => Ok(v),
        ApprovalOutcome::NotFound => Err(DomainError::UserNotFound),
        ApprovalOutcome::NotPending => Err(DomainError::NotPending),
    }
}

fn changed(outcome: StatusChange) -> Result<User, DomainError> {
    match outcome {
        StatusChange::Changed(user) => Ok(user),
        StatusChange::NotFound => Err(DomainError::UserNotFound),
    }
}

impl Core {
    pub async fn pending_registrations(
        &self,
        page: &PageRequest,
    ) -> Result<Page<PendingUser>, DomainError> {
        Ok(self.db.list_pending(page).await?)
    }

    /// Approves a registration: the user moves to the active users with the
    /// same id and a first auth key (kept only as a hash; the app gets a
    /// usable one from `mobile/login`).
    pub async fn approve(&self, user_id: &UserId, admin: &Admin) -> Result<User, DomainError> {
        let auth_key = AuthKey::generate().map_err(DomainError::internal)?;
        let emails = match self.still_pending(user_id).await? {
            Some(p) => vec![emails::approved(&person(&p), &self.settings.public_url)?],
            None => Vec::new(),
        };
        let outcome = self
            .db
            .approve_registration(
                user_id,
                &auth_key.hash(),
                &admin.admin_id,
                self.now(),
                &emails,
            )
            .await?;
        let user = settle(outcome)?;
        self.outbox_wake.notify_one();
        tracing::info!(user_id = %user.user_id, admin = %admin.username, "registration approved");
        Ok(user)
    }

    pub async fn reject(
        &self,
        user_id: &UserId,
        reason: Option<RejectionReason>,
        admin: &Admin,
    ) -> Result<PendingUser, DomainError> {
        let reason = reason.as_ref().map(RejectionReason::as_str);
        let emails = match self.still_pending(user_id).await? {
            Some(p) => vec![emails::rejected(&person(&p), reason)?],
            None => Vec::new(),
        };
        let outcome = self
            .db
            .reject_registration(user_id, reason, &admin.admin_id, self.now(), &emails)
            .await?;
        let user = settle(outcome)?;
        self.outbox_wake.notify_one();
        tracing::info!(user_id = %user.user_id, admin = %admin.username, "registration rejected");
        Ok(user)
    }

    /// The registration if it is still waiting: whom the decision's email
    /// goes to. (Storage settles races; this only composes the message.)
    async fn still_pending(&self, user_id: &UserId) -> Result<Option<PendingUser>, DomainError> {
        Ok(self
            .db
            .find_pending(user_id)
            .await?
            .filter(|p| p.status == AccountStatus::Pending))
    }

    /// An approved user, active or not.
    pub async fn user(&self, user_id: &UserId) -> Result<User, DomainError> {
        self.db
            .find_user(user_id)
            .await?
            .ok_or(DomainError::UserNotFound)
    }

    pub async fn users(
        &self,
        status: Option<AccountStatus>,
        query: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<User>, DomainError> {
        let query = query
            .map(|q| q.trim().to_lowercase())
            .filter(|q| !q.is_empty());
        let filter = UserFilter {
            status,
            query: query.as_deref(),
        };
        Ok(self.db.list_users(&filter, page).await?)
    }

    /// Deactivates a user; their live sessions end in the same transaction.
    pub async fn deactivate_user(
        &self,
        user_id: &UserId,
        admin: &Admin,
    ) -> Result<User, DomainError> {
        let user = changed(self.db.deactivate_user(user_id, self.now()).await?)?;
        tracing::info!(user_id = %user.user_id, admin = %admin.username, "user deactivated");
        Ok(user)
    }

    pub async fn activate_user(
        &self,
        user_id: &UserId,
        admin: &Admin,
    ) -> Result<User, DomainError> {
        let user = changed(self.db.activate_user(user_id).await?)?;
        tracing::info!(user_id = %user.user_id, admin = %admin.username, "user activated");
        Ok(user)
    }

    /// Signs a person in on their phone and issues a fresh auth key; the
    /// previous one stops working. Unknown user and wrong password get the
    /// same answer after the same work; an account's state is revealed only
    /// to someone who knows its password.
    pub async fn enrol_device(
        &self,
        username: &str,
        password: Option<Password>,
        device: &ClientInfo,
    ) -> Result<Enrolment, DomainError> {
        let reservation = self
            .reserve_sign_in(SignIn::Mobile, username, device)
            .await?;
        let account = match Username::parse(username) {
            Ok(name) => self.db.find_credentials(name.as_str()).await?,
            Err(_) => None,
        };
        let verified = match &password {
            Some(password) => {
                self.hasher
                    .verify(
                        Lane::People,
                        password,
                        account.as_ref().map(|a| &a.password_hash),
                    )
                    .await?
            }
            None => Verified::No,
        };
        let account = match account {
            Some(account) if verified.matched() => account,
            other => {
                let user = other.as_ref().map(|a| &a.user_id);
                self.sign_in_settled(reservation, user, false).await;
                return Err(DomainError::InvalidCredentials);
            }
        };
        self.sign_in_settled(reservation, Some(&account.user_id), true)
            .await;
        if let (Verified::AsTyped, Some(password)) = (verified, &password) {
            self.upgrade_password_hash(&account, password).await;
        }
        match account.status {
            AccountStatus::Pending => return Err(DomainError::UserPending),
            AccountStatus::Rejected => return Err(DomainError::UserRejected),
            AccountStatus::Inactive => return Err(DomainError::UserInactive),
            AccountStatus::Active => {}
        }
        let auth_key = AuthKey::generate().map_err(DomainError::internal)?;
        let now = self.now();
        let user = self
            .db
            .find_user(&account.user_id)
            .await?
            .ok_or(DomainError::UserInactive)?;
        let notice = emails::new_device(
            &Person {
                email: &user.email,
                username: &user.username,
                full_name: &user.full_name,
            },
            &rfc3339(now),
            device.ip.as_deref(),
            device.user_agent.as_deref(),
        )?;
        let user = self
            .db
            .replace_auth_key(&account.user_id, &auth_key.hash(), now, &[notice])
            .await?
            // Deactivated between the lookup and now.
            .ok_or(DomainError::UserInactive)?;
        self.outbox_wake.notify_one();
        tracing::info!(user_id = %user.user_id, "authenticator enrolled on a new device");
        Ok(Enrolment { user, auth_key })
    }

    /// A hash from before normalisation matched the password as typed:
    /// store one of its NFKC form, so the next sign-in in any Unicode form
    /// matches at once. Best effort: the sign-in stands if this fails, and
    /// the next one tries again.
    async fn upgrade_password_hash(&self, account: &AccountCredentials, password: &Password) {
        let upgraded = async {
            let new = self.hasher.hash(Lane::People, password).await?;
            self.db
                .upgrade_password_hash(&account.user_id, &account.password_hash, &new)
                .await?;
            Ok::<_, DomainError>(())
        };
        match upgraded.await {
            Ok(()) => {
                tracing::info!(user_id = %account.user_id, "password hash moved to the NFKC form")
            }
            Err(e) => {
                tracing::warn!(user_id = %account.user_id, error = %e, "password hash upgrade failed")
            }
        }
    }
}
