//! Operating hours as a service: the stored schedule, the current state, and
//! the gate in front of every login step. The schedule is read from the
//! database on each check, so every instance sees an admin's change at once.

use jiff::Timestamp;

use crate::domain::model::Admin;
use crate::domain::schedule::{Schedule, ScheduleInput, ScheduleState};
use crate::domain::{Core, DomainError};

/// Whether logins are allowed now, and when that changes.
#[derive(Debug, Clone)]
pub struct SystemStatus {
    pub now: Timestamp,
    pub schedule: Schedule,
    pub state: ScheduleState,
}

impl Core {
    pub async fn schedule(&self) -> Result<Schedule, DomainError> {
        let Some(stored) = self.db.load_schedule().await? else {
            // Seeded at start-up; absent only if someone deleted the row.
            return Ok(Schedule::always_open_utc());
        };
        Schedule::parse(&stored).map_err(|errors| {
            DomainError::Internal(format!("stored schedule is invalid: {errors:?}"))
        })
    }

    /// Replaces the whole schedule.
    pub async fn set_schedule(
        &self,
        input: &ScheduleInput,
        admin: &Admin,
    ) -> Result<Schedule, DomainError> {
        let schedule = Schedule::parse(input).map_err(DomainError::Validation)?;
        self.db
            .save_schedule(&schedule.to_input(), &admin.admin_id, self.now())
            .await?;
        tracing::info!(admin = %admin.username, ?schedule, "operating hours changed");
        Ok(schedule)
    }

    pub async fn system_status(&self) -> Result<SystemStatus, DomainError> {
        let schedule = self.schedule().await?;
        let now = self.now();
        let state = schedule.state_at(now);
        Ok(SystemStatus {
            now,
            schedule,
            state,
        })
    }

    /// The gate of the login routes: `SystemClosed` with the next opening
    /// outside operating hours.
    pub async fn ensure_open(&self) -> Result<(), DomainError> {
        let status = self.system_status().await?;
        if status.state.open {
            Ok(())
        } else {
            let opens_at = status.state.next_change;
            let retry_after = opens_at.map(|t| {
                let secs = t.duration_since(status.now).as_secs_f64().ceil();
                (secs as i64).max(1)
            });
            Err(DomainError::SystemClosed {
                opens_at,
                retry_after,
            })
        }
    }
}
