//! Administrators: sign-in with bearer tokens, and creating accounts from the
//! command line or on first start.

use jiff::{SignedDuration, Timestamp};

use crate::domain::model::{Admin, ClientInfo, Page, PageRequest};
use crate::domain::password::{Lane, PasswordHash, Verified};
use crate::domain::password_rules::{NewPassword, Owner};
use crate::domain::secret::{AdminToken, Password, TokenHash};
use crate::domain::throttle::SignIn;
use crate::domain::types::{AdminId, AdminTokenId, Username};
use crate::domain::{Core, DomainError};

/// How stale a token's "last used" may get. Recording every use would make
/// each admin request (every console page, every API call) a database
/// write, and on SQLite all writes queue for one writer; once a minute is
/// precise enough to tell a token in use from a forgotten one.
pub const LAST_USED_STEP: SignedDuration = SignedDuration::from_secs(60);

/// A bearer token handed to an admin at sign-in.
#[derive(Debug)]
pub struct AdminSession {
    pub token: AdminToken,
    pub expires_at: Timestamp,
    pub expires_in: i64,
}

/// A token about to be stored at sign-in.
pub struct NewAdminToken<'a> {
    pub token_hash: TokenHash,
    pub token_id: AdminTokenId,
    pub admin_id: &'a AdminId,
    /// The caller's address and browser at sign-in.
    pub client: &'a ClientInfo,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// One of an admin's live bearer tokens, as the console lists it (never
/// the secret or its hash).
#[derive(Debug, Clone)]
pub struct AdminTokenRecord {
    pub token_id: AdminTokenId,
    pub created_at: Timestamp,
    /// The address it was issued to.
    pub created_from: Option<String>,
    /// The browser (user agent) it was issued to.
    pub created_agent: Option<String>,
    /// Recorded at most once per `LAST_USED_STEP`.
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Timestamp,
    /// Whether it is the token the request presented.
    pub current: bool,
}

/// The name of the admin made on first start.
const FIRST_ADMIN: &str = "admin";

/// What `ensure_first_admin` did.
#[derive(Debug)]
pub enum FirstAdmin {
    AlreadyThere,
    Created {
        username: String,
        generated_password: Option<Password>,
    },
}

impl Core {
    /// Checks an admin's password and issues a bearer token. An unknown admin
    /// costs the same work as a wrong password, and gets the same answer;
    /// both wait out the name's failure delay first (see `throttle`).
    pub async fn admin_login(
        &self,
        username: &str,
        password: Option<Password>,
        client: &ClientInfo,
    ) -> Result<AdminSession, DomainError> {
        let reservation = self
            .reserve_sign_in(SignIn::Admin, username, client)
            .await?;
        let found = match Username::parse(username) {
            Ok(name) => self.db.find_admin_credentials(name.as_str()).await?,
            Err(_) => None,
        };
        let verified = match &password {
            Some(password) => {
                self.hasher
                    .verify(Lane::Admins, password, found.as_ref().map(|(_, hash)| hash))
                    .await?
            }
            None => Verified::No,
        };
        let (admin, stored) = match found {
            Some(found) if verified.matched() => found,
            _ => {
                self.sign_in_settled(reservation, None, false).await;
                return Err(DomainError::InvalidCredentials);
            }
        };
        self.sign_in_settled(reservation, None, true).await;
        if let (Verified::AsTyped, Some(password)) = (verified, &password) {
            self.upgrade_admin_password_hash(&admin, &stored, password)
                .await;
        }
        let token = AdminToken::generate().map_err(DomainError::internal)?;
        let now = self.now();
        let ttl = self.settings.admin_token_ttl;
        let expires_at = now.checked_add(ttl).map_err(DomainError::internal)?;
        let new = NewAdminToken {
            token_hash: token.hash(),
            token_id: AdminTokenId::generate(),
            admin_id: &admin.admin_id,
            client,
            created_at: now,
            expires_at,
        };
        // Signing in past the cap ends the oldest tokens (`ADMIN_TOKENS_MAX`).
        self.db
            .insert_admin_session(&new, self.settings.admin_tokens_max)
            .await?;
        tracing::info!(admin = %admin.username, "admin signed in");
        Ok(AdminSession {
            token,
            expires_at,
            expires_in: ttl.as_secs(),
        })
    }

    /// Ends an admin session (API logout, console sign-out); the token stops
    /// working at once.
    pub async fn admin_logout(&self, token: &AdminToken) -> Result<(), DomainError> {
        self.db.delete_admin_session(&token.hash()).await?;
        Ok(())
    }

    /// The admin behind a bearer token, or `Unauthorized`. Records the use
    /// when the last one recorded is older than `LAST_USED_STEP`.
    pub async fn authenticate_admin(&self, token: &AdminToken) -> Result<Admin, DomainError> {
        let hash = token.hash();
        let now = self.now();
        let (admin, last_used) = self
            .db
            .find_admin_by_token(&hash, now)
            .await?
            .ok_or(DomainError::Unauthorized)?;
        let stale_before = now.checked_sub(LAST_USED_STEP).unwrap_or(now);
        if last_used.is_none_or(|used| used < stale_before) {
            self.db
                .touch_admin_session(&hash, now, stale_before)
                .await?;
        }
        Ok(admin)
    }

    /// A page of the admin's live tokens, newest first, with the presented
    /// one marked.
    pub async fn admin_tokens(
        &self,
        admin: &Admin,
        presented: &AdminToken,
        page: &PageRequest,
    ) -> Result<Page<AdminTokenRecord>, DomainError> {
        Ok(self
            .db
            .admin_sessions(&admin.admin_id, &presented.hash(), self.now(), page)
            .await?)
    }

    /// Ends one of the admin's own tokens at once; `false` when the admin
    /// has no token by that id (it ended already, or is another admin's).
    pub async fn revoke_admin_token(
        &self,
        admin: &Admin,
        token_id: &AdminTokenId,
    ) -> Result<bool, DomainError> {
        let ended = self
            .db
            .delete_admin_session_by_id(&admin.admin_id, token_id, self.now())
            .await?;
        if ended {
            tracing::info!(admin = %admin.username, token_id = %token_id, "admin token revoked");
        }
        Ok(ended)
    }

    /// "Sign out everywhere else": ends every token of the admin but the
    /// presented one; returns how many ended.
    pub async fn end_other_admin_tokens(
        &self,
        admin: &Admin,
        presented: &AdminToken,
    ) -> Result<u64, DomainError> {
        let ended = self
            .db
            .delete_other_admin_sessions(&admin.admin_id, &presented.hash())
            .await?;
        tracing::info!(admin = %admin.username, ended, "admin signed out everywhere else");
        Ok(ended)
    }

    /// Creates an admin, or sets a new password when the name exists already.
    /// Returns whether an account was created.
    pub async fn create_or_reset_admin(
        &self,
        username: &Username,
        email: Option<&str>,
        password: &NewPassword,
    ) -> Result<bool, DomainError> {
        let hash = self.hasher.hash(Lane::Admins, password.password()).await?;
        let created = self
            .db
            .insert_admin(username.as_str(), email, &hash, self.now())
            .await?;
        if created.is_some() {
            return Ok(true);
        }
        self.db.set_admin_password(username.as_str(), &hash).await?;
        Ok(false)
    }

    /// On first start there is no admin: create `admin` with the given
    /// password, or a random one that the caller prints once. The given one
    /// (`ADMIN_PASSWORD`) is held to the rules for a new password only here,
    /// when it is about to be set: a server whose first admin exists starts
    /// whatever the setting still says.
    pub async fn ensure_first_admin(
        &self,
        password: Option<Password>,
        email: Option<&str>,
    ) -> Result<FirstAdmin, DomainError> {
        if self.db.count_admins().await? > 0 {
            return Ok(FirstAdmin::AlreadyThere);
        }
        let (password, generated) = match password {
            Some(p) => {
                let owner = Owner {
                    username: Some(FIRST_ADMIN),
                    email,
                };
                let checked = NewPassword::check("ADMIN_PASSWORD", p, owner)
                    .map_err(|e| DomainError::Validation(vec![e]))?;
                (checked, false)
            }
            None => (
                NewPassword::generate().map_err(DomainError::internal)?,
                true,
            ),
        };
        let hash = self.hasher.hash(Lane::Admins, password.password()).await?;
        let created = self
            .db
            .insert_admin(FIRST_ADMIN, email, &hash, self.now())
            .await?;
        Ok(match created {
            // Another instance created it first.
            None => FirstAdmin::AlreadyThere,
            Some(admin) => FirstAdmin::Created {
                username: admin.username,
                generated_password: generated.then(|| password.into_password()),
            },
        })
    }

    /// As for people (`upgrade_password_hash`): a hash of the password as
    /// typed is replaced by one of its NFKC form; no token ends.
    async fn upgrade_admin_password_hash(
        &self,
        admin: &Admin,
        stored: &PasswordHash,
        password: &Password,
    ) {
        let upgraded = async {
            let new = self.hasher.hash(Lane::Admins, password).await?;
            self.db
                .upgrade_admin_password_hash(&admin.admin_id, stored, &new)
                .await?;
            Ok::<_, DomainError>(())
        };
        match upgraded.await {
            Ok(()) => {
                tracing::info!(admin = %admin.username, "password hash moved to the NFKC form")
            }
            Err(e) => {
                tracing::warn!(admin = %admin.username, error = %e, "password hash upgrade failed")
            }
        }
    }
}
