//! The purge: what is over is deleted on a timer, in small batches so that
//! no run holds SQLite's write lock for long. The login history is never
//! purged; a session deleted while its history row was still open (it
//! expired unnoticed) closes that row first, with the moment it expired.

use jiff::Timestamp;

use super::throttle::STALE_COUNTS;
use super::{Database, Forget, StorageError, to_millis};
use crate::domain::upkeep::Purged;

/// Rows one statement deletes at most.
const BATCH: i64 = 1000;
/// Batches one run deletes of each kind at most; the next run goes on.
const MAX_BATCHES: usize = 50;

const QR_CODES: &str = "DELETE FROM qr_sessions WHERE qr_id IN (SELECT qr_id FROM qr_sessions \
     WHERE expires_at < $1 AND (pin_expires_at IS NULL OR pin_expires_at < $1) \
     ORDER BY expires_at, qr_id LIMIT $2)";

/// A session is over by its idle expiry at the latest (never renewed past
/// its absolute expiry, nor once ended).
const OVER_SESSIONS: &str = "SELECT session_id FROM user_sessions WHERE idle_expires_at < $1 \
     ORDER BY idle_expires_at, session_id LIMIT $2";

const ADMIN_TOKENS: &str = "DELETE FROM admin_sessions WHERE token_hash IN \
     (SELECT token_hash FROM admin_sessions WHERE expires_at <= $1 LIMIT $2)";

const EMAILS: &str = "DELETE FROM email_outbox WHERE id IN (SELECT id FROM email_outbox \
     WHERE status IN ('sent', 'logged', 'failed') AND created_at < $1 ORDER BY id LIMIT $2)";

/// OIDC rows whose time is up: nothing reads them after their expiry
/// (a code's second use within its minute is what revokes; later it is
/// only unknown, as it would be for a guess).
const OIDC_INTERACTIONS: &str = "DELETE FROM oidc_interactions WHERE interaction_id IN \
     (SELECT interaction_id FROM oidc_interactions WHERE expires_at < $1 LIMIT $2)";
const OIDC_CODES: &str = "DELETE FROM oidc_codes WHERE code_hash IN \
     (SELECT code_hash FROM oidc_codes WHERE expires_at < $1 LIMIT $2)";
const OIDC_TOKENS: &str = "DELETE FROM oidc_tokens WHERE token_hash IN \
     (SELECT token_hash FROM oidc_tokens WHERE expires_at < $1 LIMIT $2)";

impl Database {
    /// Deletes QR codes and sessions over before `flows_before`, admin
    /// tokens expired by `now`, delivered or failed emails queued before
    /// `emails_before`, and sign-in failure counts last moved before
    /// `counts_before`.
    pub async fn purge(
        &self,
        flows_before: Timestamp,
        emails_before: Timestamp,
        counts_before: Timestamp,
        now: Timestamp,
    ) -> Result<Purged, StorageError> {
        let qr_codes = self.delete_in_batches(QR_CODES, flows_before).await?;
        let sessions = self.purge_sessions(flows_before).await?;
        let admin_tokens = self.delete_in_batches(ADMIN_TOKENS, now).await?;
        let emails = self.delete_in_batches(EMAILS, emails_before).await?;
        let sign_in_counts = self.delete_in_batches(STALE_COUNTS, counts_before).await?;
        let mut oidc = 0;
        for sql in [OIDC_INTERACTIONS, OIDC_CODES, OIDC_TOKENS] {
            oidc += self.delete_in_batches(sql, flows_before).await?;
        }
        Ok(Purged {
            oidc,
            sign_in_counts,
            qr_codes,
            sessions,
            admin_tokens,
            emails,
        })
    }

    async fn delete_in_batches(
        &self,
        sql: &'static str,
        before: Timestamp,
    ) -> Result<u64, StorageError> {
        let mut deleted = 0;
        for _ in 0..MAX_BATCHES {
            let delete = sqlx::query(sql).bind(to_millis(before)).bind(BATCH);
            let n = self
                .write(|writer| async move { Ok(delete.execute(&writer).await?.rows_affected()) })
                .await?;
            deleted += n;
            if n < BATCH.unsigned_abs() {
                break;
            }
        }
        Ok(deleted)
    }

    async fn purge_sessions(&self, before: Timestamp) -> Result<u64, StorageError> {
        let mut deleted = 0;
        for _ in 0..MAX_BATCHES {
            // Both statements name the same batch (same order, same
            // transaction, one writer), so no history row is left open.
            let close = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE login_history SET ended_reason = 'expired', logout_at = \
                 (SELECT CASE WHEN s.idle_expires_at < s.absolute_expires_at \
                  THEN s.idle_expires_at ELSE s.absolute_expires_at END \
                  FROM user_sessions s WHERE s.session_id = login_history.session_id) \
                 WHERE logout_at IS NULL AND session_id IN ({OVER_SESSIONS})"
            )))
            .bind(to_millis(before))
            .bind(BATCH);
            let delete = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM user_sessions WHERE session_id IN ({OVER_SESSIONS})"
            )))
            .bind(to_millis(before))
            .bind(BATCH);
            let n = self
                .write(|writer| async move {
                    let mut tx = writer.begin().await?;
                    close.execute(&mut *tx).await?;
                    let n = delete.execute(&mut *tx).await?.rows_affected();
                    tx.commit().await?;
                    Ok(n)
                })
                .await?;
            deleted += n;
            if n < BATCH.unsigned_abs() {
                break;
            }
        }
        if deleted > 0 {
            self.forget_sessions(Forget::All);
        }
        Ok(deleted)
    }
}
