//! The pending queue's growth: how full it is, and which registrations
//! the admins have not been told of yet (the digest's claim).

use jiff::Timestamp;

use super::outbox::enqueue;
use super::users::{PENDING_COLUMNS, PendingRow};
use super::{Database, StorageError, from_millis_opt, to_millis};
use crate::domain::model::{OutgoingEmail, PendingUser};
use crate::domain::registration::{QueueCounts, Unannounced};

impl Database {
    /// The queue as a registration from `from` sees it: one round trip,
    /// each count on an index.
    pub async fn queue_counts(
        &self,
        from: &str,
        since: Timestamp,
    ) -> Result<QueueCounts, StorageError> {
        let (pending, pending_from, last_hour): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM pending_users WHERE status = 'pending'), \
             (SELECT COUNT(*) FROM pending_users WHERE registered_from = $1 AND status = 'pending'), \
             (SELECT COUNT(*) FROM pending_users WHERE status = 'pending' AND registered_at > $2)",
        )
        .bind(from)
        .bind(to_millis(since))
        .fetch_one(&self.pool)
        .await?;
        Ok(QueueCounts {
            pending,
            pending_from,
            last_hour,
        })
    }

    /// The waiting registrations no admin was told of, with the oldest
    /// `list` of them.
    pub async fn unannounced_registrations(&self, list: u32) -> Result<Unannounced, StorageError> {
        let (count, oldest, newest): (i64, Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(registered_at), MAX(registered_at) FROM pending_users \
             WHERE admins_notified_at IS NULL AND status = 'pending'",
        )
        .fetch_one(&self.pool)
        .await?;
        let first: Vec<PendingRow> = if count > 0 {
            let sql = format!(
                "SELECT {PENDING_COLUMNS} FROM pending_users \
                 WHERE admins_notified_at IS NULL AND status = 'pending' \
                 ORDER BY registered_at, user_id LIMIT $1"
            );
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(i64::from(list))
                .fetch_all(&self.pool)
                .await?
        } else {
            Vec::new()
        };
        Ok(Unannounced {
            count,
            oldest: from_millis_opt(oldest)?,
            newest: from_millis_opt(newest)?,
            first: first
                .into_iter()
                .map(PendingUser::try_from)
                .collect::<Result<_, _>>()?,
        })
    }

    /// Marks the unannounced registrations up to `newest` as told, and
    /// queues the digest, in one transaction. `false` (nothing written):
    /// the set is no longer the `count` the digest was written for.
    pub async fn claim_announcement(
        &self,
        newest: Timestamp,
        count: i64,
        now: Timestamp,
        emails: &[OutgoingEmail],
    ) -> Result<bool, StorageError> {
        let claim = sqlx::query(
            "UPDATE pending_users SET admins_notified_at = $1 \
             WHERE admins_notified_at IS NULL AND status = 'pending' AND registered_at <= $2",
        )
        .bind(to_millis(now))
        .bind(to_millis(newest));
        let emails = emails.to_vec();
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            let claimed = claim.execute(&mut *tx).await?.rows_affected();
            if i64::try_from(claimed).ok() != Some(count) {
                return Ok(false);
            }
            enqueue(&mut tx, &emails, now).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }
}
