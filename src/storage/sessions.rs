//! Login sessions: created when a PIN is verified, renewed by validation,
//! ended by logout, expiry or deactivation. The session row is the authority
//! that `validate-session` consults; the JWT only names it.

use std::sync::LazyLock;

use jiff::Timestamp;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::{Query, QueryAs};
use sqlx::{Any, FromRow};

use super::qr::qr_guard;
use super::{Backend, Database, Forget, StorageError, from_millis, from_millis_opt, to_millis};
use crate::domain::login::qr_state::QrStep;
use crate::domain::login::records::{NewLogin, SessionRecord};
use crate::domain::types::{ServiceId, UserId};

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
    service_requires_credentials: i64,
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
            service_requires_credentials: r.service_requires_credentials != 0,
            username: r.username,
            full_name: r.full_name,
            email: r.email,
        })
    }
}

/// The writes of a successful verification, in order, numbered as one
/// batch: $1 qr_id, $2 now, $3 session_id, $4 max wrong PINs, $5 user_id,
/// $6 service_id, $7 idle expiry, $8 absolute expiry, $9 ip, $10 user agent.
/// The first claims the QR code; the others are conditional on that claim
/// having won (only this verification can have put its brand-new session id
/// on the code), so they are right whether run as one batch or one by one.
static COMPLETE_LOGIN: LazyLock<[String; 4]> = LazyLock::new(|| {
    const WON: &str = "SELECT 1 FROM qr_sessions WHERE qr_id = $1 AND session_id = $3";
    [
        format!(
            "UPDATE qr_sessions SET status = '{}', verified_at = $2, session_id = $3 \
             WHERE qr_id = $1 AND {}",
            QrStep::Verify.to_state().as_str(),
            qr_guard(QrStep::Verify, "$2", "$4")
        ),
        format!(
            "INSERT INTO user_sessions (session_id, user_id, service_id, created_at, last_seen_at, \
             idle_expires_at, absolute_expires_at) SELECT $3, $5, $6, $2, $2, $7, $8 WHERE EXISTS ({WON})"
        ),
        format!(
            "INSERT INTO login_history (user_id, service_id, qr_id, session_id, outcome, login_at, ip, \
             user_agent) SELECT $5, $6, $1, $3, 'success', $2, $9, $10 WHERE EXISTS ({WON})"
        ),
        format!("UPDATE active_users SET last_login = $2 WHERE user_id = $5 AND EXISTS ({WON})"),
    ]
});

/// [`COMPLETE_LOGIN`] as SQLite runs it: one batch.
static SQLITE_LOGIN_BATCH: LazyLock<String> = LazyLock::new(|| COMPLETE_LOGIN.join("; "));

/// [`COMPLETE_LOGIN`] as PostgreSQL runs it: each statement on its own, with
/// its parameters renumbered and which batch parameter each one is.
static POSTGRES_LOGIN_STATEMENTS: LazyLock<Vec<(String, Vec<usize>)>> =
    LazyLock::new(|| COMPLETE_LOGIN.iter().map(|sql| standalone(sql)).collect());

/// One statement of a batch as a statement of its own: its `$n` renumbered
/// from `$1` in order of first use, and the batch index (0-based) of each.
/// (PostgreSQL refuses a statement bound with parameters it does not use.)
fn standalone(sql: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(sql.len());
    let mut order: Vec<usize> = Vec::new();
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(rest.len() - at - 1, |n| n);
        let number: usize = rest[at + 1..at + 1 + digits].parse().unwrap_or(0);
        let index = number.saturating_sub(1);
        let position = match order.iter().position(|&i| i == index) {
            Some(p) => p,
            None => {
                order.push(index);
                order.len() - 1
            }
        };
        out.push_str(&format!("${}", position + 1));
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    (out, order)
}

/// A parameter of [`COMPLETE_LOGIN`].
enum Param {
    Int(i64),
    Text(Option<String>),
}

fn login_params(login: &NewLogin<'_>, max_attempts: i64) -> Vec<Param> {
    let text = |s: &str| Param::Text(Some(s.to_owned()));
    vec![
        text(login.qr_id),
        Param::Int(to_millis(login.now)),
        text(login.session_id),
        Param::Int(max_attempts),
        text(login.user_id.as_str()),
        text(login.service_id.as_str()),
        Param::Int(to_millis(login.idle_expires_at)),
        Param::Int(to_millis(login.absolute_expires_at)),
        Param::Text(login.ip.map(str::to_owned)),
        Param::Text(login.user_agent.map(str::to_owned)),
    ]
}

/// Binds `params` in the order `order` names them.
fn bind_params<'q>(
    mut query: Query<'q, Any, AnyArguments>,
    params: &[Param],
    order: impl IntoIterator<Item = usize>,
) -> Query<'q, Any, AnyArguments> {
    for index in order {
        query = match params.get(index) {
            Some(Param::Int(n)) => query.bind(*n),
            Some(Param::Text(t)) => query.bind(t.clone()),
            None => break,
        };
    }
    query
}

