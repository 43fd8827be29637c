//! Password sign-in failure counts (see `domain::throttle`): read, moved on
//! by compare-and-set so that concurrent attempts on any instance each
//! count once, and cleared on success.

use super::{Database, StorageError, from_millis, to_millis};
use crate::domain::throttle::FailureCount;

impl Database {
    pub async fn sign_in_failures(&self, key: &str) -> Result<Option<FailureCount>, StorageError> {
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT failures, next_attempt_at, last_attempt_at FROM sign_in_failures \
             WHERE account_key = $1",
        )
        .bind(key.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(failures, next, last)| {
            Ok(FailureCount {
                failures: u32::try_from(failures).unwrap_or(u32::MAX),
                next_attempt_at: from_millis(next)?,
                last_attempt_at: from_millis(last)?,
            })
        })
        .transpose()
    }

    /// Stores `next` if the row is still `seen` (absent when `None`);
    /// `false` when another attempt moved it first.
    pub async fn advance_sign_in_failures(
        &self,
        key: &str,
        seen: Option<&FailureCount>,
        next: &FailureCount,
    ) -> Result<bool, StorageError> {
        let query = match seen {
            None => sqlx::query(
                "INSERT INTO sign_in_failures (account_key, failures, next_attempt_at, last_attempt_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (account_key) DO NOTHING",
            ),
            // The last attempt's moment is part of the compare: the count
            // alone could come back to the same value after a reset.
            Some(_) => sqlx::query(
                "UPDATE sign_in_failures SET failures = $2, next_attempt_at = $3, last_attempt_at = $4 \
                 WHERE account_key = $1 AND failures = $5 AND last_attempt_at = $6",
            ),
        }
        .bind(key.to_owned())
        .bind(i64::from(next.failures))
        .bind(to_millis(next.next_attempt_at))
        .bind(to_millis(next.last_attempt_at));
        let query = match seen {
            None => query,
            Some(seen) => query
                .bind(i64::from(seen.failures))
                .bind(to_millis(seen.last_attempt_at)),
        };
        self.write(|writer| async move { Ok(query.execute(&writer).await?.rows_affected() == 1) })
            .await
    }

    pub async fn clear_sign_in_failures(&self, key: &str) -> Result<(), StorageError> {
        let delete =
            sqlx::query("DELETE FROM sign_in_failures WHERE account_key = $1").bind(key.to_owned());
        self.write(|writer| async move { Ok(delete.execute(&writer).await.map(|_| ())?) })
            .await
    }
}

/// For the purge: counts whose last attempt is older than the moment they
/// are forgotten anyway.
pub(super) const STALE_COUNTS: &str = "DELETE FROM sign_in_failures WHERE account_key IN \
     (SELECT account_key FROM sign_in_failures WHERE last_attempt_at < $1 LIMIT $2)";
