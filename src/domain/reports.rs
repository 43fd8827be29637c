//! What admins read: the audit trail of login attempts and the statistics.
//! "Today" and "this month" are in the operating hours' time zone.

use jiff::{Timestamp, ZonedDateTime};

use crate::domain::model::{OutboxEntry, Page, PageRequest};
use crate::domain::types::UserId;
use crate::domain::{Core, DomainError};

/// One row of the audit trail, with names joined in.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub id: i64,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub service_id: Option<String>,
    pub service_name: Option<String>,
    pub outcome: String,
    pub login_at: Timestamp,
    pub logout_at: Option<Timestamp>,
    pub ended_reason: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// A password sign-in (`mobile`, `admin`) rather than a QR login.
    pub sign_in: Option<String>,
}

/// Filters of the history list; all optional.
#[derive(Debug, Default)]
pub struct HistoryFilter {
    pub user_id: Option<String>,
    pub service_id: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// Counts for the admin dashboard.
#[derive(Debug, Clone)]
pub struct Counts {
    pub users_pending: i64,
    pub users_active: i64,
    pub users_inactive: i64,
    pub services_active: i64,
    pub services_inactive: i64,
    pub logins_today: i64,
    pub logins_this_month: i64,
}

#[derive(Debug, Clone)]
pub struct ServiceUsage {
    pub service_id: String,
    pub name: String,
    pub logins_this_month: i64,
    pub active_sessions: i64,
}

#[derive(Debug, Clone)]
pub struct UserServiceUsage {
    pub service_id: String,
    pub name: String,
    pub logins_this_month: i64,
    pub last_login: Timestamp,
}

/// Logins per day and service: the local dates, and each service's counts
/// by day (services without a login in the period are left out).
#[derive(Debug)]
pub struct DailyLogins {
    pub days: Vec<String>,
    pub series: Vec<(String, Vec<i64>)>,
}

/// The dashboard numbers, and one user's usage when asked for.
#[derive(Debug)]
pub struct Stats {
    pub counts: Counts,
    pub by_service: Vec<ServiceUsage>,
    pub user: Option<UserStats>,
}

#[derive(Debug)]
pub struct UserStats {
    pub user_id: UserId,
    pub username: String,
    pub by_service: Vec<UserServiceUsage>,
}

/// The starts of the local day and month that contain `now`.
fn day_and_month_start(now: &ZonedDateTime) -> Result<(Timestamp, Timestamp), DomainError> {
    let today = now.start_of_day().map_err(DomainError::internal)?;
    let month = now
        .date()
        .first_of_month()
        .to_zoned_datetime(now.time_zone().clone())
        .map_err(DomainError::internal)?
        .start_of_day()
        .map_err(DomainError::internal)?;
    Ok((today.timestamp(), month.timestamp()))
}

impl Core {
    pub async fn login_history(
        &self,
        filter: &HistoryFilter,
        page: &PageRequest,
    ) -> Result<Page<HistoryEntry>, DomainError> {
        Ok(self.db.list_history(filter, page).await?)
    }

    /// Successful logins per local day and service over the last `days` days
    /// (today included), in the operating hours' time zone.
    pub async fn daily_logins(&self, days: usize) -> Result<DailyLogins, DomainError> {
        let schedule = self.schedule().await?;
        let today = self
            .now()
            .to_zoned_datetime(schedule.time_zone().clone())
            .date();
        let span = i64::try_from(days.max(1)).map_err(DomainError::internal)?;
        let first = today
            .checked_sub(jiff::Span::new().days(span - 1))
            .map_err(DomainError::internal)?;
        let start = first
            .to_zoned_datetime(schedule.time_zone().clone())
            .map_err(DomainError::internal)?
            .timestamp();
        let mut dates = Vec::with_capacity(days);
        let mut date = first;
        for _ in 0..days.max(1) {
            dates.push(date.to_string());
            date = date.tomorrow().map_err(DomainError::internal)?;
        }
        let names: std::collections::HashMap<String, String> = self
            .db
            .service_usage(start, self.now())
            .await?
            .into_iter()
            .map(|s| (s.service_id, s.name))
            .collect();
        let mut series: Vec<(String, String, Vec<i64>)> = Vec::new();
        for (service_id, day, count) in self.db.daily_logins(start).await? {
            let Ok(day) = usize::try_from(day) else {
                continue;
            };
            if day >= dates.len() {
                continue;
            }
            let at = match series.iter().position(|(id, _, _)| *id == service_id) {
                Some(at) => at,
                None => {
                    let name = names
                        .get(&service_id)
                        .cloned()
                        .unwrap_or_else(|| service_id.clone());
                    series.push((service_id, name, vec![0; dates.len()]));
                    series.len() - 1
                }
            };
            if let Some(slot) = series.get_mut(at).and_then(|s| s.2.get_mut(day)) {
                *slot += count;
            }
        }
        series.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(DailyLogins {
            days: dates,
            series: series
                .into_iter()
                .map(|(_, name, counts)| (name, counts))
                .collect(),
        })
    }

    /// The email outbox, newest first.
    pub async fn outbox(
        &self,
        status: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<OutboxEntry>, DomainError> {
        Ok(self.db.list_outbox(status, page).await?)
    }

    pub async fn stats(&self, user_id: Option<&UserId>) -> Result<Stats, DomainError> {
        let schedule = self.schedule().await?;
        let now = self.now();
        let local = now.to_zoned_datetime(schedule.time_zone().clone());
        let (today, month) = day_and_month_start(&local)?;
        let counts = self.db.counts(today, month).await?;
        let by_service = self.db.service_usage(month, now).await?;
        let user = match user_id {
            None => None,
            Some(id) => {
                let user = self
                    .db
                    .find_user(id)
                    .await?
                    .ok_or(DomainError::UserNotFound)?;
                let by_service = self.db.user_service_usage(id, month).await?;
                Some(UserStats {
                    user_id: user.user_id,
                    username: user.username,
                    by_service,
                })
            }
        };
        Ok(Stats {
            counts,
            by_service,
            user,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_and_month_start_in_the_local_zone() {
        let now: Timestamp = "2026-11-01T03:30:00Z".parse().unwrap();
        // In New York it is still 31 October.
        let local = now.to_zoned_datetime(jiff::tz::TimeZone::get("America/New_York").unwrap());
        let (day, month) = day_and_month_start(&local).unwrap();
        assert_eq!(day.to_string(), "2026-10-31T04:00:00Z");
        assert_eq!(month.to_string(), "2026-10-01T04:00:00Z");
    }
}
