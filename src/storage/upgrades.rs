//! Upgrades of stored data that need the domain's rules (SQL alone cannot
//! compute them): each runs once, after the migrations, and is recorded by
//! name in `data_upgrades`. Each is idempotent, so two instances starting
//! together may both run one.

use crate::domain::types::Email;

use super::{Database, StorageError, is_unique_violation};

/// Email reservation keys compare the domain in its A-label form since
/// issue 13; keys stored before with a Unicode domain are rewritten.
const EMAIL_KEYS_A_LABEL: &str = "email_keys_a_label";

impl Database {
    pub(super) async fn run_data_upgrades(&self) -> Result<(), StorageError> {
        let done: Option<(String,)> =
            sqlx::query_as("SELECT name FROM data_upgrades WHERE name = $1")
                .bind(EMAIL_KEYS_A_LABEL)
                .fetch_optional(&self.pool)
                .await?;
        if done.is_some() {
            return Ok(());
        }
        let rekeyed = self.rekey_unicode_email_domains().await?;
        self.write(|writer| async move {
            sqlx::query(
                "INSERT INTO data_upgrades (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
            )
            .bind(EMAIL_KEYS_A_LABEL)
            .execute(&writer)
            .await?;
            Ok(())
        })
        .await?;
        tracing::info!(rekeyed, "email keys now compare domains in A-label form");
        Ok(())
    }

    /// Rewrites each non-ASCII email key to what `Email::normalized` gives
    /// now (ASCII keys are already in that form). A key that no longer
    /// parses stays as it is: it still reserves its address as stored. Two
    /// accounts that turn out to share one address keep their keys, and
    /// the log names the one left behind.
    async fn rekey_unicode_email_domains(&self) -> Result<u64, StorageError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT user_id, email_lower FROM account_names")
                .fetch_all(&self.pool)
                .await?;
        let mut rekeyed = 0;
        for (user_id, key) in rows.into_iter().filter(|(_, key)| !key.is_ascii()) {
            let Ok(email) = Email::parse(&key) else {
                continue;
            };
            let new_key = email.normalized();
            let changed = self
                .write(|writer| async move {
                    let update =
                        sqlx::query("UPDATE account_names SET email_lower = $1 WHERE user_id = $2")
                            .bind(new_key)
                            .bind(user_id.clone())
                            .execute(&writer)
                            .await;
                    match update {
                        Ok(done) => Ok(done.rows_affected()),
                        Err(err) if is_unique_violation(&err) => {
                            tracing::warn!(
                                user_id = %user_id,
                                "this account's email is another account's address once its \
                                 domain is compared in A-label form; its key is left as it was"
                            );
                            Ok(0)
                        }
                        Err(err) => Err(err.into()),
                    }
                })
                .await?;
            rekeyed += changed;
        }
        Ok(rekeyed)
    }
}
