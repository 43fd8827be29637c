//! OAuth errors on the wire: `{error, error_description}` with the status
//! RFC 6749 §5.2 and RFC 6750 §3.1 give them, never cached. Failures of the
//! server are logged here; the client reads only the sentence.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::DomainError;
use crate::domain::oidc::error::{OAuthError, OAuthErrorCode};

/// Marks an answer as an OAuth error, which the edge must not rewrite as
/// a problem document.
#[derive(Clone, Copy)]
pub struct OAuthAnswer;

/// An OAuth error answer.
#[derive(Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// The OAuth error code (`invalid_request`, `invalid_client`,
    /// `invalid_grant`, `unsupported_grant_type`, `invalid_scope`,
    /// `invalid_token`, `server_error`, `temporarily_unavailable`).
    #[schema(example = "invalid_grant")]
    pub error: &'static str,
    #[schema(example = "the code is invalid, expired or already used")]
    pub error_description: String,
}

/// How an endpoint answers an OAuth error.
pub struct OAuthReply {
    pub error: OAuthError,
    /// Userinfo answers 401 with a `WWW-Authenticate: Bearer` challenge.
    pub bearer: bool,
    /// The client authenticated with the Authorization header: a refusal
    /// of its credentials carries a `Basic` challenge.
    pub basic: bool,
}

impl From<OAuthError> for OAuthReply {
    fn from(error: OAuthError) -> Self {
        Self {
            error,
            bearer: false,
            basic: false,
        }
    }
}

/// Writes the log line a failure deserves and nothing the client sees.
pub fn log_failure(err: &OAuthError) {
    match err {
        OAuthError::Failure(DomainError::Unavailable) => {
            tracing::warn!("OIDC request failed: database unavailable");
        }
        OAuthError::Failure(DomainError::SystemClosed { .. }) => {}
        OAuthError::Failure(other) => tracing::error!(error = %other, "OIDC request failed"),
        OAuthError::Refused { .. } => {}
    }
}

impl IntoResponse for OAuthReply {
    fn into_response(self) -> Response {
        log_failure(&self.error);
        let code = self.error.code();
        let status = match code {
            OAuthErrorCode::InvalidClient | OAuthErrorCode::InvalidToken => {
                StatusCode::UNAUTHORIZED
            }
            OAuthErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            OAuthErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = OAuthErrorBody {
            error: code.as_str(),
            error_description: self.error.description(),
        };
        let mut response = (status, Json(body)).into_response();
        response.extensions_mut().insert(OAuthAnswer);
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        let challenge = if self.bearer && code == OAuthErrorCode::InvalidToken {
            Some(format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                self.error.description().replace('"', "'")
            ))
        } else if self.basic && code == OAuthErrorCode::InvalidClient {
            Some("Basic realm=\"central-auth\"".to_owned())
        } else {
            None
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
