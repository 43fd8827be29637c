//! People: registrations, the approval move, accounts and their auth keys.

use jiff::Timestamp;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::QueryAs;
use sqlx::{Any, FromRow};

use super::outbox::enqueue;
use super::{
    Database, Forget, StorageError, after_millis, from_millis, from_millis_opt, into_page,
    is_unique_violation, to_millis,
};
use crate::domain::accounts::{AccountCredentials, ApprovalOutcome, StatusChange, UserFilter};
use crate::domain::model::{
    AccountStatus, Cursor, OutgoingEmail, Page, PageRequest, PendingUser, User,
};
use crate::domain::password::PasswordHash;
use crate::domain::registration::{NewRegistration, RegistrationOutcome};
use crate::domain::secret::TokenHash;
use crate::domain::types::{AdminId, UserId};

#[derive(FromRow)]
pub(super) struct PendingRow {
    user_id: String,
    email: String,
    username: String,
    full_name: String,
    phone: Option<String>,
    status: String,
    registered_at: i64,
    rejection_reason: Option<String>,
}

impl TryFrom<PendingRow> for PendingUser {
    type Error = StorageError;
    fn try_from(r: PendingRow) -> Result<Self, StorageError> {
        let status = match r.status.as_str() {
            "pending" => AccountStatus::Pending,
            "rejected" => AccountStatus::Rejected,
            other => return Err(StorageError::Corrupt(format!("pending status {other:?}"))),
        };
        Ok(PendingUser {
            user_id: UserId::from_stored(r.user_id),
            email: r.email,
            username: r.username,
            full_name: r.full_name,
            phone: r.phone,
            status,
            registered_at: from_millis(r.registered_at)?,
            rejection_reason: r.rejection_reason,
        })
    }
}

#[derive(FromRow)]
struct UserRow {
    user_id: String,
    email: String,
    username: String,
    full_name: String,
    phone: Option<String>,
    is_active: i64,
    registered_at: i64,
    approved_at: i64,
    last_login: Option<i64>,
}

impl TryFrom<UserRow> for User {
    type Error = StorageError;
    fn try_from(r: UserRow) -> Result<Self, StorageError> {
        Ok(User {
            user_id: UserId::from_stored(r.user_id),
            email: r.email,
            username: r.username,
            full_name: r.full_name,
            phone: r.phone,
            is_active: r.is_active != 0,
            registered_at: from_millis(r.registered_at)?,
            approved_at: from_millis(r.approved_at)?,
            last_login: from_millis_opt(r.last_login)?,
        })
    }
}

/// What approval carries over from `pending_users` to `active_users`.
#[derive(FromRow)]
struct MovingRow {
    email: String,
    username: String,
    password_hash: String,
    full_name: String,
    phone: Option<String>,
    registered_at: i64,
}

pub(super) const PENDING_COLUMNS: &str =
    "user_id, email, username, full_name, phone, status, registered_at, rejection_reason";
const USER_COLUMNS: &str = "user_id, email, username, full_name, phone, is_active, \
     registered_at, approved_at, last_login";

