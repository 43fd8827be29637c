//! Login sessions: created when a PIN is verified, renewed by validation,
//! ended by logout, expiry or deactivation. The session row is the authority
//! that `validate-session` consults; the JWT only names it.

use jiff::Timestamp;
use sqlx::FromRow;

use super::{Backend, Database, Forget, StorageError, from_millis, from_millis_opt, to_millis};
use crate::domain::types::{ServiceId, UserId};

/// Everything a successful PIN verification writes, in one transaction.
pub struct NewLogin<'a> {
    pub qr_id: &'a str,
    pub session_id: &'a str,
    pub user_id: &'a UserId,
    pub service_id: &'a ServiceId,
    pub now: Timestamp,
    pub idle_expires_at: Timestamp,
    pub absolute_expires_at: Timestamp,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// A session joined with what validation must know about its user and service.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub session_id: String,
    pub user_id: UserId,
    pub service_id: ServiceId,
    pub created_at: Timestamp,
    pub idle_expires_at: Timestamp,
    pub absolute_expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub ended_reason: Option<String>,
    pub user_active: bool,
    pub service_active: bool,
    pub username: String,
    pub full_name: String,
    pub email: String,
}

#[derive(FromRow)]
struct SessionRow {
    session_id: String,
    user_id: String,
    service_id: String,
    created_at: i64,
    idle_expires_at: i64,
    absolute_expires_at: i64,
    ended_at: Option<i64>,
    ended_reason: Option<String>,
    user_active: i64,
    service_active: i64,
    username: String,
    full_name: String,
    email: String,
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StorageError;
    fn try_from(r: SessionRow) -> Result<Self, StorageError> {
        Ok(SessionRecord {
            session_id: r.session_id,
            user_id: UserId::from_stored(r.user_id),
            service_id: ServiceId::from_stored(r.service_id),
            created_at: from_millis(r.created_at)?,
            idle_expires_at: from_millis(r.idle_expires_at)?,
            absolute_expires_at: from_millis(r.absolute_expires_at)?,
            ended_at: from_millis_opt(r.ended_at)?,
            ended_reason: r.ended_reason,
            user_active: r.user_active != 0,
            service_active: r.service_active != 0,
            username: r.username,
            full_name: r.full_name,
            email: r.email,
        })
    }
}

