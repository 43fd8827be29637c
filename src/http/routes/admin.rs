//! Admin sign-in and the registration queue: `/api/admin/login`,
//! `/api/admin/pending`, `/api/admin/approve/{user_id}`, `/api/admin/reject/{user_id}`.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::rfc3339;
use crate::domain::model::PageRequest;
use crate::domain::types::{RejectionReason, UserId};
use crate::http::extract::{AdminAuth, AdminBearer, ApiJson, ApiQuery, Caller, OptionalJson};
use crate::http::problem::{ApiError, Problem};
use crate::http::routes::mobile::CredentialsRequest;
use crate::http::state::AppState;
use crate::http::views::{Paginated, PendingUserView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin_login))
        .routes(routes!(admin_logout))
        .routes(routes!(pending))
        .routes(routes!(approve))
        .routes(routes!(reject))
}

#[derive(Serialize, ToSchema)]
pub struct AdminTokenResponse {
    access_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    #[schema(example = 3600)]
    expires_in: i64,
}

/// Sign in as an admin; use the token as `Authorization: Bearer <token>`.
#[utoipa::path(
    post, path = "/api/admin/login", tag = "admin",
    request_body = CredentialsRequest,
    responses(
        (status = 200, description = "Signed in", body = AdminTokenResponse),
        (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many failed sign-ins for this name or from this address; wait `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn admin_login(
    State(state): State<AppState>,
    Caller(client): Caller,
    ApiJson(body): ApiJson<CredentialsRequest>,
) -> Result<Json<AdminTokenResponse>, ApiError> {
    let (username, password) = body.into_parts();
    let session = state.core.admin_login(&username, password, &client).await?;
    Ok(Json(AdminTokenResponse {
        access_token: session.token.expose().to_owned(),
        token_type: "Bearer",
        expires_in: session.expires_in,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct AdminLogoutResponse {
    #[schema(example = true)]
    logged_out: bool,
}

/// End the presented admin token at once. (Changing an admin's password
/// ends all of that admin's tokens.)
#[utoipa::path(
    post, path = "/api/admin/logout", tag = "admin",
    security(("admin" = [])),
    responses(
        (status = 200, description = "The token no longer works", body = AdminLogoutResponse),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn admin_logout(
    State(state): State<AppState>,
    AdminBearer { admin, token }: AdminBearer,
) -> Result<Json<AdminLogoutResponse>, ApiError> {
    state.core.admin_logout(&token).await?;
    tracing::info!(admin = %admin.username, "admin signed out");
    Ok(Json(AdminLogoutResponse { logged_out: true }))
}

/// `?limit=` (1–500, default 50) and `?cursor=` from the previous page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn parse(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest::parse(self.limit, self.cursor.as_deref())?)
    }
}

/// Registrations waiting for approval, oldest first.
#[utoipa::path(
    get, path = "/api/admin/pending", tag = "admin",
    params(PageParams),
    security(("admin" = [])),
    responses(
        (status = 200, description = "The queue", body = Paginated<PendingUserView>),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (limit or cursor)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn pending(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Paginated<PendingUserView>>, ApiError> {
    let page = state.core.pending_registrations(&params.parse()?).await?;
    Ok(Json(Paginated::from_page(page, PendingUserView::from)))
}

#[derive(Serialize, ToSchema)]
pub struct ApprovedResponse {
    user_id: String,
    #[schema(example = "active")]
    status: &'static str,
    approved_at: String,
}

/// Approve a registration: the user becomes active with the same `user_id`.
#[utoipa::path(
    post, path = "/api/admin/approve/{user_id}", tag = "admin",
    params(("user_id" = String, Path, description = "The pending user's id")),
    security(("admin" = [])),
    responses(
        (status = 200, description = "Approved", body = ApprovedResponse),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_pending`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn approve(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(user_id): Path<String>,
) -> Result<Json<ApprovedResponse>, ApiError> {
    let user = state
        .core
        .approve(&UserId::from_client(&user_id), &admin)
        .await?;
    Ok(Json(ApprovedResponse {
        user_id: user.user_id.to_string(),
        status: "active",
        approved_at: rfc3339(user.approved_at),
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"reason": "Unknown applicant"}))]
pub struct RejectRequest {
    /// Told to the applicant by email. Up to 1000 characters, without
    /// text-direction controls, invisible or unassigned characters.
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RejectedResponse {
    user_id: String,
    #[schema(example = "rejected")]
    status: &'static str,
}

/// Reject a registration; the body (with an optional reason) may be omitted.
#[utoipa::path(
    post, path = "/api/admin/reject/{user_id}", tag = "admin",
    params(("user_id" = String, Path, description = "The pending user's id")),
    request_body(content = Option<RejectRequest>),
    security(("admin" = [])),
    responses(
        (status = 200, description = "Rejected", body = RejectedResponse),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`user_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_pending`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (reason too long, or with a text-direction, invisible or unassigned character)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn reject(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(user_id): Path<String>,
    OptionalJson(body): OptionalJson<RejectRequest>,
) -> Result<Json<RejectedResponse>, ApiError> {
    let reason = body.and_then(|b| b.reason);
    let reason = RejectionReason::parse_optional(reason.as_deref())
        .map_err(|e| ApiError::validation(vec![e]))?;
    let user = state
        .core
        .reject(&UserId::from_client(&user_id), reason, &admin)
        .await?;
    Ok(Json(RejectedResponse {
        user_id: user.user_id.to_string(),
        status: "rejected",
    }))
}
