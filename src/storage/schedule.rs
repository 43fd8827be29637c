//! The operating-hours row (`system_schedule`, id = 1), and the copy of it
//! the login gate reads (see the caching rule in `storage`).

use jiff::Timestamp;

use super::{Database, StorageError, to_millis};
use crate::domain::schedule::{Schedule, ScheduleInput};
use crate::domain::types::AdminId;

/// The one key of the schedule cache.
const SCHEDULE_KEY: &str = "schedule";

type ScheduleRow = (i64, String, String, String, String);

fn to_input((enabled, timezone, opening_time, closing_time, days): ScheduleRow) -> ScheduleInput {
    ScheduleInput {
        enabled: enabled != 0,
        timezone,
        opening_time,
        closing_time,
        days: days
            .split(',')
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

impl Database {
    /// Writes the schedule from configuration on first start only: once an
    /// admin has changed it, the database is the truth.
    pub async fn seed_schedule(
        &self,
        initial: &ScheduleInput,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let insert = sqlx::query(
            "INSERT INTO system_schedule (id, enabled, timezone, opening_time, closing_time, days, updated_at) \
             VALUES (1, $1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(i64::from(initial.enabled))
        .bind(initial.timezone.clone())
        .bind(initial.opening_time.clone())
        .bind(initial.closing_time.clone())
        .bind(initial.days.join(","))
        .bind(to_millis(now));
        self.write(|writer| async move { Ok(insert.execute(&writer).await.map(|_| ())?) })
            .await
    }

    /// The stored schedule, read now. `None` only if someone deleted the
    /// row that start-up seeds.
    pub async fn load_schedule(&self) -> Result<Option<Schedule>, StorageError> {
        let row: Option<ScheduleRow> = sqlx::query_as(
            "SELECT enabled, timezone, opening_time, closing_time, days FROM system_schedule WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Schedule::parse(&to_input(row)).map_err(|errors| {
                StorageError::Corrupt(format!("stored schedule is invalid: {errors:?}"))
            })
        })
        .transpose()
    }

    /// The schedule as read within the last `FRESH_FOR`, for the login
    /// gate that runs on every login step.
    pub async fn cached_schedule(&self) -> Result<Option<Schedule>, StorageError> {
        if let Some(schedule) = self.schedule.get(SCHEDULE_KEY) {
            return Ok(Some(schedule));
        }
        let ticket = self.schedule.begin_read();
        let schedule = self.load_schedule().await?;
        if let Some(schedule) = &schedule {
            self.schedule.store(ticket, SCHEDULE_KEY, schedule);
        }
        Ok(schedule)
    }

    pub async fn save_schedule(
        &self,
        schedule: &ScheduleInput,
        admin: &AdminId,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let upsert = sqlx::query(
            "INSERT INTO system_schedule (id, enabled, timezone, opening_time, closing_time, days, updated_at, updated_by) \
             VALUES (1, $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
             enabled = excluded.enabled, timezone = excluded.timezone, opening_time = excluded.opening_time, \
             closing_time = excluded.closing_time, days = excluded.days, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by",
        )
        .bind(i64::from(schedule.enabled))
        .bind(schedule.timezone.clone())
        .bind(schedule.opening_time.clone())
        .bind(schedule.closing_time.clone())
        .bind(schedule.days.join(","))
        .bind(to_millis(now))
        .bind(admin.as_str().to_owned());
        let saved = self
            .write(|writer| async move { Ok(upsert.execute(&writer).await.map(|_| ())?) })
            .await;
        self.schedule.forget_all();
        saved
    }
}
