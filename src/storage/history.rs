//! The audit trail (`login_history`) and the statistics drawn from it.

use jiff::Timestamp;
use sqlx::FromRow;

use super::{Database, StorageError, from_millis, from_millis_opt, into_page, to_millis};
use crate::domain::login::records::Attempt;
use crate::domain::model::{Cursor, Page, PageRequest};
use crate::domain::reports::{Counts, HistoryEntry, HistoryFilter, ServiceUsage, UserServiceUsage};
use crate::domain::types::UserId;

#[derive(FromRow)]
struct HistoryRow {
    id: i64,
    user_id: Option<String>,
    username: Option<String>,
    service_id: Option<String>,
    service_name: Option<String>,
    outcome: String,
    login_at: i64,
    logout_at: Option<i64>,
    ended_reason: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    sign_in: Option<String>,
}

impl TryFrom<HistoryRow> for HistoryEntry {
    type Error = StorageError;
    fn try_from(r: HistoryRow) -> Result<Self, StorageError> {
        Ok(HistoryEntry {
            id: r.id,
            user_id: r.user_id,
            username: r.username,
            service_id: r.service_id,
            service_name: r.service_name,
            outcome: r.outcome,
            login_at: from_millis(r.login_at)?,
            logout_at: from_millis_opt(r.logout_at)?,
            ended_reason: r.ended_reason,
            ip: r.ip,
            user_agent: r.user_agent,
            sign_in: r.sign_in,
        })
    }
}

