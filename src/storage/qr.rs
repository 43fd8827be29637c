//! QR codes: one row per code, from generation through scan to
//! verification. Every step is a conditional UPDATE whose condition comes
//! from the domain's state machine (`qr_guard`), so a QR code is scanned
//! once, verified once, and never gets more than the allowed wrong PINs,
//! however many requests or server processes race.

use std::sync::LazyLock;

use jiff::Timestamp;
use sqlx::FromRow;

use super::outbox::enqueue;
use super::{Database, StorageError, from_millis, from_millis_opt, to_millis};
use crate::domain::login::qr_state::{Deadline, QrRecord, QrState, QrStep};
use crate::domain::login::records::{NewQr, Scan};
use crate::domain::model::OutgoingEmail;
use crate::domain::secret::TokenHash;
use crate::domain::types::{ServiceId, UserId};

#[derive(FromRow)]
struct QrRow {
    qr_id: String,
    service_id: String,
    status: String,
    created_at: i64,
    expires_at: i64,
    requester_ip: Option<String>,
    requester_user_agent: Option<String>,
    user_id: Option<String>,
    pin_hash: Option<String>,
    pin_expires_at: Option<i64>,
    failed_attempts: i64,
    on_login_page: i64,
}

impl TryFrom<QrRow> for QrRecord {
    type Error = StorageError;
    fn try_from(r: QrRow) -> Result<Self, StorageError> {
        Ok(QrRecord {
            qr_id: r.qr_id,
            service_id: ServiceId::from_stored(r.service_id),
            state: QrState::parse(&r.status)
                .ok_or_else(|| StorageError::Corrupt(format!("qr status {:?}", r.status)))?,
            created_at: from_millis(r.created_at)?,
            expires_at: from_millis(r.expires_at)?,
            requester_ip: r.requester_ip,
            requester_user_agent: r.requester_user_agent,
            user_id: r.user_id.map(UserId::from_stored),
            pin_hash: r.pin_hash.map(TokenHash::from_stored),
            pin_expires_at: from_millis_opt(r.pin_expires_at)?,
            failed_attempts: r.failed_attempts,
            on_login_page: r.on_login_page != 0,
        })
    }
}

const QR_COLUMNS: &str = "qr_id, service_id, status, created_at, expires_at, requester_ip, \
     requester_user_agent, user_id, pin_hash, pin_expires_at, failed_attempts, on_login_page";

/// The condition under which `step` may change a `qr_sessions` row: the
/// states the domain lets it start from, its deadline and the wrong-PIN
/// limit. `now` and `max_attempts` name the statement's parameters.
pub(super) fn qr_guard(step: QrStep, now: &str, max_attempts: &str) -> String {
    let states: Vec<String> = step
        .from_states()
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let mut guard = format!("status IN ({})", states.join(", "));
    match step.deadline() {
        Some(Deadline::Qr) => guard.push_str(&format!(" AND expires_at > {now}")),
        Some(Deadline::Pin) => guard.push_str(&format!(" AND pin_expires_at > {now}")),
        None => {}
    }
    if step.within_attempts() {
        guard.push_str(&format!(" AND failed_attempts < {max_attempts}"));
    }
    guard
}

static SCAN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE qr_sessions SET status = '{}', user_id = $2, scanned_at = $3, scanner_ip = $4, \
         pin_hash = $5, pin_expires_at = $6 WHERE qr_id = $1 AND {}",
        QrStep::Scan.to_state().as_str(),
        qr_guard(QrStep::Scan, "$3", "")
    )
});

static DENY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE qr_sessions SET status = '{}' WHERE qr_id = $1 AND {}",
        QrStep::Deny.to_state().as_str(),
        qr_guard(QrStep::Deny, "", "")
    )
});

static COUNT_WRONG_PIN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE qr_sessions SET failed_attempts = failed_attempts + 1, \
         status = CASE WHEN failed_attempts + 1 >= $2 THEN '{}' ELSE '{}' END \
         WHERE qr_id = $1 AND {} RETURNING failed_attempts",
        QrState::Locked.as_str(),
        QrStep::CountWrongPin.to_state().as_str(),
        qr_guard(QrStep::CountWrongPin, "$3", "$2")
    )
});