impl Database {
    /// Marks the QR code verified ([`QrStep::Verify`]) and, only if that
    /// conditional update wins, creates the session, its `login_history`
    /// row and the user's `last_login`. `false`: another verification (or a
    /// lock) got there first.
    ///
    /// The statements are [`COMPLETE_LOGIN`], on both databases: on SQLite
    /// one batch (one round trip to the connection's thread while the write
    /// lock is held, instead of four), on PostgreSQL one by one in a
    /// transaction that stops at a lost claim.
    pub async fn complete_login(
        &self,
        login: &NewLogin<'_>,
        max_attempts: i64,
    ) -> Result<bool, StorageError> {
        let params = login_params(login, max_attempts);
        if self.backend == Backend::Sqlite {
            let batch = bind_params(
                sqlx::query(SQLITE_LOGIN_BATCH.as_str()),
                &params,
                0..params.len(),
            );
            return self
                .write(|writer| async move {
                    let mut tx = writer.begin().await?;
                    let written = batch.execute(&mut *tx).await?.rows_affected();
                    tx.commit().await?;
                    Ok(written > 0)
                })
                .await;
        }
        let statements: Vec<_> = POSTGRES_LOGIN_STATEMENTS
            .iter()
            .map(|(sql, order)| {
                bind_params(sqlx::query(sql.as_str()), &params, order.iter().copied())
            })
            .collect();
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            let mut statements = statements.into_iter();
            let Some(claim) = statements.next() else {
                return Ok(false);
            };
            if claim.execute(&mut *tx).await?.rows_affected() != 1 {
                return Ok(false);
            }
            for statement in statements {
                statement.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(true)
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
             r.is_active AS service_active, r.require_credentials AS service_requires_credentials, \
             u.username, u.full_name, u.email \
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

    /// Runs `update` on the lane and, if it returned a row, ends the live
    /// sessions whose `owner_column` is `owner` in the same transaction.
    /// `None`: no row matched, nothing was written.
    pub(super) async fn write_ending_sessions<R>(
        &self,
        update: QueryAs<'static, Any, R, AnyArguments>,
        owner_column: &'static str,
        owner: &str,
        reason: &'static str,
        now: Timestamp,
    ) -> Result<Option<R>, StorageError>
    where
        R: for<'r> FromRow<'r, AnyRow> + Send + Unpin + 'static,
    {
        let owner = owner.to_owned();
        let written = self
            .write(|writer| async move {
                let mut tx = writer.begin().await?;
                let Some(row) = update.fetch_optional(&mut *tx).await? else {
                    return Ok(None);
                };
                end_live_sessions(&mut tx, owner_column, &owner, reason, now).await?;
                tx.commit().await?;
                Ok(Some(row))
            })
            .await;
        self.forget_sessions(Forget::All);
        written
    }
}

/// Ends the live sessions whose `owner_column` is `owner`, and closes their
/// login_history rows with the same reason.
async fn end_live_sessions(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    owner_column: &'static str,
    owner: &str,
    reason: &str,
    now: Timestamp,
) -> Result<(), StorageError> {
    let history = format!(
        "UPDATE login_history SET logout_at = $2, ended_reason = $3 WHERE session_id IN \
         (SELECT session_id FROM user_sessions WHERE {owner_column} = $1 AND ended_at IS NULL)"
    );
    sqlx::query(sqlx::AssertSqlSafe(history))
        .bind(owner)
        .bind(to_millis(now))
        .bind(reason)
        .execute(&mut **tx)
        .await?;
    let sessions = format!(
        "UPDATE user_sessions SET ended_at = $2, ended_reason = $3 \
         WHERE {owner_column} = $1 AND ended_at IS NULL"
    );
    sqlx::query(sqlx::AssertSqlSafe(sessions))
        .bind(owner)
        .bind(to_millis(now))
        .bind(reason)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_statement_stands_alone_with_its_own_numbers() {
        let (sql, order) = standalone("SELECT $5, $6, $1, $3, $2 WHERE x = $1 AND y = $10");
        assert_eq!(sql, "SELECT $1, $2, $3, $4, $5 WHERE x = $3 AND y = $6");
        assert_eq!(order, vec![4, 5, 0, 2, 1, 9]);
    }

    #[test]
    fn every_login_statement_uses_only_the_batch_parameters() {
        for (_, order) in POSTGRES_LOGIN_STATEMENTS.iter() {
            assert!(order.iter().all(|&i| i < 10), "{order:?}");
        }
        let (claim, _) = &POSTGRES_LOGIN_STATEMENTS[0];
        assert!(claim.contains("status IN ('scanned')"), "{claim}");
    }
}
