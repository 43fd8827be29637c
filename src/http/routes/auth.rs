//! The login flow of API.md: `/api/auth/qr/*` and `/api/auth/pin/verify`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::{rfc3339, rfc3339_opt};
use crate::domain::FieldError;
use crate::domain::model::ClientInfo;
use crate::domain::secret::{ApiKey, AuthKey, Pin, QrToken};
use crate::domain::text;
use crate::domain::types::ServiceId;
use crate::domain::validation::{Validation, required};
use crate::http::extract::{ApiJson, Caller};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::http::views::SessionUserView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(generate))
        .routes(routes!(status))
        .routes(routes!(scan))
        .routes(routes!(deny))
        .routes(routes!(verify))
}

/// A required string field, bounded so hashing it stays cheap.
fn secret_field(field: &str, value: Option<String>) -> Result<String, FieldError> {
    let value = required(field, value)?;
    if value.is_empty() || value.len() > 512 {
        return Err(FieldError::new(field, "must be 1 to 512 characters"));
    }
    Ok(value)
}

/// Optional text the service reports about its user's browser.
fn reported(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, FieldError> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > max => Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        )),
        other => Ok(other),
    }
}

/// The browser as the service reports it, shown on the phone beside the
/// question "is this you?": held to the rules of text people read, since
/// whoever asked for the QR code chose it (a real browser's User-Agent is
/// plain ASCII and passes).
fn reported_user_agent(value: Option<String>) -> Result<Option<String>, FieldError> {
    let field = "client_user_agent";
    let value = reported(field, value, 1024)?;
    if let Some(ua) = &value {
        if ua.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                "must not contain control characters",
            ));
        }
        text::check_field(field, ua)?;
    }
    Ok(value)
}

fn reported_ip(value: Option<String>) -> Result<Option<String>, FieldError> {
    match reported("client_ip", value, 64)? {
        Some(ip) => ip
            .parse::<std::net::IpAddr>()
            .map(|ip| Some(ip.to_string()))
            .map_err(|_| FieldError::new("client_ip", "must be an IPv4 or IPv6 address")),
        None => Ok(None),
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"service_id": "…", "api_key": "cas_…", "client_ip": "203.0.113.7",
    "client_user_agent": "Mozilla/5.0 (X11; Linux x86_64)"}))]
