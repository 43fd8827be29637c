//! Operating hours as a service: the stored schedule, the current state, and
//! the gate in front of every login step.
//!
//! The gate runs on every login step, so it keeps the parsed schedule for up
//! to [`SCHEDULE_FRESH_FOR`]: a change made on this instance applies to the
//! next request, one made on another instance within that bound. The admin
//! views always read the stored schedule.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

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

/// How long the gate trusts the schedule it last read.
pub const SCHEDULE_FRESH_FOR: Duration = Duration::from_secs(1);

/// The schedule the gate last read. `generation` counts local changes, so a
/// read that raced with one cannot put the old schedule back.
#[derive(Default)]
pub(crate) struct GateSchedule(Mutex<GateState>);

#[derive(Default)]
struct GateState {
    generation: u64,
    read: Option<(Instant, Schedule)>,
}

impl GateSchedule {
    fn state(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The schedule if read recently, else the generation a new read starts at.
    fn fresh(&self) -> Result<Schedule, u64> {
        let state = self.state();
        match &state.read {
            Some((at, schedule)) if at.elapsed() < SCHEDULE_FRESH_FOR => Ok(schedule.clone()),
            _ => Err(state.generation),
        }
    }

    fn store(&self, generation: u64, schedule: &Schedule) {
        let mut state = self.state();
        if state.generation == generation {
            state.read = Some((Instant::now(), schedule.clone()));
        }
    }

    /// After a local change: the next gate reads the new schedule.
    fn changed(&self) {
        let mut state = self.state();
        state.generation += 1;
        state.read = None;
    }
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
        self.gate_schedule.changed();
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
        let schedule = match self.gate_schedule.fresh() {
            Ok(schedule) => schedule,
            Err(generation) => {
                let schedule = self.schedule().await?;
                self.gate_schedule.store(generation, &schedule);
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