impl Database {
    /// Which of the two names is already reserved, if any.
    pub async fn find_taken_name(
        &self,
        email_lower: &str,
        username_lower: &str,
    ) -> Result<Option<RegistrationOutcome>, StorageError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT email_lower, username_lower FROM account_names \
             WHERE email_lower = $1 OR username_lower = $2 LIMIT 1",
        )
        .bind(email_lower)
        .bind(username_lower)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(email, _)| {
            if email == email_lower {
                RegistrationOutcome::EmailTaken
            } else {
                RegistrationOutcome::UsernameTaken
            }
        }))
    }

    /// Reserves the names and queues the registration, in one transaction.
    pub async fn insert_registration(
        &self,
        reg: &NewRegistration<'_>,
        emails: &[OutgoingEmail],
    ) -> Result<RegistrationOutcome, StorageError> {
        let reserve = sqlx::query(
            "INSERT INTO account_names (user_id, email_lower, username_lower) VALUES ($1, $2, $3)",
        )
        .bind(reg.user_id.as_str().to_owned())
        .bind(reg.email_lower.to_owned())
        .bind(reg.username.to_owned());
        // The caps are checked again here, in the transaction: on SQLite
        // (one writer) this is exact; on PostgreSQL two registrations racing
        // past a nearly full queue may both land, which the caps tolerate.
        let insert = sqlx::query(
            "INSERT INTO pending_users (user_id, email, username, password_hash, full_name, phone, \
             status, registered_at, registered_from, admins_notified_at) \
             SELECT $1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9 \
             WHERE ($10 = 0 OR (SELECT COUNT(*) FROM pending_users WHERE status = 'pending') < $10) \
             AND ($11 = 0 OR (SELECT COUNT(*) FROM pending_users \
                  WHERE registered_from = $8 AND status = 'pending') < $11)",
        )
        .bind(reg.user_id.as_str().to_owned())
        .bind(reg.email.to_owned())
        .bind(reg.username.to_owned())
        .bind(reg.password_hash.as_str().to_owned())
        .bind(reg.full_name.to_owned())
        .bind(reg.phone.map(str::to_owned))
        .bind(to_millis(reg.registered_at))
        .bind(reg.registered_from.to_owned())
        .bind(reg.admins_notified_at.map(to_millis))
        .bind(i64::from(reg.caps.overall.unwrap_or(0)))
        .bind(i64::from(reg.caps.per_address.unwrap_or(0)));
        let (emails, now) = (emails.to_vec(), reg.registered_at);
        let created = self
            .write(|writer| async move {
                let mut tx = writer.begin().await?;
                if let Err(err) = reserve.execute(&mut *tx).await {
                    if is_unique_violation(&err) {
                        return Ok(Some(false));
                    }
                    return Err(err.into());
                }
                if insert.execute(&mut *tx).await?.rows_affected() != 1 {
                    // Rolled back with the names' reservation.
                    return Ok(None);
                }
                enqueue(&mut tx, &emails, now).await?;
                tx.commit().await?;
                Ok(Some(true))
            })
            .await?;
        match created {
            Some(true) => return Ok(RegistrationOutcome::Created),
            None => return Ok(RegistrationOutcome::QueueFull),
            Some(false) => {}
        }
        // The transaction is gone (rolled back) by now.
        let taken = self.find_taken_name(reg.email_lower, reg.username).await?;
        Ok(taken.unwrap_or(RegistrationOutcome::UsernameTaken))
    }

    /// The pending queue, oldest first.
    pub async fn list_pending(
        &self,
        page: &PageRequest,
    ) -> Result<Page<PendingUser>, StorageError> {
        let (after_key, after_id) = after_millis(page);
        let sql = format!(
            "SELECT {PENDING_COLUMNS} FROM pending_users WHERE status = 'pending' \
             AND (registered_at > $1 OR (registered_at = $1 AND user_id > $2)) \
             ORDER BY registered_at, user_id LIMIT $3"
        );
        let rows: Vec<PendingRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after_key)
            .bind(after_id)
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        into_page(rows, page, |u: &PendingUser| Cursor {
            key: u.registered_at.as_millisecond().to_string(),
            id: u.user_id.to_string(),
        })
    }

    /// Moves a pending registration to `active_users`, keeping its id, and
    /// stores the hash of its first auth key. One transaction; of concurrent
    /// approvals exactly one finds the row still pending.
    pub async fn approve_registration(
        &self,
        user_id: &UserId,
        auth_key_hash: &TokenHash,
        admin: &AdminId,
        now: Timestamp,
        emails: &[OutgoingEmail],
    ) -> Result<ApprovalOutcome<User>, StorageError> {
        // Write first: this DELETE takes the row (and on SQLite the write lock)
        // before anything is read.
        let take = sqlx::query_as::<_, MovingRow>(
            "DELETE FROM pending_users WHERE user_id = $1 AND status = 'pending' \
             RETURNING email, username, password_hash, full_name, phone, registered_at",
        )
        .bind(user_id.as_str().to_owned());
        let sql = format!(
            "INSERT INTO active_users (user_id, email, username, password_hash, full_name, phone, \
             auth_key_hash, auth_key_issued_at, is_active, registered_at, approved_at, approved_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $8, $10) RETURNING {USER_COLUMNS}"
        );
        let insert = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id.as_str().to_owned());
        let (auth_key_hash, admin) = (auth_key_hash.as_str().to_owned(), admin.as_str().to_owned());
        let emails = emails.to_vec();
        let row = self
            .write(|writer| async move {
                let mut tx = writer.begin().await?;
                let Some(moving) = take.fetch_optional(&mut *tx).await? else {
                    return Ok(None);
                };
                let row = insert
                    .bind(moving.email)
                    .bind(moving.username)
                    .bind(moving.password_hash)
                    .bind(moving.full_name)
                    .bind(moving.phone)
                    .bind(auth_key_hash)
                    .bind(to_millis(now))
                    .bind(moving.registered_at)
                    .bind(admin)
                    .fetch_one(&mut *tx)
                    .await?;
                enqueue(&mut tx, &emails, now).await?;
                tx.commit().await?;
                Ok(Some(row))
            })
            .await?;
        match row {
            Some(row) => Ok(ApprovalOutcome::Done(row.try_into()?)),
            None => self.why_not_pending(user_id).await,
        }
    }

    /// Marks a pending registration rejected; its names stay reserved.
    pub async fn reject_registration(
        &self,
        user_id: &UserId,
        reason: Option<&str>,
        admin: &AdminId,
        now: Timestamp,
        emails: &[OutgoingEmail],
    ) -> Result<ApprovalOutcome<PendingUser>, StorageError> {
        let sql = format!(
            "UPDATE pending_users SET status = 'rejected', rejected_at = $2, rejected_by = $3, \
             rejection_reason = $4 WHERE user_id = $1 AND status = 'pending' \
             RETURNING {PENDING_COLUMNS}"
        );
        let reject = sqlx::query_as::<_, PendingRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id.as_str().to_owned())
            .bind(to_millis(now))
            .bind(admin.as_str().to_owned())
            .bind(reason.map(str::to_owned));
        let row = self.write_with_emails(reject, emails, now).await?;
        match row {
            Some(row) => Ok(ApprovalOutcome::Done(row.try_into()?)),
            None => self.why_not_pending(user_id).await,
        }
    }

    /// A registration in the queue (pending or rejected), by id.
    pub async fn find_pending(
        &self,
        user_id: &UserId,
    ) -> Result<Option<PendingUser>, StorageError> {
        let sql = format!("SELECT {PENDING_COLUMNS} FROM pending_users WHERE user_id = $1");
        let row: Option<PendingRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user_id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(PendingUser::try_from).transpose()
    }

    async fn why_not_pending<T>(
        &self,
        user_id: &UserId,
    ) -> Result<ApprovalOutcome<T>, StorageError> {
        let known: Option<(String,)> =
            sqlx::query_as("SELECT user_id FROM account_names WHERE user_id = $1")
                .bind(user_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(match known {
            Some(_) => ApprovalOutcome::NotPending,
            None => ApprovalOutcome::NotFound,
        })
    }

    /// Finds whoever holds this username, wherever they stand, with the
    /// password hash sign-in needs.
    pub async fn find_credentials(
        &self,
        username_lower: &str,
    ) -> Result<Option<AccountCredentials>, StorageError> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT user_id, password_hash, is_active FROM active_users WHERE username = $1",
        )
        .bind(username_lower)
        .fetch_optional(&self.pool)
        .await?;
        if let Some((user_id, hash, is_active)) = row {
            return Ok(Some(AccountCredentials {
                user_id: UserId::from_stored(user_id),
                status: if is_active != 0 {
                    AccountStatus::Active
                } else {
                    AccountStatus::Inactive
                },
                password_hash: PasswordHash::from_stored(hash),
            }));
        }
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT user_id, password_hash, status FROM pending_users WHERE username = $1",
        )
        .bind(username_lower)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(user_id, hash, status)| AccountCredentials {
            user_id: UserId::from_stored(user_id),
            status: if status == "rejected" {
                AccountStatus::Rejected
            } else {
                AccountStatus::Pending
            },
            password_hash: PasswordHash::from_stored(hash),
        }))
    }

    /// Replaces the user's auth key (enrolling a new device); the old key
    /// stops working in the same statement.
    pub async fn replace_auth_key(
        &self,
        user_id: &UserId,
        auth_key_hash: &TokenHash,
        now: Timestamp,
        emails: &[OutgoingEmail],
    ) -> Result<Option<User>, StorageError> {
        let sql = format!(
            "UPDATE active_users SET auth_key_hash = $2, auth_key_issued_at = $3 \
             WHERE user_id = $1 AND is_active = 1 RETURNING {USER_COLUMNS}"
        );
        let replace = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id.as_str().to_owned())
            .bind(auth_key_hash.as_str().to_owned())
            .bind(to_millis(now));
        let row = self.write_with_emails(replace, emails, now).await?;
        row.map(User::try_from).transpose()
    }

    /// The user whose current auth key hashes to `hash`.
    pub async fn find_user_by_auth_key(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<User>, StorageError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM active_users WHERE auth_key_hash = $1");
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(hash.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(User::try_from).transpose()
    }

    pub async fn find_user(&self, user_id: &UserId) -> Result<Option<User>, StorageError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM active_users WHERE user_id = $1");
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user_id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(User::try_from).transpose()
    }

    /// Approved users by username, filtered by status and a search text.
    pub async fn list_users(
        &self,
        filter: &UserFilter<'_>,
        page: &PageRequest,
    ) -> Result<Page<User>, StorageError> {
        let (after_key, after_id) = match &page.after {
            Some(c) => (c.key.clone(), c.id.clone()),
            None => (String::new(), String::new()),
        };
        let active = match filter.status {
            Some(AccountStatus::Active) => Some(1_i64),
            Some(AccountStatus::Inactive) => Some(0),
            _ => None,
        };
        let pattern = filter.query.map(|q| format!("%{}%", escape_like(q)));
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM active_users \
             WHERE (username > $1 OR (username = $1 AND user_id > $2)) \
             AND ($3 IS NULL OR is_active = $3) \
             AND ($4 IS NULL OR lower(username) LIKE $4 ESCAPE '\\' \
                  OR lower(email) LIKE $4 ESCAPE '\\' OR lower(full_name) LIKE $4 ESCAPE '\\') \
             ORDER BY username, user_id LIMIT $5"
        );
        let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after_key)
            .bind(after_id)
            .bind(active)
            .bind(pattern)
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        into_page(rows, page, |u: &User| Cursor {
            key: u.username.clone(),
            id: u.user_id.to_string(),
        })
    }

    /// Deactivates a user and, in the same transaction, ends every live
    /// session of theirs for good.
    pub async fn deactivate_user(
        &self,
        user_id: &UserId,
        now: Timestamp,
    ) -> Result<StatusChange, StorageError> {
        let sql = format!(
            "UPDATE active_users SET is_active = 0, \
             deactivated_at = CASE WHEN is_active = 1 THEN $2 ELSE deactivated_at END \
             WHERE user_id = $1 RETURNING {USER_COLUMNS}"
        );
        let deactivate = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id.as_str().to_owned())
            .bind(to_millis(now));
        let row = self
            .write_ending_sessions(
                deactivate,
                "user_id",
                user_id.as_str(),
                "user_inactive",
                now,
            )
            .await?;
        Ok(match row {
            Some(row) => StatusChange::Changed(row.try_into()?),
            None => StatusChange::NotFound,
        })
    }

    /// Activates a user again; sessions ended by the deactivation stay ended.
    pub async fn activate_user(&self, user_id: &UserId) -> Result<StatusChange, StorageError> {
        let sql = format!(
            "UPDATE active_users SET is_active = 1, deactivated_at = NULL \
             WHERE user_id = $1 RETURNING {USER_COLUMNS}"
        );
        let activate = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id.as_str().to_owned());
        let row = self
            .write(|writer| async move { Ok(activate.fetch_optional(&writer).await?) })
            .await;
        self.forget_sessions(Forget::All);
        Ok(match row? {
            Some(row) => StatusChange::Changed(row.try_into()?),
            None => StatusChange::NotFound,
        })
    }

    /// Replaces a password hash made before normalisation with one of the
    /// NFKC form, wherever the person is (waiting or approved). Only if the
    /// stored hash is still `old`: a password changed meanwhile stays.
    pub async fn upgrade_password_hash(
        &self,
        user_id: &UserId,
        old: &PasswordHash,
        new: &PasswordHash,
    ) -> Result<bool, StorageError> {
        let statement = |table: &str| {
            let sql = format!(
                "UPDATE {table} SET password_hash = $3 WHERE user_id = $1 AND password_hash = $2"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(user_id.as_str().to_owned())
                .bind(old.as_str().to_owned())
                .bind(new.as_str().to_owned())
        };
        let (active, pending) = (statement("active_users"), statement("pending_users"));
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            let changed = active.execute(&mut *tx).await?.rows_affected()
                + pending.execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(changed > 0)
        })
        .await
    }

    /// Runs `update` on the lane and, if it returned a row, queues `emails`
    /// in the same transaction. `None`: no row matched, nothing was written.
    async fn write_with_emails<R>(
        &self,
        update: QueryAs<'static, Any, R, AnyArguments>,
        emails: &[OutgoingEmail],
        now: Timestamp,
    ) -> Result<Option<R>, StorageError>
    where
        R: for<'r> FromRow<'r, AnyRow> + Send + Unpin + 'static,
    {
        let emails = emails.to_vec();
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            let Some(row) = update.fetch_optional(&mut *tx).await? else {
                return Ok(None);
            };
            enqueue(&mut tx, &emails, now).await?;
            tx.commit().await?;
            Ok(Some(row))
        })
        .await
    }
}

/// Escapes LIKE's wildcards so a search for `50%` means the text.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