impl Database {
    /// Marks the QR code verified and, only if that conditional update wins,
    /// creates the session, its `login_history` row and the user's
    /// `last_login`. `false`: another verification (or lock) got there first.
    pub async fn complete_login(
        &self,
        login: &NewLogin<'_>,
        max_attempts: i64,
    ) -> Result<bool, StorageError> {
        if self.backend == Backend::Sqlite {
            return self.complete_login_in_one_batch(login, max_attempts).await;
        }
        let now = to_millis(login.now);
        let (user_id, service_id) = (login.user_id.as_str(), login.service_id.as_str());
        let claim = sqlx::query(
            "UPDATE qr_sessions SET status = 'verified', verified_at = $2, session_id = $3 \
             WHERE qr_id = $1 AND status = 'scanned' AND failed_attempts < $4 AND pin_expires_at > $2",
        )
        .bind(login.qr_id.to_owned())
        .bind(now)
        .bind(login.session_id.to_owned())
        .bind(max_attempts);
        let session = sqlx::query(
            "INSERT INTO user_sessions (session_id, user_id, service_id, created_at, last_seen_at, \
             idle_expires_at, absolute_expires_at) VALUES ($1, $2, $3, $4, $4, $5, $6)",
        )
        .bind(login.session_id.to_owned())
        .bind(user_id.to_owned())
        .bind(service_id.to_owned())
        .bind(now)
        .bind(to_millis(login.idle_expires_at))
        .bind(to_millis(login.absolute_expires_at));
        let history = sqlx::query(
            "INSERT INTO login_history (user_id, service_id, qr_id, session_id, outcome, login_at, ip, user_agent) \
             VALUES ($1, $2, $3, $4, 'success', $5, $6, $7)",
        )
        .bind(user_id.to_owned())
        .bind(service_id.to_owned())
        .bind(login.qr_id.to_owned())
        .bind(login.session_id.to_owned())
        .bind(now)
        .bind(login.ip.map(str::to_owned))
        .bind(login.user_agent.map(str::to_owned));
        let last_login = sqlx::query("UPDATE active_users SET last_login = $2 WHERE user_id = $1")
            .bind(user_id.to_owned())
            .bind(now);
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            if claim.execute(&mut *tx).await?.rows_affected() != 1 {
                return Ok(false);
            }
            session.execute(&mut *tx).await?;
            history.execute(&mut *tx).await?;
            last_login.execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// `complete_login` for SQLite: the same four writes as one batch, a
    /// single round trip to the connection's thread while the write lock is
    /// held instead of four. The three after the claim are conditional on it
    /// having won: only this verification can have put its brand-new
    /// session id on the QR code.
    async fn complete_login_in_one_batch(
        &self,
        login: &NewLogin<'_>,
        max_attempts: i64,
    ) -> Result<bool, StorageError> {
        const WON: &str = "SELECT 1 FROM qr_sessions WHERE qr_id = $1 AND session_id = $3";
        let batch = format!(
            "UPDATE qr_sessions SET status = 'verified', verified_at = $2, session_id = $3 \
             WHERE qr_id = $1 AND status = 'scanned' AND failed_attempts < $4 AND pin_expires_at > $2; \
             INSERT INTO user_sessions (session_id, user_id, service_id, created_at, last_seen_at, \
             idle_expires_at, absolute_expires_at) SELECT $3, $5, $6, $2, $2, $7, $8 WHERE EXISTS ({WON}); \
             INSERT INTO login_history (user_id, service_id, qr_id, session_id, outcome, login_at, ip, user_agent) \
             SELECT $5, $6, $1, $3, 'success', $2, $9, $10 WHERE EXISTS ({WON}); \
             UPDATE active_users SET last_login = $2 WHERE user_id = $5 AND EXISTS ({WON})"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(batch))
            .bind(login.qr_id.to_owned())
            .bind(to_millis(login.now))
            .bind(login.session_id.to_owned())
            .bind(max_attempts)
            .bind(login.user_id.as_str().to_owned())
            .bind(login.service_id.as_str().to_owned())
            .bind(to_millis(login.idle_expires_at))
            .bind(to_millis(login.absolute_expires_at))
            .bind(login.ip.map(str::to_owned))
            .bind(login.user_agent.map(str::to_owned));
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            let written = query.execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            Ok(written > 0)
        })
        .await
    }

    /// One read: the session with its user's and service's current state.
    pub async fn find_session(
        &self,
        session_id: &str,
    ) -> Result<Option<SessionRecord>, StorageError> {
        if let Some(record) = self.sessions.as_ref().and_then(|c| c.get(session_id)) {
            return Ok(Some(record));
        }
        let ticket = self.sessions.as_ref().map(|c| c.begin_read());
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.session_id, s.user_id, s.service_id, s.created_at, s.idle_expires_at, \
             s.absolute_expires_at, s.ended_at, s.ended_reason, u.is_active AS user_active, \
             r.is_active AS service_active, u.username, u.full_name, u.email \
             FROM user_sessions s \
             JOIN active_users u ON u.user_id = s.user_id \
             JOIN registered_services r ON r.service_id = s.service_id \
             WHERE s.session_id = $1",
        )
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await?;
        let record = row.map(SessionRecord::try_from).transpose()?;
        if let (Some(cache), Some(ticket), Some(record)) = (&self.sessions, ticket, &record) {
            cache.store(ticket, session_id, record);
        }
        Ok(record)
    }

    /// Moves a live session's idle expiry forward.
    pub async fn renew_session(
        &self,
        session_id: &str,
        idle_expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let renew = sqlx::query(
            "UPDATE user_sessions SET last_seen_at = $2, idle_expires_at = $3 \
             WHERE session_id = $1 AND ended_at IS NULL AND idle_expires_at > $2",
        )
        .bind(session_id.to_owned())
        .bind(to_millis(now))
        .bind(to_millis(idle_expires_at));
        let renewed = self
            .write(|writer| async move { Ok(renew.execute(&writer).await?.rows_affected() == 1) })
            .await;
        self.forget_sessions(Forget::One(session_id));
        renewed
    }

    /// Ends a session (if still live) and closes its history row; `at` is
    /// when it ended (for an expiry noticed late, the moment it expired).
    pub async fn end_session(
        &self,
        session_id: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<bool, StorageError> {
        let end = sqlx::query(
            "UPDATE user_sessions SET ended_at = $2, ended_reason = $3 WHERE session_id = $1 AND ended_at IS NULL",
        )
        .bind(session_id.to_owned())
        .bind(to_millis(at))
        .bind(reason.to_owned());
        let history = sqlx::query(
            "UPDATE login_history SET logout_at = $2, ended_reason = $3 WHERE session_id = $1",
        )
        .bind(session_id.to_owned())
        .bind(to_millis(at))
        .bind(reason.to_owned());
        let ended = self
            .write(|writer| async move {
                let mut tx = writer.begin().await?;
                if end.execute(&mut *tx).await?.rows_affected() != 1 {
                    return Ok(false);
                }
                history.execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(true)
            })
            .await;
        self.forget_sessions(Forget::One(session_id));
        ended
    }
}
