//! Administrators and their bearer tokens.

use jiff::Timestamp;

use super::{Database, StorageError, is_unique_violation, to_millis};
use crate::domain::model::Admin;
use crate::domain::password::PasswordHash;
use crate::domain::secret::TokenHash;
use crate::domain::types::AdminId;

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

    pub async fn insert_admin_session(
        &self,
        token_hash: &TokenHash,
        admin_id: &AdminId,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StorageError> {
        // Sweep expired tokens while we are writing anyway.
        let sweep =
            sqlx::query("DELETE FROM admin_sessions WHERE expires_at <= $1").bind(to_millis(now));
        let insert = sqlx::query(
            "INSERT INTO admin_sessions (token_hash, admin_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash.as_str().to_owned())
        .bind(admin_id.as_str().to_owned())
        .bind(to_millis(now))
        .bind(to_millis(expires_at));
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            sweep.execute(&mut *tx).await?;
            insert.execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    pub async fn delete_admin_session(&self, token_hash: &TokenHash) -> Result<(), StorageError> {
        let delete = sqlx::query("DELETE FROM admin_sessions WHERE token_hash = $1")
            .bind(token_hash.as_str().to_owned());
        self.write(|writer| async move { Ok(delete.execute(&writer).await.map(|_| ())?) })
            .await
    }

    /// The admin behind a bearer token that is still valid at `now`.
    pub async fn find_admin_by_token(
        &self,
        token_hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<Admin>, StorageError> {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT a.admin_id, a.username, a.email FROM admin_sessions s \
             JOIN admins a ON a.admin_id = s.admin_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.is_active = 1",
        )
        .bind(token_hash.as_str())
        .bind(to_millis(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, username, email)| Admin {
            admin_id: AdminId::from_stored(id),
            username,
            email,
        }))
    }
}
