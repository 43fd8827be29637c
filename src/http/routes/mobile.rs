//! `POST /api/mobile/login`: the authenticator app enrols a device.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::secret::Password;
use crate::http::extract::{ApiJson, Caller};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(mobile_login))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"username": "john", "password": "correct horse battery"}))]
pub struct CredentialsRequest {
    /// Compared after NFKC normalisation and case folding: fullwidth
    /// `ｊｏｈｎ` is `john`.
    #[schema(required = true, value_type = String)]
    #[serde(default)]
    pub username: Option<String>,
    /// Compared in its NFKC form, so any Unicode form of the password (a
    /// composed or a decomposed "é") signs in. Not held to the rules for a
    /// new password: one set before them keeps working.
    #[schema(required = true, value_type = String)]
    #[serde(default)]
    pub password: Option<String>,
}

impl CredentialsRequest {
    /// Missing fields sign in as nobody: the answer stays the uniform
    /// `invalid_credentials`, never a hint about which part was wrong.
    pub fn into_parts(self) -> (String, Option<Password>) {
        (
            self.username.unwrap_or_default(),
            self.password.and_then(Password::offered),
        )
    }
}

#[derive(Serialize, ToSchema)]
pub struct EnrolmentResponse {
    user_id: String,
    /// Keep this on the device; it authorises scans. Issuing it revokes the
    /// previous one.
    #[schema(example = "0f8fad5b-d9cb-469f-a165-70867728950e")]
    auth_key: String,
    username: String,
    full_name: String,
}

/// Sign in on the authenticator app and receive the user's `auth_key`.
///
/// Only within operating hours: otherwise 503 `system_closed` with
/// `Retry-After` and `opens_at`.
#[utoipa::path(
    post, path = "/api/mobile/login", tag = "mobile",
    request_body = CredentialsRequest,
    responses(
        (status = 200, description = "Device enrolled", body = EnrolmentResponse),
        (status = 401, description = "`invalid_credentials`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`user_pending`, `user_rejected` or `user_inactive`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many failed sign-ins for this name or from this address; wait `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`system_closed` outside operating hours", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn mobile_login(
    State(state): State<AppState>,
    Caller(device): Caller,
    ApiJson(body): ApiJson<CredentialsRequest>,
) -> Result<Json<EnrolmentResponse>, ApiError> {
    state.core.ensure_open().await?;
    let (username, password) = body.into_parts();
    let enrolment = state
        .core
        .enrol_device(&username, password, &device)
        .await?;
    Ok(Json(EnrolmentResponse {
        user_id: enrolment.user.user_id.to_string(),
        auth_key: enrolment.auth_key.expose().to_owned(),
        username: enrolment.user.username,
        full_name: enrolment.user.full_name,
    }))
}
