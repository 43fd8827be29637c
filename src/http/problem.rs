//! Every failure the server answers is an RFC 9457 problem document with a
//! stable `code`. This is the one place that decides status and code: an
//! exhaustive match, so a new error cannot slip out as a bare 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::rfc3339;
use crate::domain::{DomainError, FieldError};

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
    /// Wrong PINs still allowed for this QR code, on a 401 `invalid_pin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_remaining: Option<i64>,
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
    #[error("the request was not completed in time; send it again")]
    RequestTimeout,
    #[error("this address may not read this route")]
    AddressNotAllowed,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn validation(errors: Vec<FieldError>) -> Self {
        ApiError::Domain(DomainError::Validation(errors))
    }
}

/// Status and title of each error; the `code` comes from
/// [`DomainError::code`], which the audit trail shares.
fn status_and_title(err: &ApiError) -> (StatusCode, &'static str) {
    use DomainError as D;
    use StatusCode as S;
    match err {
        ApiError::Domain(d) => match d {
            D::Validation(_) => (S::UNPROCESSABLE_ENTITY, "Validation failed"),
            D::EmailTaken => (S::CONFLICT, "Email already registered"),
            D::UsernameTaken => (S::CONFLICT, "Username already taken"),
            D::InvalidCredentials => (S::UNAUTHORIZED, "Invalid credentials"),
            D::Unauthorized => (S::UNAUTHORIZED, "Unauthorized"),
            D::UserNotFound => (S::NOT_FOUND, "User not found"),
            D::AdminTokenNotFound => (S::NOT_FOUND, "Token not found"),
            D::NotPending => (S::CONFLICT, "Registration is not pending"),
            D::UserPending => (S::FORBIDDEN, "Registration pending"),
            D::UserRejected => (S::FORBIDDEN, "Registration rejected"),
            D::UserInactive => (S::FORBIDDEN, "User inactive"),
            D::ServiceNameTaken => (S::CONFLICT, "Service name taken"),
            D::ServiceNotFound => (S::NOT_FOUND, "Service not found"),
            D::OidcNotConfigured => (S::NOT_FOUND, "OpenID Connect not configured"),
            D::InvalidApiKey => (S::UNAUTHORIZED, "Invalid API key"),
            D::CredentialsRequired => (S::UNAUTHORIZED, "Service credentials required"),
            D::SystemClosed { .. } => (S::SERVICE_UNAVAILABLE, "Outside operating hours"),
            D::QrNotFound => (S::NOT_FOUND, "QR code not found"),
            D::QrExpired => (S::GONE, "QR code expired"),
            D::PinExpired => (S::GONE, "PIN expired"),
            D::QrAlreadyScanned => (S::CONFLICT, "QR code already scanned"),
            D::QrNotScanned => (S::CONFLICT, "QR code not scanned"),
            D::QrAlreadyUsed => (S::CONFLICT, "QR code already used"),
            D::QrDenied => (S::CONFLICT, "Login denied"),
            D::TooManyAttempts => (S::TOO_MANY_REQUESTS, "Too many attempts"),
            D::InvalidAuthKey => (S::UNAUTHORIZED, "Invalid auth key"),
            D::ServiceInactive => (S::FORBIDDEN, "Service inactive"),
            D::WrongService => (S::FORBIDDEN, "Wrong service"),
            D::WrongUser => (S::FORBIDDEN, "Wrong user"),
            D::InvalidPin { .. } => (S::UNAUTHORIZED, "Invalid PIN"),
            D::InvalidToken => (S::UNAUTHORIZED, "Invalid token"),
            D::RateLimited { .. } => (S::TOO_MANY_REQUESTS, "Rate limited"),
            D::Unavailable => (S::SERVICE_UNAVAILABLE, "Service unavailable"),
            D::Internal(_) => (S::INTERNAL_SERVER_ERROR, "Internal server error"),
        },
        ApiError::MalformedJson(_) => (S::BAD_REQUEST, "Malformed JSON"),
        ApiError::PayloadTooLarge => (S::PAYLOAD_TOO_LARGE, "Payload too large"),
        ApiError::UnsupportedMediaType => (S::UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
        ApiError::RouteNotFound => (S::NOT_FOUND, "Not found"),
        ApiError::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "Method not allowed"),
        ApiError::RequestTimeout => (S::REQUEST_TIMEOUT, "Request timeout"),
        ApiError::AddressNotAllowed => (S::FORBIDDEN, "Forbidden"),
        ApiError::Internal(_) => (S::INTERNAL_SERVER_ERROR, "Internal server error"),
    }
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::Domain(d) => d.code(),
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::RouteNotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::RequestTimeout => "request_timeout",
            ApiError::AddressNotAllowed => "forbidden",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

/// What a client may be told of an error, in JSON or on a page.
pub struct Summary {
    pub status: StatusCode,
    pub title: &'static str,
    pub code: &'static str,
    /// A sentence for people; internal detail never reaches it.
    pub detail: String,
}

impl ApiError {
    /// The error as a client may see it. Internal detail is logged here,
    /// once, and replaced by a generic sentence.
    pub fn summary(&self) -> Summary {
        let (status, title) = status_and_title(self);
        let detail = match self {
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
        Summary {
            status,
            title,
            code: self.code(),
            detail,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Summary {
            status,
            title,
            code,
            detail,
        } = self.summary();
        let mut problem = Problem {
            r#type: format!("urn:central-auth:problem:{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            errors: None,
            opens_at: None,
            attempts_remaining: None,
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
            ApiError::Domain(DomainError::InvalidPin { attempts_remaining }) => {
                problem.attempts_remaining = Some(attempts_remaining);
            }
            ApiError::Domain(DomainError::RateLimited { retry_after: secs }) => {
                retry_after = Some(i64::try_from(secs.max(1)).unwrap_or(i64::MAX));
            }
            ApiError::Domain(DomainError::Unavailable) => retry_after = Some(5),
            _ => {}
        }
        let mut response = problem_response(status, &problem);
        let headers = response.headers_mut();
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if code == "unauthorized" {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Serialises a problem with its content type.
fn problem_response(status: StatusCode, problem: &impl Serialize) -> Response {
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
        StatusCode::REQUEST_TIMEOUT => ApiError::RequestTimeout,
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
                attempts_remaining: None,
            };
            return problem_response(other, &problem);
        }
    };
    err.into_response()
}
