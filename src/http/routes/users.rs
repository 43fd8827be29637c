//! Approved users for admins: `/api/admin/users`, deactivate and activate.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::FieldError;
use crate::domain::groups::GroupName;
use crate::domain::model::{AccountStatus, PageRequest};
use crate::domain::types::UserId;
use crate::http::extract::{AdminAuth, ApiJson, ApiQuery};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::http::views::{Paginated, UserView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(deactivate_user))
        .routes(routes!(activate_user))
        .routes(routes!(get_user_groups, put_user_groups))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"groups": ["admins", "ops"]}))]
pub struct UserGroupsRequest {
    /// The whole list (it replaces the old one): each 1–64 lowercase
    /// letters, digits, `-`, `_` or `.`; at most 50.
    #[schema(required = true)]
    groups: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct UserGroupsResponse {
    user_id: String,
    /// Sorted, each once: the OIDC `groups` claim.
    groups: Vec<String>,
}

/// The groups a user is in: what OpenID Connect apps read in the `groups` claim.
#[utoipa::path(
    get, path = "/api/admin/users/{user_id}/groups", tag = "admin",
    params(("user_id" = String, Path)),
    security(("admin" = [])),
    responses(
        (status = 200, description = "The user's groups", body = UserGroupsResponse),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_user_groups(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
    Path(user_id): Path<String>,
) -> Result<Json<UserGroupsResponse>, ApiError> {
    let groups = state
        .core
        .user_groups(&UserId::from_client(&user_id))
        .await?;
    Ok(Json(UserGroupsResponse { user_id, groups }))
}

/// Replace the groups a user is in (e.g. `admins`, which docs/oidc.md maps to app roles).
#[utoipa::path(
    put, path = "/api/admin/users/{user_id}/groups", tag = "admin",
    params(("user_id" = String, Path)),
    request_body = UserGroupsRequest,
    security(("admin" = [])),
    responses(
        (status = 200, description = "The user's groups now", body = UserGroupsResponse),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn put_user_groups(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(user_id): Path<String>,
    ApiJson(body): ApiJson<UserGroupsRequest>,
) -> Result<Json<UserGroupsResponse>, ApiError> {
    let Some(raw) = body.groups else {
        return Err(ApiError::validation(vec![FieldError::new(
            "groups",
            "is required",
        )]));
    };
    let groups = GroupName::parse_list(&raw)?;
    let groups = state
        .core
        .set_user_groups(&UserId::from_client(&user_id), groups, &admin)
        .await?;
    Ok(Json(UserGroupsResponse { user_id, groups }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListParams {
    /// `active` or `inactive`; both when absent.
    status: Option<String>,
    /// Text found in the username, email or full name (any case).
    q: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Approved users, by username.
#[utoipa::path(
    get, path = "/api/admin/users", tag = "admin",
    params(UserListParams),
    security(("admin" = [])),
    responses(
        (status = 200, description = "Users", body = Paginated<UserView>),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_users(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
    ApiQuery(params): ApiQuery<UserListParams>,
) -> Result<Json<Paginated<UserView>>, ApiError> {
    let status = match params.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some("active") => Some(AccountStatus::Active),
        Some("inactive") => Some(AccountStatus::Inactive),
        Some(_) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "status",
                "must be active or inactive",
            )]));
        }
    };
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    let users = state.core.users(status, params.q.as_deref(), &page).await?;
    Ok(Json(Paginated::from_page(users, UserView::from)))
}

/// Deactivate a user: their live sessions end at once, for good.
#[utoipa::path(
    post, path = "/api/admin/users/{user_id}/deactivate", tag = "admin",
    params(("user_id" = String, Path)),
    security(("admin" = [])),
    responses(
        (status = 200, description = "The user, now inactive", body = UserView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn deactivate_user(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(user_id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user = state
        .core
        .deactivate_user(&UserId::from_client(&user_id), &admin)
        .await?;
    Ok(Json(user.into()))
}

/// Activate a user again (ended sessions stay ended).
#[utoipa::path(
    post, path = "/api/admin/users/{user_id}/activate", tag = "admin",
    params(("user_id" = String, Path)),
    security(("admin" = [])),
    responses(
        (status = 200, description = "The user, now active", body = UserView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn activate_user(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(user_id): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let user = state
        .core
        .activate_user(&UserId::from_client(&user_id), &admin)
        .await?;
    Ok(Json(user.into()))
}
