//! Every failure the server answers is an RFC 9457 problem document with a
//! stable `code`. This is the one place that decides status and code: an
//! exhaustive match, so a new error cannot slip out as a bare 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{DomainError, FieldError};
use crate::http::time::rfc3339;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document. Clients switch on `code`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[schema(example = "urn:central-auth:problem:validation_failed")]
    pub r#type: String,
    #[schema(example = "Validation failed")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    pub detail: String,
    #[schema(example = "validation_failed")]
    pub code: String,
    /// Field errors of a 422 `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Next opening of a 503 `system_closed` (null when closed indefinitely).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<Option<String>>,
}

/// Errors of the HTTP edge: the domain's, plus those that arise before a
/// request reaches it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("request body over 64 KiB")]
    PayloadTooLarge,
    #[error("expected a JSON body (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn validation(errors: Vec<FieldError>) -> Self {
        ApiError::Domain(DomainError::Validation(errors))
    }
}

struct Shape {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
}

const fn shape(status: StatusCode, code: &'static str, title: &'static str) -> Shape {
    Shape {
        status,
        code,
        title,
    }
}

fn shape_of(err: &ApiError) -> Shape {
    use DomainError as D;
    use StatusCode as S;
    match err {
        ApiError::Domain(d) => match d {
            D::Validation(_) => shape(
                S::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Validation failed",
            ),
            D::EmailTaken => shape(S::CONFLICT, "email_taken", "Email already registered"),
            D::UsernameTaken => shape(S::CONFLICT, "username_taken", "Username already taken"),
            D::InvalidCredentials => shape(
                S::UNAUTHORIZED,
                "invalid_credentials",
                "Invalid credentials",
            ),
            D::Unauthorized => shape(S::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            D::UserNotFound => shape(S::NOT_FOUND, "user_not_found", "User not found"),
            D::NotPending => shape(S::CONFLICT, "not_pending", "Registration is not pending"),
            D::UserPending => shape(S::FORBIDDEN, "user_pending", "Registration pending"),
            D::UserRejected => shape(S::FORBIDDEN, "user_rejected", "Registration rejected"),
            D::UserInactive => shape(S::FORBIDDEN, "user_inactive", "User inactive"),
            D::ServiceNameTaken => shape(S::CONFLICT, "service_name_taken", "Service name taken"),
            D::ServiceNotFound => shape(S::NOT_FOUND, "service_not_found", "Service not found"),
            D::InvalidApiKey => shape(S::UNAUTHORIZED, "invalid_api_key", "Invalid API key"),
            D::SystemClosed { .. } => shape(
                S::SERVICE_UNAVAILABLE,
                "system_closed",
                "Outside operating hours",
            ),
            D::Unavailable => shape(
                S::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "Service unavailable",
            ),
            D::Internal(_) => shape(
                S::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Internal server error",
            ),
        },
        ApiError::MalformedJson(_) => shape(S::BAD_REQUEST, "malformed_json", "Malformed JSON"),
        ApiError::PayloadTooLarge => shape(
            S::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Payload too large",
        ),
        ApiError::UnsupportedMediaType => shape(
            S::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
        ),
        ApiError::RouteNotFound => shape(S::NOT_FOUND, "not_found", "Not found"),
        ApiError::MethodNotAllowed => shape(
            S::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
        ),
        ApiError::Internal(_) => shape(
            S::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal server error",
        ),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let shape = shape_of(&self);
        // Internal detail goes to the log, never to the client.
        let detail = match &self {
            ApiError::Domain(DomainError::Internal(detail)) | ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                "The server failed to handle the request; the error has been logged.".to_owned()
            }
            ApiError::Domain(DomainError::Unavailable) => {
                tracing::warn!("database unavailable");
                "The database is unavailable; try again shortly.".to_owned()
            }
            other => other.to_string(),
        };
        let mut problem = Problem {
            r#type: format!("urn:central-auth:problem:{}", shape.code),
            title: shape.title.to_owned(),
            status: shape.status.as_u16(),
            detail,
            code: shape.code.to_owned(),
            errors: None,
            opens_at: None,
        };
        let mut retry_after = None;
        match self {
            ApiError::Domain(DomainError::Validation(errors)) => problem.errors = Some(errors),
            ApiError::Domain(DomainError::SystemClosed {
                opens_at,
                retry_after: secs,
            }) => {
                problem.opens_at = Some(opens_at.map(rfc3339));
                retry_after = secs;
            }
            ApiError::Domain(DomainError::Unavailable) => retry_after = Some(5),
            _ => {}
        }
        let mut response = problem_response(shape.status, &problem);
        let headers = response.headers_mut();
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if shape.status == StatusCode::UNAUTHORIZED && shape.code == "unauthorized" {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Serialises a problem with its content type.
pub fn problem_response(status: StatusCode, problem: &impl Serialize) -> Response {
    let body = serde_json::to_vec(problem).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
        body,
    )
        .into_response()
}

/// A problem document for a status produced outside our handlers (axum's
/// own 405, a layer's 413 or 408), so no error leaves without one.
pub fn problem_for_status(status: StatusCode) -> Response {
    let err = match status {
        StatusCode::NOT_FOUND => ApiError::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        other => {
            let code = other
                .canonical_reason()
                .unwrap_or("error")
                .to_lowercase()
                .replace([' ', '-'], "_");
            let problem = Problem {
                r#type: format!("urn:central-auth:problem:{code}"),
                title: other.canonical_reason().unwrap_or("Error").to_owned(),
                status: other.as_u16(),
                detail: other.canonical_reason().unwrap_or("Error").to_owned(),
                code,
                errors: None,
                opens_at: None,
            };
            return problem_response(other, &problem);
        }
    };
    err.into_response()
}
