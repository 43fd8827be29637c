//! Administrators and their bearer tokens.

use jiff::Timestamp;

use super::{Database, StorageError, from_millis, from_millis_opt, is_unique_violation, to_millis};
use crate::domain::admins::{AdminTokenRecord, NewAdminToken};
use crate::domain::model::{Admin, Cursor, Page, PageRequest};
use crate::domain::password::PasswordHash;
use crate::domain::secret::TokenHash;
use crate::domain::types::{AdminId, AdminTokenId};

impl Database {
    pub async fn count_admins(&self) -> Result<i64, StorageError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM admins")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Creates an admin; `Ok(None)` when the username is taken.
    pub async fn insert_admin(
        &self,
        username: &str,
        email: Option<&str>,
        password_hash: &PasswordHash,
        now: Timestamp,
    ) -> Result<Option<Admin>, StorageError> {
        let admin_id = AdminId::generate();
        let insert = sqlx::query(
            "INSERT INTO admins (admin_id, username, username_lower, email, password_hash, \
             is_active, created_at) VALUES ($1, $2, $3, $4, $5, 1, $6)",
        )
        .bind(admin_id.as_str().to_owned())
        .bind(username.to_owned())
        .bind(username.to_lowercase())
        .bind(email.map(str::to_owned))
        .bind(password_hash.as_str().to_owned())
        .bind(to_millis(now));
        let inserted = self
            .write(|writer| async move {
                match insert.execute(&writer).await {
                    Ok(_) => Ok(true),
                    Err(err) if is_unique_violation(&err) => Ok(false),
                    Err(err) => Err(err.into()),
                }
            })
            .await?;
        Ok(inserted.then(|| Admin {
            admin_id,
            username: username.to_owned(),
            email: email.map(str::to_owned),
        }))
    }