impl Database {
    pub async fn insert_qr(&self, qr: &NewQr<'_>) -> Result<(), StorageError> {
        let insert = sqlx::query(
            "INSERT INTO qr_sessions (qr_id, token_hash, service_id, status, created_at, expires_at, \
             requester_ip, requester_user_agent, on_login_page) \
             VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8)",
        )
        .bind(qr.qr_id.to_owned())
        .bind(qr.token_hash.as_str().to_owned())
        .bind(qr.service_id.as_str().to_owned())
        .bind(to_millis(qr.created_at))
        .bind(to_millis(qr.expires_at))
        .bind(qr.requester_ip.map(str::to_owned))
        .bind(qr.requester_user_agent.map(str::to_owned))
        .bind(i64::from(qr.on_login_page));
        self.write(|writer| async move { Ok(insert.execute(&writer).await.map(|_| ())?) })
            .await
    }

    pub async fn find_qr(&self, token_hash: &TokenHash) -> Result<Option<QrRecord>, StorageError> {
        let sql = format!("SELECT {QR_COLUMNS} FROM qr_sessions WHERE token_hash = $1");
        let row: Option<QrRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(token_hash.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(QrRecord::try_from).transpose()
    }

    /// The QR code as it stands now, after a conditional update lost a race.
    pub async fn reload_qr(&self, qr_id: &str) -> Result<QrRecord, StorageError> {
        let sql = format!("SELECT {QR_COLUMNS} FROM qr_sessions WHERE qr_id = $1");
        let row: Option<QrRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(qr_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(QrRecord::try_from)
            .transpose()?
            .ok_or_else(|| StorageError::Corrupt(format!("qr {qr_id} vanished")))
    }

    /// [`QrStep::Scan`]: claims the QR code for `scan`. `false` when another
    /// scan won or the state moved on meanwhile.
    pub async fn mark_scanned(
        &self,
        qr_id: &str,
        scan: &Scan<'_>,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let update = sqlx::query(SCAN.as_str())
            .bind(qr_id.to_owned())
            .bind(scan.user_id.as_str().to_owned())
            .bind(to_millis(now))
            .bind(scan.scanner_ip.map(str::to_owned))
            .bind(scan.pin_hash.as_str().to_owned())
            .bind(to_millis(scan.pin_expires_at));
        self.write(|writer| async move { Ok(update.execute(&writer).await?.rows_affected() == 1) })
            .await
    }

    /// [`QrStep::Deny`]: closes a QR code for good because its person says
    /// they did not start the login. `false` when it was verified meanwhile.
    /// The admins' alert (`emails`) is queued in the same transaction.
    pub async fn mark_denied(
        &self,
        qr_id: &str,
        emails: &[OutgoingEmail],
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let deny = sqlx::query(DENY.as_str()).bind(qr_id.to_owned());
        let emails = emails.to_vec();
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            if deny.execute(&mut *tx).await?.rows_affected() != 1 {
                return Ok(false);
            }
            enqueue(&mut tx, &emails, now).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// [`QrStep::CountWrongPin`]: counts one wrong PIN, locking the QR code
    /// at `limit`. Returns the new count, or `None` when the attempt was not
    /// countable (locked, verified or expired meanwhile); the caller then
    /// re-reads the state.
    pub async fn record_wrong_pin(
        &self,
        qr_id: &str,
        limit: i64,
        now: Timestamp,
    ) -> Result<Option<i64>, StorageError> {
        let count = sqlx::query_as::<_, (i64,)>(COUNT_WRONG_PIN.as_str())
            .bind(qr_id.to_owned())
            .bind(limit)
            .bind(to_millis(now));
        self.write(|writer| async move { Ok(count.fetch_optional(&writer).await?.map(|(n,)| n)) })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_spell_the_state_machine() {
        assert_eq!(
            qr_guard(QrStep::Scan, "$3", ""),
            "status IN ('pending') AND expires_at > $3"
        );
        assert_eq!(
            qr_guard(QrStep::Verify, "$2", "$4"),
            "status IN ('scanned') AND pin_expires_at > $2 AND failed_attempts < $4"
        );
        assert_eq!(
            qr_guard(QrStep::Deny, "", ""),
            "status IN ('pending', 'scanned', 'locked', 'denied')"
        );
    }
}
