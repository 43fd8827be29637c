//! The email outbox. Messages are inserted in the transaction of the change
//! that owes them; workers claim due messages with a lease (a conditional
//! UPDATE, so two instances never send one message at once), then record the
//! outcome.

use jiff::Timestamp;
use sqlx::FromRow;

use super::{Database, StorageError, from_millis, from_millis_opt, into_page, to_millis};
use crate::domain::model::{Cursor, Delivery, OutboxEntry, OutgoingEmail, Page, PageRequest};

#[derive(FromRow)]
struct OutboxRow {
    id: i64,
    kind: String,
    recipient: String,
    subject: String,
    body_text: String,
    body_html: String,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    created_at: i64,
    next_attempt_at: i64,
    sent_at: Option<i64>,
}

impl TryFrom<OutboxRow> for OutboxEntry {
    type Error = StorageError;
    fn try_from(r: OutboxRow) -> Result<Self, StorageError> {
        Ok(OutboxEntry {
            id: r.id,
            kind: r.kind,
            recipient: r.recipient,
            subject: r.subject,
            body_text: r.body_text,
            body_html: r.body_html,
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: from_millis(r.created_at)?,
            next_attempt_at: from_millis(r.next_attempt_at)?,
            sent_at: from_millis_opt(r.sent_at)?,
        })
    }
}

const OUTBOX_COLUMNS: &str = "id, kind, recipient, subject, body_text, body_html, status, attempts, \
     last_error, created_at, next_attempt_at, sent_at";

/// Queues `emails` inside the caller's transaction: they are committed (or
/// rolled back) together with the change that owes them.
pub(super) async fn enqueue(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    emails: &[OutgoingEmail],
    now: Timestamp,
) -> Result<(), StorageError> {
    for email in emails {
        sqlx::query(
            "INSERT INTO email_outbox (kind, recipient, subject, body_text, body_html, status, \
             attempts, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
        )
        .bind(email.kind)
        .bind(&email.recipient)
        .bind(&email.subject)
        .bind(&email.body_text)
        .bind(&email.body_html)
        .bind(to_millis(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Database {
    /// Claims the next due message until `lease_until` and counts the
    /// attempt. A claim whose worker died expires with its lease.
    pub async fn claim_due_email(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<OutboxEntry>, StorageError> {
        let sql = format!(
            "UPDATE email_outbox SET locked_until = $2, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM email_outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
                         AND (locked_until IS NULL OR locked_until <= $1) \
                         ORDER BY next_attempt_at, id LIMIT 1) \
             AND status = 'pending' AND (locked_until IS NULL OR locked_until <= $1) \
             RETURNING {OUTBOX_COLUMNS}"
        );
        let claim = sqlx::query_as::<_, OutboxRow>(sqlx::AssertSqlSafe(sql))
            .bind(to_millis(now))
            .bind(to_millis(lease_until));
        let row = self
            .write(|writer| async move { Ok(claim.fetch_optional(&writer).await?) })
            .await?;
        row.map(OutboxEntry::try_from).transpose()
    }

    /// Records that a message left the outbox, and how (`Delivery`).
    pub async fn mark_email_delivered(
        &self,
        id: i64,
        delivery: Delivery,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let update = sqlx::query(
            "UPDATE email_outbox SET status = $3, sent_at = $2, locked_until = NULL, last_error = NULL \
             WHERE id = $1",
        )
        .bind(id)
        .bind(to_millis(now))
        .bind(delivery.as_str());
        self.write(|writer| async move { Ok(update.execute(&writer).await.map(|_| ())?) })
            .await
    }

    /// Records a failed attempt: retried at `retry_at`, or never (`None`)
    /// when the mail server refused the message for good.
    pub async fn mark_email_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<(), StorageError> {
        let (status, next) = match retry_at {
            Some(at) => ("pending", Some(to_millis(at))),
            None => ("failed", None),
        };
        let update = sqlx::query(
            "UPDATE email_outbox SET status = $2, last_error = $3, locked_until = NULL, \
             next_attempt_at = COALESCE($4, next_attempt_at) WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(error.to_owned())
        .bind(next);
        self.write(|writer| async move { Ok(update.execute(&writer).await.map(|_| ())?) })
            .await
    }

    /// The outbox, newest first.
    pub async fn list_outbox(
        &self,
        status: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<OutboxEntry>, StorageError> {
        let before = page.after.as_ref().and_then(|c| c.id.parse::<i64>().ok());
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM email_outbox WHERE ($1 IS NULL OR status = $1) \
             AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
        );
        let rows: Vec<OutboxRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(status)
            .bind(before)
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        into_page(rows, page, |e: &OutboxEntry| Cursor {
            key: String::new(),
            id: e.id.to_string(),
        })
    }
}
