//! The keys that sign session tokens. Kept in the database so every instance
//! signs with the same key and a restart never invalidates tokens.

use jiff::Timestamp;

use super::{Database, StorageError, to_millis};
use crate::domain::signing::StoredSigningKey;

impl Database {
    /// Stores `candidate` as the current key unless one exists already, and
    /// returns whichever is current. Two instances starting at once agree: the
    /// UNIQUE `slot` lets only one insert win.
    pub async fn current_signing_key_or_insert(
        &self,
        candidate: &StoredSigningKey,
        now: Timestamp,
    ) -> Result<StoredSigningKey, StorageError> {
        let insert = sqlx::query(
            "INSERT INTO signing_keys (kid, slot, algorithm, private_key, public_key, created_at) \
             VALUES ($1, 'current', $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(candidate.kid.clone())
        .bind(candidate.algorithm.clone())
        .bind(candidate.private_key.clone())
        .bind(candidate.public_key.clone())
        .bind(to_millis(now));
        self.write(|writer| async move { Ok(insert.execute(&writer).await.map(|_| ())?) })
            .await?;
        let (kid, algorithm, private_key, public_key): (String, String, String, String) =
            sqlx::query_as(
                "SELECT kid, algorithm, private_key, public_key FROM signing_keys WHERE slot = 'current'",
            )
            .fetch_one(&self.pool)
            .await?;
        Ok(StoredSigningKey {
            kid,
            algorithm,
            private_key,
            public_key,
        })
    }

    /// Every key whose tokens may still be presented (current and retired),
    /// for the JWKS document.
    pub async fn all_signing_keys(&self) -> Result<Vec<StoredSigningKey>, StorageError> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT kid, algorithm, private_key, public_key FROM signing_keys ORDER BY created_at DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(kid, algorithm, private_key, public_key)| StoredSigningKey {
                    kid,
                    algorithm,
                    private_key,
                    public_key,
                },
            )
            .collect())
    }
}