    /// Sets a new password for an existing admin (by username) and ends all
    /// of that admin's bearer tokens in the same transaction: whoever held a
    /// token issued under the old password loses it with the password.
    pub async fn set_admin_password(
        &self,
        username: &str,
        password_hash: &PasswordHash,
    ) -> Result<bool, StorageError> {
        let name = username.to_lowercase();
        let update = sqlx::query("UPDATE admins SET password_hash = $2 WHERE username_lower = $1")
            .bind(name.clone())
            .bind(password_hash.as_str().to_owned());
        let end_tokens = sqlx::query(
            "DELETE FROM admin_sessions WHERE admin_id IN \
             (SELECT admin_id FROM admins WHERE username_lower = $1)",
        )
        .bind(name);
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            let changed = update.execute(&mut *tx).await?.rows_affected() > 0;
            end_tokens.execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(changed)
        })
        .await
    }

    /// Replaces an admin's password hash made before normalisation with one
    /// of the NFKC form. Unlike a password change it ends no token (the
    /// password is the same), and only if the stored hash is still `old`.
    pub async fn upgrade_admin_password_hash(
        &self,
        admin_id: &AdminId,
        old: &PasswordHash,
        new: &PasswordHash,
    ) -> Result<bool, StorageError> {
        let update = sqlx::query(
            "UPDATE admins SET password_hash = $3 WHERE admin_id = $1 AND password_hash = $2",
        )
        .bind(admin_id.as_str().to_owned())
        .bind(old.as_str().to_owned())
        .bind(new.as_str().to_owned());
        self.write(|writer| async move { Ok(update.execute(&writer).await?.rows_affected() > 0) })
            .await
    }

    pub async fn find_admin_credentials(
        &self,
        username: &str,
    ) -> Result<Option<(Admin, PasswordHash)>, StorageError> {
        let row: Option<(String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT admin_id, username, email, password_hash FROM admins \
             WHERE username_lower = $1 AND is_active = 1",
        )
        .bind(username.to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, username, email, hash)| {
            (
                Admin {
                    admin_id: AdminId::from_stored(id),
                    username,
                    email,
                },
                PasswordHash::from_stored(hash),
            )
        }))
    }

    /// Emails of every active admin that has one.
    pub async fn admin_emails(&self) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT email FROM admins WHERE is_active = 1 AND email IS NOT NULL ORDER BY username_lower",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(e,)| e).collect())
    }

    /// Stores a new bearer token and, with a cap (`keep`), ends the admin's
    /// oldest tokens beyond it, all in one transaction.
    ///
    /// The transaction starts by writing the admin's own row (a no-op
    /// update). On PostgreSQL that row lock makes two sign-ins of one admin
    /// on two instances take turns: the second waits for the first to commit
    /// and its trimming statement then sees the first's token, so the count
    /// never stays above the cap (under READ COMMITTED each statement reads
    /// what has committed before it). SQLite has one writer anyway.
    pub async fn insert_admin_session(
        &self,
        new: &NewAdminToken<'_>,
        keep: Option<u32>,
    ) -> Result<(), StorageError> {
        let admin_id = new.admin_id.as_str().to_owned();
        let hash = new.token_hash.as_str().to_owned();
        let lock = sqlx::query("UPDATE admins SET is_active = is_active WHERE admin_id = $1")
            .bind(admin_id.clone());
        // Sweep expired tokens while we are writing anyway.
        let sweep = sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1")
            .bind(to_millis(new.created_at));
        let insert = sqlx::query(
            "INSERT INTO admin_sessions (token_hash, admin_id, created_at, expires_at, \
             token_id, created_from, created_agent, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $3)",
        )
        .bind(hash.clone())
        .bind(admin_id.clone())
        .bind(to_millis(new.created_at))
        .bind(to_millis(new.expires_at))
        .bind(new.token_id.as_str().to_owned())
        .bind(new.client.ip.clone())
        .bind(new.client.user_agent.clone());
        // The new token always stays (it is the one being handed out, even
        // when another has the same millisecond); of the others, the newest
        // `keep - 1` do.
        let trim = keep.map(|keep| {
            sqlx::query(
                "DELETE FROM admin_sessions WHERE admin_id = $1 AND token_hash <> $2 \
                 AND token_hash NOT IN (SELECT token_hash FROM admin_sessions \
                 WHERE admin_id = $1 AND token_hash <> $2 \
                 ORDER BY created_at DESC, token_hash DESC LIMIT $3)",
            )
            .bind(admin_id)
            .bind(hash)
            .bind(i64::from(keep.max(1)) - 1)
        });
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            lock.execute(&mut *tx).await?;
            sweep.execute(&mut *tx).await?;
            insert.execute(&mut *tx).await?;
            if let Some(trim) = trim {
                trim.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Records that a token was used at `now`, unless that was already
    /// recorded since `unless_since` (another request, or another instance,
    /// got there first).
    pub async fn touch_admin_session(
        &self,
        token_hash: &TokenHash,
        now: Timestamp,
        unless_since: Timestamp,
    ) -> Result<(), StorageError> {
        let touch = sqlx::query(
            "UPDATE admin_sessions SET last_used_at = $2 WHERE token_hash = $1 \
             AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(token_hash.as_str().to_owned())
        .bind(to_millis(now))
        .bind(to_millis(unless_since));
        self.write(|writer| async move { Ok(touch.execute(&writer).await.map(|_| ())?) })
            .await
    }

    /// A page of the admin's tokens still valid at `now`, newest first;
    /// `current` marks the one whose hash is `presented`.
    pub async fn admin_sessions(
        &self,
        admin_id: &AdminId,
        presented: &TokenHash,
        now: Timestamp,
        page: &PageRequest,
    ) -> Result<Page<AdminTokenRecord>, StorageError> {
        type Row = (
            String,
            String,
            i64,
            Option<String>,
            Option<String>,
            Option<i64>,
            i64,
        );
        // Newest first, so the page starts before the cursor.
        let (before_key, before_id) = match &page.after {
            Some(c) => (c.key.parse::<i64>().unwrap_or(i64::MAX), c.id.clone()),
            None => (i64::MAX, String::new()),
        };
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT token_hash, token_id, created_at, created_from, created_agent, \
             last_used_at, expires_at FROM admin_sessions \
             WHERE admin_id = $1 AND expires_at > $2 \
             AND (created_at < $3 OR (created_at = $3 AND token_id < $4)) \
             ORDER BY created_at DESC, token_id DESC LIMIT $5",
        )
        .bind(admin_id.as_str())
        .bind(to_millis(now))
        .bind(before_key)
        .bind(before_id)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let records = rows
            .into_iter()
            .map(|(hash, id, created, from, agent, used, expires)| {
                Ok(AdminTokenRecord {
                    // Compared here so that the hash never leaves storage.
                    current: hash == presented.as_str(),
                    token_id: AdminTokenId::from_stored(id),
                    created_at: from_millis(created)?,
                    created_from: from,
                    created_agent: agent,
                    last_used_at: from_millis_opt(used)?,
                    expires_at: from_millis(expires)?,
                })
            })
            .collect::<Result<Vec<_>, StorageError>>()?;
        Ok(page.page(records, |t| Cursor {
            key: t.created_at.as_millisecond().to_string(),
            id: t.token_id.to_string(),
        }))
    }

    /// Ends one of the admin's tokens still valid at `now` by its id;
    /// `false` when the admin has no such token (never another admin's).
    pub async fn delete_admin_session_by_id(
        &self,
        admin_id: &AdminId,
        token_id: &AdminTokenId,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let delete = sqlx::query(
            "DELETE FROM admin_sessions WHERE admin_id = $1 AND token_id = $2 AND expires_at > $3",
        )
        .bind(admin_id.as_str().to_owned())
        .bind(token_id.as_str().to_owned())
        .bind(to_millis(now));
        self.write(|writer| async move { Ok(delete.execute(&writer).await?.rows_affected() > 0) })
            .await
    }

    /// Ends every token of the admin but `keep`; returns how many ended.
    pub async fn delete_other_admin_sessions(
        &self,
        admin_id: &AdminId,
        keep: &TokenHash,
    ) -> Result<u64, StorageError> {
        let delete =
            sqlx::query("DELETE FROM admin_sessions WHERE admin_id = $1 AND token_hash <> $2")
                .bind(admin_id.as_str().to_owned())
                .bind(keep.as_str().to_owned());
        self.write(|writer| async move { Ok(delete.execute(&writer).await?.rows_affected()) })
            .await
    }

    pub async fn delete_admin_session(&self, token_hash: &TokenHash) -> Result<(), StorageError> {
        let delete = sqlx::query("DELETE FROM admin_sessions WHERE token_hash = $1")
            .bind(token_hash.as_str().to_owned());
        self.write(|writer| async move { Ok(delete.execute(&writer).await.map(|_| ())?) })
            .await
    }

    /// The admin behind a bearer token that is still valid at `now`, and
    /// when the token was last recorded as used.
    pub async fn find_admin_by_token(
        &self,
        token_hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<(Admin, Option<Timestamp>)>, StorageError> {
        let row: Option<(String, String, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT a.admin_id, a.username, a.email, s.last_used_at FROM admin_sessions s \
             JOIN admins a ON a.admin_id = s.admin_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.is_active = 1",
        )
        .bind(token_hash.as_str())
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(id, username, email, used)| {
            let admin = Admin {
                admin_id: AdminId::from_stored(id),
                username,
                email,
            };
            Ok((admin, from_millis_opt(used)?))
        })
        .transpose()
    }
}
