//! The keys that sign tokens: one current key per algorithm (Ed25519 for
//! session tokens, RSA for ID tokens) and the retired ones still published.
//! Kept in the database so every instance signs with the same keys and a
//! restart never invalidates tokens. The private half is stored as the
//! domain hands it over (sealed when a key encryption key is set); storage
//! never sees it in clear unless it was given so.

use jiff::Timestamp;

use super::{Database, StorageError, from_millis_opt, to_millis};
use crate::domain::signing::{JwsAlgorithm, StoredSigningKey};

type KeyRow = (String, String, String, String, Option<i64>);

const COLUMNS: &str = "kid, algorithm, private_key, public_key, retired_at";

fn key_of(
    (kid, algorithm, private_key, public_key, retired_at): KeyRow,
) -> Result<StoredSigningKey, StorageError> {
    let algorithm = JwsAlgorithm::parse(&algorithm).ok_or_else(|| {
        StorageError::Corrupt(format!("signing key {kid}: algorithm {algorithm}"))
    })?;
    Ok(StoredSigningKey {
        kid,
        algorithm,
        private_key,
        public_key,
        retired_at: from_millis_opt(retired_at)?,
    })
}

/// The `slot` of the current key of `algorithm`: each algorithm has its
/// own, so their UNIQUE keeps one current key of each. The Ed25519 key
/// keeps the name it had before there were two.
fn current_slot(algorithm: JwsAlgorithm) -> &'static str {
    match algorithm {
        JwsAlgorithm::EdDSA => "current",
        JwsAlgorithm::RS256 => "current-rs256",
    }
}

impl Database {
    /// Stores `candidate` as the current key of its algorithm unless one
    /// exists already, and returns whichever is current. Two instances
    /// making one at once agree: the UNIQUE `slot` lets only one insert win.
    pub async fn current_signing_key_or_insert(
        &self,
        candidate: &StoredSigningKey,
        now: Timestamp,
    ) -> Result<StoredSigningKey, StorageError> {
        let insert = insert_current(candidate, now);
        self.write(|writer| async move { Ok(insert.execute(&writer).await.map(|_| ())?) })
            .await?;
        let row: KeyRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM signing_keys WHERE slot = $1"
        )))
        .bind(current_slot(candidate.algorithm))
        .fetch_one(&self.pool)
        .await?;
        key_of(row)
    }

    /// Every key still stored, the current ones first, then the retired ones
    /// from the most recent: the domain decides which are still published.
    pub async fn all_signing_keys(&self) -> Result<Vec<StoredSigningKey>, StorageError> {
        let rows: Vec<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM signing_keys \
             ORDER BY CASE WHEN slot IS NULL THEN 1 ELSE 0 END, created_at DESC"
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

    /// For each of `new`, retires the current key of its algorithm (its
    /// private half erased: it never signs again) and makes it current, all
    /// in one transaction. Returns, for each of `new`, the kid of the key it
    /// replaced (none if its algorithm had no current key).
    pub async fn rotate_signing_keys(
        &self,
        new: &[StoredSigningKey],
        now: Timestamp,
    ) -> Result<Vec<Option<String>>, StorageError> {
        let steps: Vec<_> = new
            .iter()
            .map(|key| {
                let retire = sqlx::query_as::<_, (String,)>(
                    "UPDATE signing_keys SET slot = NULL, retired_at = $1, private_key = '' \
                     WHERE slot = $2 RETURNING kid",
                )
                .bind(to_millis(now))
                .bind(current_slot(key.algorithm));
                (retire, insert_current(key, now))
            })
            .collect();
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            let mut retired = Vec::new();
            for (retire, insert) in steps {
                retired.push(retire.fetch_optional(&mut *tx).await?.map(|(kid,)| kid));
                insert.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(retired)
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
         VALUES ($1, $6, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(key.kid.clone())
    .bind(key.algorithm.as_str())
    .bind(key.private_key.clone())
    .bind(key.public_key.clone())
    .bind(to_millis(now))
    .bind(current_slot(key.algorithm))
}