impl Database {
    pub async fn record_attempt(&self, a: &Attempt<'_>) -> Result<(), StorageError> {
        let insert = sqlx::query(
            "INSERT INTO login_history (user_id, service_id, qr_id, outcome, login_at, ip, user_agent, \
             sign_in, attempted_username) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(a.user_id.map(|id| id.as_str().to_owned()))
        .bind(a.service_id.map(|id| id.as_str().to_owned()))
        .bind(a.qr_id.map(str::to_owned))
        .bind(a.outcome.to_owned())
        .bind(to_millis(a.at))
        .bind(a.ip.map(str::to_owned))
        .bind(a.user_agent.map(str::to_owned))
        .bind(a.sign_in.map(|(kind, _)| kind.to_owned()))
        .bind(a.sign_in.map(|(_, name)| name.to_owned()));
        self.write(|writer| async move { Ok(insert.execute(&writer).await.map(|_| ())?) })
            .await
    }

    /// Newest first. The cursor is (login_at, id) of the last row seen, so
    /// rows that arrive meanwhile never shift the pages that follow.
    pub async fn list_history(
        &self,
        filter: &HistoryFilter,
        page: &PageRequest,
    ) -> Result<Page<HistoryEntry>, StorageError> {
        let (before_at, before_id) = match &page.after {
            Some(c) => (c.key.parse::<i64>().ok(), c.id.parse::<i64>().ok()),
            None => (None, None),
        };
        let rows: Vec<HistoryRow> = sqlx::query_as(
            "SELECT h.id, h.user_id, COALESCE(u.username, h.attempted_username) AS username, \
             h.service_id, r.name AS service_name, h.outcome, \
             h.login_at, h.logout_at, h.ended_reason, h.ip, h.user_agent, h.sign_in \
             FROM login_history h \
             LEFT JOIN active_users u ON u.user_id = h.user_id \
             LEFT JOIN registered_services r ON r.service_id = h.service_id \
             WHERE ($1 IS NULL OR h.user_id = $1) AND ($2 IS NULL OR h.service_id = $2) \
             AND ($3 IS NULL OR h.outcome = $3) AND ($4 IS NULL OR h.login_at >= $4) \
             AND ($5 IS NULL OR h.login_at < $5) \
             AND ($6 IS NULL OR h.login_at < $6 OR (h.login_at = $6 AND h.id < $7)) \
             ORDER BY h.login_at DESC, h.id DESC LIMIT $8",
        )
        .bind(filter.user_id.as_deref())
        .bind(filter.service_id.as_deref())
        .bind(filter.outcome.as_deref())
        .bind(filter.from.map(to_millis))
        .bind(filter.to.map(to_millis))
        .bind(before_at)
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        into_page(rows, page, |h: &HistoryEntry| Cursor {
            key: h.login_at.as_millisecond().to_string(),
            id: h.id.to_string(),
        })
    }

    pub async fn counts(&self, today: Timestamp, month: Timestamp) -> Result<Counts, StorageError> {
        let (users_pending, users_active, users_inactive, services_active, services_inactive): (
            i64,
            i64,
            i64,
            i64,
            i64,
        ) = sqlx::query_as(
            "SELECT \
             (SELECT COUNT(*) FROM pending_users WHERE status = 'pending'), \
             (SELECT COUNT(*) FROM active_users WHERE is_active = 1), \
             (SELECT COUNT(*) FROM active_users WHERE is_active = 0), \
             (SELECT COUNT(*) FROM registered_services WHERE is_active = 1), \
             (SELECT COUNT(*) FROM registered_services WHERE is_active = 0)",
        )
        .fetch_one(&self.pool)
        .await?;
        let (logins_today, logins_this_month): (i64, i64) = sqlx::query_as(
            "SELECT \
             (SELECT COUNT(*) FROM login_history WHERE outcome = 'success' AND login_at >= $1), \
             (SELECT COUNT(*) FROM login_history WHERE outcome = 'success' AND login_at >= $2)",
        )
        .bind(to_millis(today))
        .bind(to_millis(month))
        .fetch_one(&self.pool)
        .await?;
        Ok(Counts {
            users_pending,
            users_active,
            users_inactive,
            services_active,
            services_inactive,
            logins_today,
            logins_this_month,
        })
    }

    /// Successful logins per service and day since `start` (a local
    /// midnight), days counted in steps of 24 h from it (across a DST change
    /// one day boundary is an hour off; a chart can live with that).
    pub async fn daily_logins(
        &self,
        start: Timestamp,
    ) -> Result<Vec<(String, i64, i64)>, StorageError> {
        Ok(sqlx::query_as(
            "SELECT service_id, (login_at - $1) / 86400000 AS day, COUNT(*) AS logins \
             FROM login_history WHERE outcome = 'success' AND login_at >= $1 AND service_id IS NOT NULL \
             GROUP BY service_id, (login_at - $1) / 86400000 ORDER BY day",
        )
        .bind(to_millis(start))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every service with its logins since `month` and its live sessions.
    pub async fn service_usage(
        &self,
        month: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<ServiceUsage>, StorageError> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT r.service_id, r.name, \
             (SELECT COUNT(*) FROM login_history h WHERE h.service_id = r.service_id \
              AND h.outcome = 'success' AND h.login_at >= $1) AS logins_this_month, \
             (SELECT COUNT(*) FROM user_sessions s WHERE s.service_id = r.service_id \
              AND s.ended_at IS NULL AND s.idle_expires_at > $2 AND s.absolute_expires_at > $2) AS active_sessions \
             FROM registered_services r ORDER BY r.name_lower, r.service_id",
        )
        .bind(to_millis(month))
        .bind(to_millis(now))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(service_id, name, logins_this_month, active_sessions)| ServiceUsage {
                    service_id,
                    name,
                    logins_this_month,
                    active_sessions,
                },
            )
            .collect())
    }

    /// The services `user_id` ever logged in to, with this month's count and
    /// the last login of all time.
    pub async fn user_service_usage(
        &self,
        user_id: &UserId,
        month: Timestamp,
    ) -> Result<Vec<UserServiceUsage>, StorageError> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT r.service_id, r.name, \
             SUM(CASE WHEN h.login_at >= $2 THEN 1 ELSE 0 END) AS logins_this_month, \
             MAX(h.login_at) AS last_login \
             FROM login_history h JOIN registered_services r ON r.service_id = h.service_id \
             WHERE h.user_id = $1 AND h.outcome = 'success' \
             GROUP BY r.service_id, r.name ORDER BY r.name, r.service_id",
        )
        .bind(user_id.as_str())
        .bind(to_millis(month))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(service_id, name, logins_this_month, last)| {
                Ok(UserServiceUsage {
                    service_id,
                    name,
                    logins_this_month,
                    last_login: from_millis(last)?,
                })
            })
            .collect()
    }
}
