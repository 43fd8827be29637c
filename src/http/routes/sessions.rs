//! Sessions for services: `/api/auth/validate-session` and `/api/auth/logout`.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::rfc3339;
use crate::domain::secret::SessionToken;
use crate::domain::types::ServiceId;
use crate::domain::validation::required;
use crate::http::extract::ApiJson;
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::http::views::SessionUserView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(validate_session))
        .routes(routes!(logout))
}

#[derive(Deserialize, ToSchema)]
pub struct ValidateRequest {
    #[schema(required = true, value_type = String)]
    session_token: Option<String>,
    /// When given, a token issued for another service is `wrong_service`.
    service_id: Option<String>,
}

/// `valid: true` with the renewed session, or `valid: false` with a reason.
#[derive(Serialize, ToSchema)]
pub struct ValidateResponse {
    valid: bool,
    /// With `valid: false`: `expired`, `logged_out`, `revoked`,
    /// `user_inactive`, `service_inactive`, `wrong_service` or `invalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<SessionUserView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_id: Option<String>,
    /// The same or a fresh JWT, good until `expires_at`.
    #[serde(skip_serializing_if = "Option::is_none")]
    session_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<i64>,
}

/// Is this session still good? A valid answer renews it for 30 minutes (at
/// most 12 hours after login). A malformed token is `valid: false`, not an error.
#[utoipa::path(
    post, path = "/api/auth/validate-session", tag = "sessions",
    request_body = ValidateRequest,
    responses(
        (status = 200, description = "The verdict", body = ValidateResponse),
        (status = 422, description = "`validation_failed`: no token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn validate_session(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ValidateRequest>,
) -> Result<Json<ValidateResponse>, ApiError> {
    let token =
        required("session_token", body.session_token).map_err(|e| ApiError::validation(vec![e]))?;
    let for_service = body.service_id.as_deref().map(ServiceId::from_client);
    let verdict = state
        .core
        .validate_session(&SessionToken::new(token), for_service.as_ref())
        .await?;
    Ok(Json(match verdict {
        Ok(session) => ValidateResponse {
            valid: true,
            reason: None,
            session_id: Some(session.session_id),
            user: Some(SessionUserView {
                user_id: session.user.user_id,
                username: session.user.username,
                full_name: session.user.full_name,
                email: session.user.email,
            }),
            service_id: Some(session.service_id.to_string()),
            session_token: Some(session.token.expose().to_owned()),
            expires_at: Some(rfc3339(session.expires_at)),
            expires_in: Some(session.expires_in),
        },
        Err(reason) => ValidateResponse {
            valid: false,
            reason: Some(reason.as_str()),
            session_id: None,
            user: None,
            service_id: None,
            session_token: None,
            expires_at: None,
            expires_in: None,
        },
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct LogoutRequest {
    #[schema(required = true, value_type = String)]
    session_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LogoutResponse {
    logged_out: bool,
    session_id: String,
}

/// End the session; every token of it is invalid from now on. Idempotent.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "sessions",
    request_body = LogoutRequest,
    responses(
        (status = 200, description = "Logged out (or already ended)", body = LogoutResponse),
        (status = 401, description = "`invalid_token`: malformed or not signed by this server", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: no token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn logout(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LogoutRequest>,
) -> Result<Json<LogoutResponse>, ApiError> {
    let token =
        required("session_token", body.session_token).map_err(|e| ApiError::validation(vec![e]))?;
    let session_id = state.core.logout(&SessionToken::new(token)).await?;
    Ok(Json(LogoutResponse {
        logged_out: true,
        session_id,
    }))
}
