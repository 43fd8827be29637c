//! The keys that sign session tokens. Kept in the database so every instance
//! signs with the same key and a restart never invalidates tokens. The
//! private half is stored as the domain hands it over (sealed when a key
//! encryption key is set); storage never sees it in clear unless it was
//! given so.

use jiff::Timestamp;

use super::{Database, StorageError, from_millis_opt, to_millis};
use crate::domain::signing::StoredSigningKey;

type KeyRow = (String, String, String, String, Option<i64>);

const COLUMNS: &str = "kid, algorithm, private_key, public_key, retired_at";

fn key_of(
    (kid, algorithm, private_key, public_key, retired_at): KeyRow,
) -> Result<StoredSigningKey, StorageError> {
    Ok(StoredSigningKey {
        kid,
        algorithm,
        private_key,
        public_key,
        retired_at: from_millis_opt(retired_at)?,
    })
}

impl Database {
    /// Stores `candidate` as the current key unless one exists already, and
    /// returns whichever is current. Two instances starting at once agree: the
    /// UNIQUE `slot` lets only one insert win.
    pub async fn current_signing_key_or_insert(
        &self,
        candidate: &StoredSigningKey,
        now: Timestamp,
    ) -> Result<StoredSigningKey, StorageError> {
        let insert = insert_current(candidate, now);
        self.write(|writer| async move { Ok(insert.execute(&writer).await.map(|_| ())?) })
            .await?;
        let row: KeyRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM signing_keys WHERE slot = 'current'"
        )))
        .fetch_one(&self.pool)
        .await?;
        key_of(row)
    }

    /// Every key still stored, current first, then the retired ones from the
    /// most recent: the domain decides which are still published.
    pub async fn all_signing_keys(&self) -> Result<Vec<StoredSigningKey>, StorageError> {
        let rows: Vec<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM signing_keys \
             ORDER BY CASE WHEN slot = 'current' THEN 0 ELSE 1 END, created_at DESC"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(key_of).collect()
    }

    /// Replaces a key's stored private half, only if it is still `old` (an
    /// instance that sealed it first wins; the other's write is a no-op).
    pub async fn replace_signing_private_key(
        &self,
        kid: &str,
        old: &str,
        new: &str,
    ) -> Result<bool, StorageError> {
        let update = sqlx::query(
            "UPDATE signing_keys SET private_key = $3 WHERE kid = $1 AND private_key = $2",
        )
        .bind(kid.to_owned())
        .bind(old.to_owned())
        .bind(new.to_owned());
        self.write(|writer| async move { Ok(update.execute(&writer).await?.rows_affected() > 0) })
            .await
    }

    /// Retires the current key (its private half erased: it never signs
    /// again) and makes `new` current, in one transaction. Returns the kid
    /// of the retired key.
    pub async fn rotate_signing_key(
        &self,
        new: &StoredSigningKey,
        now: Timestamp,
    ) -> Result<Option<String>, StorageError> {
        let retire = sqlx::query_as::<_, (String,)>(
            "UPDATE signing_keys SET slot = NULL, retired_at = $1, private_key = '' \
             WHERE slot = 'current' RETURNING kid",
        )
        .bind(to_millis(now));
        let insert = insert_current(new, now);
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            let retired = retire.fetch_optional(&mut *tx).await?;
            insert.execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(retired.map(|(kid,)| kid))
        })
        .await
    }

    /// Deletes the retired keys that retired before `cutoff`: no token they
    /// signed can still be valid.
    pub async fn delete_signing_keys_retired_before(
        &self,
        cutoff: Timestamp,
    ) -> Result<u64, StorageError> {
        let delete = sqlx::query(
            "DELETE FROM signing_keys WHERE slot IS NULL AND retired_at IS NOT NULL \
             AND retired_at < $1",
        )
        .bind(to_millis(cutoff));
        self.write(|writer| async move { Ok(delete.execute(&writer).await?.rows_affected()) })
            .await
    }
}

fn insert_current(
    key: &StoredSigningKey,
    now: Timestamp,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, slot, algorithm, private_key, public_key, created_at) \
         VALUES ($1, 'current', $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(key.kid.clone())
    .bind(key.algorithm.clone())
    .bind(key.private_key.clone())
    .bind(key.public_key.clone())
    .bind(to_millis(now))
}