pub struct GenerateRequest {
    #[schema(required = true, value_type = String)]
    service_id: Option<String>,
    #[schema(required = true, value_type = String)]
    api_key: Option<String>,
    /// The end user's IP address as the service sees it; shown on the phone.
    client_ip: Option<String>,
    /// The end user's browser as the service sees it; shown on the phone.
    client_user_agent: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct GenerateResponse {
    qr_token: String,
    /// What the QR code encodes: the authenticator page with the token.
    qr_payload: String,
    /// Plain base64 PNG: use as `data:image/png;base64,{qr_image}`.
    qr_image: String,
    expires_at: String,
    #[schema(example = 120)]
    expires_in: i64,
}

/// Ask for a QR code to show on the service's login page.
///
/// Only within operating hours: otherwise 503 `system_closed` with
/// `Retry-After` and `opens_at`.
#[utoipa::path(
    post, path = "/api/auth/qr/generate", tag = "login",
    request_body = GenerateRequest,
    responses(
        (status = 201, description = "A new QR code, valid 2 minutes", body = GenerateResponse),
        (status = 401, description = "`invalid_api_key` (unknown service or wrong key)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`service_inactive`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`system_closed`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn generate(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<GenerateRequest>,
) -> Result<(StatusCode, Json<GenerateResponse>), ApiError> {
    let mut v = Validation::default();
    let service_id = v.check(secret_field("service_id", body.service_id));
    let api_key = v.check(secret_field("api_key", body.api_key));
    let ip = v.check(reported_ip(body.client_ip));
    let user_agent = v.check(reported_user_agent(body.client_user_agent));
    let (Some(service_id), Some(api_key), Some(ip), Some(user_agent)) =
        (service_id, api_key, ip, user_agent)
    else {
        return Err(v.into_error().into());
    };
    let requester = ClientInfo { ip, user_agent };
    let issued = state
        .core
        .generate_qr(
            &ServiceId::from_client(&service_id),
            &ApiKey::from_client(api_key),
            &requester,
            &caller,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(GenerateResponse {
            qr_image: issued.png_base64(),
            qr_token: issued.token.expose().to_owned(),
            qr_payload: issued.payload,
            expires_at: rfc3339(issued.expires_at),
            expires_in: issued.expires_in,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct QrTokenRequest {
    #[schema(required = true, value_type = String)]
    qr_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StatusResponse {
    /// `pending`, `scanned`, `verified`, `expired`, `locked` or `denied`.
    #[schema(example = "pending")]
    status: &'static str,
    /// The QR code's expiry while pending, the PIN's once scanned.
    expires_at: String,
}

/// Where a QR code stands, for the service's waiting page.
#[utoipa::path(
    post, path = "/api/auth/qr/status", tag = "login",
    request_body = QrTokenRequest,
    responses(
        (status = 200, description = "Status", body = StatusResponse),
        (status = 404, description = "`qr_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn status(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<QrTokenRequest>,
) -> Result<Json<StatusResponse>, ApiError> {
    let token =
        secret_field("qr_token", body.qr_token).map_err(|e| ApiError::validation(vec![e]))?;
    let (status, expires_at) = state.core.qr_status(&QrToken::from_client(token)).await?;
    Ok(Json(StatusResponse {
        status: status.as_str(),
        expires_at: rfc3339(expires_at),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct DeviceRequest {
    #[schema(required = true, value_type = String)]
    qr_token: Option<String>,
    /// The key from `POST /api/mobile/login`.
    #[schema(required = true, value_type = String)]
    auth_key: Option<String>,
}

impl DeviceRequest {
    fn parse(self) -> Result<(QrToken, AuthKey), ApiError> {
        let mut v = Validation::default();
        let token = v.check(secret_field("qr_token", self.qr_token));
        let key = v.check(secret_field("auth_key", self.auth_key));
        match (token, key) {
            (Some(t), Some(k)) => Ok((QrToken::from_client(t), AuthKey::from_client(k))),
            _ => Err(v.into_error().into()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ServiceSummary {
    service_id: String,
    name: String,
    url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Requester {
    ip: Option<String>,
    user_agent: Option<String>,
    requested_at: Option<String>,
    /// The phone and the requesting browser share an IP address (for IPv6:
    /// the same /64 network, where each device has an address of its own).
    same_network: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ScanResponse {
    #[schema(example = "123456")]
    pin: String,
    expires_at: String,
    #[schema(example = 300)]
    expires_in: i64,
    service: ServiceSummary,
    requester: Requester,
    /// Set when the QR code is shown on Central Auth's own login page (an
    /// OpenID Connect login): the browser's address bar then shows this
    /// address, not the service's.
    #[serde(skip_serializing_if = "Option::is_none")]
    login_page_url: Option<String>,
}

/// The authenticator app scanned a QR code: show who asks, get the PIN.
///
/// Only within operating hours: otherwise 503 `system_closed` with
/// `Retry-After` and `opens_at`.
#[utoipa::path(
    post, path = "/api/auth/qr/scan", tag = "login",
    request_body = DeviceRequest,
    responses(
        (status = 200, description = "The PIN (valid 5 minutes) and who is asking", body = ScanResponse),
        (status = 401, description = "`invalid_auth_key`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`user_inactive` or `service_inactive`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`qr_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`qr_already_scanned` or `qr_denied`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`qr_expired`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`system_closed`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn scan(
    State(state): State<AppState>,
    Caller(phone): Caller,
    ApiJson(body): ApiJson<DeviceRequest>,
) -> Result<Json<ScanResponse>, ApiError> {
    let (token, auth_key) = body.parse()?;
    let scanned = state.core.scan_qr(&token, &auth_key, &phone).await?;
    Ok(Json(ScanResponse {
        pin: scanned.pin.expose().to_owned(),
        expires_at: rfc3339(scanned.pin_expires_at),
        expires_in: scanned.pin_expires_in,
        service: ServiceSummary {
            service_id: scanned.service.service_id.to_string(),
            name: scanned.service.name,
            url: scanned.service.url,
        },
        requester: Requester {
            ip: scanned.requester.ip,
            user_agent: scanned.requester.user_agent,
            requested_at: rfc3339_opt(Some(scanned.requested_at)),
            same_network: scanned.same_network,
        },
        login_page_url: scanned.login_page_url,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct DenyResponse {
    denied: bool,
}

/// "This wasn't me": lock the QR code for good and alert the admins.
#[utoipa::path(
    post, path = "/api/auth/qr/deny", tag = "login",
    request_body = DeviceRequest,
    responses(
        (status = 200, description = "Denied", body = DenyResponse),
        (status = 401, description = "`invalid_auth_key`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`wrong_user`: scanned by someone else", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`qr_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`qr_already_used`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`qr_expired`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn deny(
    State(state): State<AppState>,
    Caller(phone): Caller,
    ApiJson(body): ApiJson<DeviceRequest>,
) -> Result<Json<DenyResponse>, ApiError> {
    let (token, auth_key) = body.parse()?;
    state.core.deny_qr(&token, &auth_key, &phone).await?;
    Ok(Json(DenyResponse { denied: true }))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"qr_token": "…", "pin": "123456", "service_id": "…", "api_key": "cas_…"}))]
pub struct VerifyRequest {
    #[schema(required = true, value_type = String)]
    qr_token: Option<String>,
    #[schema(required = true, value_type = String)]
    pin: Option<String>,
    /// Recommended: with `api_key`, proves the caller generated this QR code.
    service_id: Option<String>,
    api_key: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct VerifyResponse {
    /// A JWT (EdDSA); check it with `validate-session` or the JWKS.
    session_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    session_id: String,
    expires_at: String,
    #[schema(example = 1800)]
    expires_in: i64,
    user: SessionUserView,
    service_id: String,
}

/// Trade QR token + PIN for a 30-minute session.
///
/// Only within operating hours: otherwise 503 `system_closed` with
/// `Retry-After` and `opens_at`.
#[utoipa::path(
    post, path = "/api/auth/pin/verify", tag = "login",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "Logged in", body = VerifyResponse),
        (status = 401, description = "`invalid_api_key`, or `invalid_pin` with `attempts_remaining`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`wrong_service`, `user_inactive` or `service_inactive`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`qr_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`qr_not_scanned`, `qr_already_used` or `qr_denied`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`qr_expired` or `pin_expired`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`: locked after 5 wrong PINs", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`system_closed`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn verify(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<VerifyRequest>,
) -> Result<Json<VerifyResponse>, ApiError> {
    let mut v = Validation::default();
    let token = v.check(secret_field("qr_token", body.qr_token));
    let pin = v.check(required("pin", body.pin).and_then(Pin::parse));
    let credentials = v.check(match (body.service_id, body.api_key) {
        (None, None) => Ok(None),
        (Some(id), Some(key)) => Ok(Some((
            ServiceId::from_client(&id),
            ApiKey::from_client(key),
        ))),
        (Some(_), None) => Err(FieldError::new("api_key", "is required with service_id")),
        (None, Some(_)) => Err(FieldError::new("service_id", "is required with api_key")),
    });
    let (Some(token), Some(pin), Some(credentials)) = (token, pin, credentials) else {
        return Err(v.into_error().into());
    };
    let login = state
        .core
        .verify_pin(
            &QrToken::from_client(token),
            &pin,
            credentials.as_ref().map(|(id, key)| (id, key)),
            &caller,
        )
        .await?;
    Ok(Json(VerifyResponse {
        session_token: login.token.expose().to_owned(),
        token_type: "Bearer",
        session_id: login.session_id,
        expires_at: rfc3339(login.expires_at),
        expires_in: login.expires_in,
        user: SessionUserView {
            user_id: login.user.user_id.to_string(),
            username: login.user.username,
            full_name: login.user.full_name,
            email: login.user.email,
        },
        service_id: login.service_id.to_string(),
    }))
}
