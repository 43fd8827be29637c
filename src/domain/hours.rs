//! Operating hours as a service: the stored schedule, the current state, and
//! the gate in front of every login step.
//!
//! The gate runs on every login step, so it keeps the parsed schedule for up
//! to `FRESH_FOR` (1 s, `crate::fresh_cache`): a change made on this instance
//! applies to the next request, one made on another instance within that
//! bound. The admin views always read the stored schedule.

use jiff::Timestamp;

use crate::domain::model::Admin;
use crate::domain::schedule::{Schedule, ScheduleInput, ScheduleState};
use crate::domain::{Core, DomainError};
use crate::fresh_cache::FreshCache;

/// Whether logins are allowed now, and when that changes.
#[derive(Debug, Clone)]
pub struct SystemStatus {
    pub now: Timestamp,
    pub schedule: Schedule,
    pub state: ScheduleState,
}

/// The schedule as the login gate last read it, under this one key.
pub(crate) type GateSchedule = FreshCache<Schedule>;
const GATE_KEY: &str = "schedule";

pub(crate) fn gate_schedule() -> GateSchedule {
    FreshCache::new(1)
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
        let saved = self
            .db
            .save_schedule(&schedule.to_input(), &admin.admin_id, self.now())
            .await;
        self.gate_schedule.forget_all();
        saved?;
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
        let schedule = match self.gate_schedule.get(GATE_KEY) {
            Some(schedule) => schedule,
            None => {
                let ticket = self.gate_schedule.begin_read();
                let schedule = self.schedule().await?;
                self.gate_schedule.store(ticket, GATE_KEY, &schedule);
                schedule
            }
        };
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
