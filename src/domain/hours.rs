//! Operating hours as a service: the stored schedule, the current state, and
//! the gate in front of every login step.
//!
//! The gate runs on every login step, so it reads the schedule storage keeps
//! for up to `FRESH_FOR` (1 s): a change made on this instance applies to
//! the next request, one made on another instance within that bound. The
//! admin views always read the stored schedule.

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
        // Seeded at start-up; absent only if someone deleted the row.
        let stored = self.db.load_schedule().await?;
        Ok(stored.unwrap_or_else(Schedule::always_open_utc))
    }

    /// Stores the schedule from configuration on first start only: once an
    /// admin has changed it, the database is the truth.
    pub async fn seed_schedule(&self, initial: &ScheduleInput) -> Result<(), DomainError> {
        Ok(self.db.seed_schedule(initial, self.now()).await?)
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
        let schedule = self
            .db
            .cached_schedule()
            .await?
            .unwrap_or_else(Schedule::always_open_utc);
        let now = self.now();
        let state = schedule.state_at(now);
        if state.open {
            Ok(())
        } else {
            let opens_at = state.next_change;
            let retry_after = opens_at.map(|t| {
                let secs = t.duration_since(now).as_secs_f64().ceil();
                (secs as i64).max(1)
            });
            Err(DomainError::SystemClosed {
                opens_at,
                retry_after,
            })
        }
    }
}
