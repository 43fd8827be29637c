//! Operating hours: the public status and the admin's schedule editor.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::{rfc3339, rfc3339_opt};
use crate::domain::schedule::{Schedule, ScheduleInput};
use crate::http::extract::{AdminAuth, ApiJson};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(system_status))
        .routes(routes!(get_schedule, put_schedule))
}

/// When logins are allowed. `days` names the days on which a window opens;
/// a closing time before the opening time runs past midnight; equal times
/// mean 24 hours; `enabled: false` means always open.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"enabled": true, "timezone": "Europe/Berlin", "opening_time": "08:00",
    "closing_time": "18:00", "days": ["mon", "tue", "wed", "thu", "fri"]}))]
pub struct ScheduleBody {
    enabled: bool,
    /// An IANA time zone name.
    timezone: String,
    /// `HH:MM`, 24-hour.
    opening_time: String,
    /// `HH:MM`, 24-hour.
    closing_time: String,
    /// Any of `mon tue wed thu fri sat sun`.
    days: Vec<String>,
}

impl From<&Schedule> for ScheduleBody {
    fn from(s: &Schedule) -> Self {
        let input = s.to_input();
        Self {
            enabled: input.enabled,
            timezone: input.timezone,
            opening_time: input.opening_time,
            closing_time: input.closing_time,
            days: input.days,
        }
    }
}

impl From<ScheduleBody> for ScheduleInput {
    fn from(b: ScheduleBody) -> Self {
        ScheduleInput {
            enabled: b.enabled,
            timezone: b.timezone,
            opening_time: b.opening_time,
            closing_time: b.closing_time,
            days: b.days,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SystemStatusResponse {
    /// Whether logins are allowed now.
    open: bool,
    now: String,
    #[schema(example = "Europe/Berlin")]
    timezone: String,
    schedule: ScheduleBody,
    /// When `open` changes next; null when it never does.
    next_change_at: Option<String>,
}

/// Whether logins are open now, and when that changes.
#[utoipa::path(
    get, path = "/api/system/status", tag = "system",
    responses((status = 200, description = "Current state", body = SystemStatusResponse))
)]
async fn system_status(
    State(state): State<AppState>,
) -> Result<Json<SystemStatusResponse>, ApiError> {
    let status = state.core.system_status().await?;
    Ok(Json(SystemStatusResponse {
        open: status.state.open,
        now: rfc3339(status.now),
        timezone: status.schedule.timezone_name().to_owned(),
        schedule: ScheduleBody::from(&status.schedule),
        next_change_at: rfc3339_opt(status.state.next_change),
    }))
}

/// The operating hours.
#[utoipa::path(
    get, path = "/api/admin/schedule", tag = "admin",
    security(("admin" = [])),
    responses(
        (status = 200, description = "The schedule", body = ScheduleBody),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_schedule(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
) -> Result<Json<ScheduleBody>, ApiError> {
    let schedule = state.core.schedule().await?;
    Ok(Json(ScheduleBody::from(&schedule)))
}

/// Replace the operating hours (the whole object).
#[utoipa::path(
    put, path = "/api/admin/schedule", tag = "admin",
    request_body = ScheduleBody,
    security(("admin" = [])),
    responses(
        (status = 200, description = "The new schedule", body = ScheduleBody),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: unknown time zone, malformed time or day", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn put_schedule(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<Json<ScheduleBody>, ApiError> {
    let schedule = state.core.set_schedule(&body.into(), &admin).await?;
    Ok(Json(ScheduleBody::from(&schedule)))
}
