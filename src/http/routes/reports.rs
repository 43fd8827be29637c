//! For admins: `/api/admin/login-history` and `/api/admin/stats`.

use axum::Json;
use axum::extract::State;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::{rfc3339, rfc3339_opt};
use crate::domain::FieldError;
use crate::domain::model::PageRequest;
use crate::domain::reports::{HistoryEntry, HistoryFilter};
use crate::domain::types::UserId;
use crate::domain::validation::Validation;
use crate::http::extract::{AdminAuth, ApiQuery};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::http::views::Paginated;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login_history))
        .routes(routes!(stats))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    user_id: Option<String>,
    service_id: Option<String>,
    /// `success`, or a failure code such as `invalid_pin`.
    outcome: Option<String>,
    /// RFC 3339; attempts at or after.
    from: Option<String>,
    /// RFC 3339; attempts before.
    to: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

fn instant(field: &str, raw: Option<String>) -> Result<Option<Timestamp>, FieldError> {
    raw.filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Timestamp>().map_err(|_| {
                FieldError::new(field, "must be an RFC 3339 time like 2026-11-25T14:00:00Z")
            })
        })
        .transpose()
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

#[derive(Serialize, ToSchema)]
pub struct HistoryView {
    id: i64,
    user_id: Option<String>,
    username: Option<String>,
    service_id: Option<String>,
    service_name: Option<String>,
    #[schema(example = "success")]
    outcome: String,
    login_at: String,
    logout_at: Option<String>,
    ended_reason: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    /// `mobile` or `admin` for a password sign-in (the app's or the
    /// console's and admin API's); absent for a QR login.
    #[schema(example = json!(null))]
    sign_in: Option<String>,
}

impl From<HistoryEntry> for HistoryView {
    fn from(h: HistoryEntry) -> Self {
        Self {
            id: h.id,
            user_id: h.user_id,
            username: h.username,
            service_id: h.service_id,
            service_name: h.service_name,
            outcome: h.outcome,
            login_at: rfc3339(h.login_at),
            logout_at: rfc3339_opt(h.logout_at),
            ended_reason: h.ended_reason,
            ip: h.ip,
            user_agent: h.user_agent,
            sign_in: h.sign_in,
        }
    }
}

/// Every login attempt, newest first.
#[utoipa::path(
    get, path = "/api/admin/login-history", tag = "admin",
    params(HistoryParams),
    security(("admin" = [])),
    responses(
        (status = 200, description = "Attempts", body = Paginated<HistoryView>),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn login_history(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> Result<Json<Paginated<HistoryView>>, ApiError> {
    let mut v = Validation::default();
    let from = v.check(instant("from", params.from));
    let to = v.check(instant("to", params.to));
    let page = v.merge(PageRequest::parse(params.limit, params.cursor.as_deref()))?;
    let (Some(from), Some(to), Some(page)) = (from, to, page) else {
        return Err(v.into_error().into());
    };
    let filter = HistoryFilter {
        user_id: non_empty(params.user_id),
        service_id: non_empty(params.service_id),
        outcome: non_empty(params.outcome),
        from,
        to,
    };
    let entries = state.core.login_history(&filter, &page).await?;
    Ok(Json(Paginated::from_page(entries, HistoryView::from)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Adds that user's per-service usage.
    user_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UserCounts {
    pending: i64,
    active: i64,
    inactive: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceCounts {
    active: i64,
    inactive: i64,
}

#[derive(Serialize, ToSchema)]
pub struct LoginCounts {
    today: i64,
    this_month: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceStats {
    service_id: String,
    name: String,
    logins_this_month: i64,
    active_sessions: i64,
}

#[derive(Serialize, ToSchema)]
pub struct UserServiceStats {
    service_id: String,
    name: String,
    logins_this_month: i64,
    last_login: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserStatsView {
    user_id: String,
    username: String,
    by_service: Vec<UserServiceStats>,
}

#[derive(Serialize, ToSchema)]
pub struct StatsResponse {
    users: UserCounts,
    services: ServiceCounts,
    /// Successful logins; "today" and "this month" in the schedule's time zone.
    logins: LoginCounts,
    by_service: Vec<ServiceStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<UserStatsView>,
}

/// Counts for the dashboard; with `?user_id=` that user's usage per service.
#[utoipa::path(
    get, path = "/api/admin/stats", tag = "admin",
    params(StatsParams),
    security(("admin" = [])),
    responses(
        (status = 200, description = "Statistics", body = StatsResponse),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn stats(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
    ApiQuery(params): ApiQuery<StatsParams>,
) -> Result<Json<StatsResponse>, ApiError> {
    let user_id = non_empty(params.user_id).map(|id| UserId::from_client(&id));
    let stats = state.core.stats(user_id.as_ref()).await?;
    let c = stats.counts;
    Ok(Json(StatsResponse {
        users: UserCounts {
            pending: c.users_pending,
            active: c.users_active,
            inactive: c.users_inactive,
        },
        services: ServiceCounts {
            active: c.services_active,
            inactive: c.services_inactive,
        },
        logins: LoginCounts {
            today: c.logins_today,
            this_month: c.logins_this_month,
        },
        by_service: stats
            .by_service
            .into_iter()
            .map(|s| ServiceStats {
                service_id: s.service_id,
                name: s.name,
                logins_this_month: s.logins_this_month,
                active_sessions: s.active_sessions,
            })
            .collect(),
        user: stats.user.map(|u| UserStatsView {
            user_id: u.user_id.to_string(),
            username: u.username,
            by_service: u
                .by_service
                .into_iter()
                .map(|s| UserServiceStats {
                    service_id: s.service_id,
                    name: s.name,
                    logins_this_month: s.logins_this_month,
                    last_login: rfc3339(s.last_login),
                })
                .collect(),
        }),
    }))
}
