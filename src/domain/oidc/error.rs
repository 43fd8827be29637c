//! How the OAuth endpoints refuse: the error codes of RFC 6749, OIDC Core
//! and RFC 6750, with a sentence that says why. The edge writes them as
//! `{error, error_description}` (not problem+json: OAuth clients read these).

use crate::domain::DomainError;

/// The registered OAuth error codes this provider answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    UnsupportedTokenType,
    InvalidScope,
    AccessDenied,
    LoginRequired,
    RequestNotSupported,
    RequestUriNotSupported,
    InvalidToken,
    ServerError,
    TemporarilyUnavailable,
}

impl OAuthErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// An OAuth refusal, or a failure of the server behind it.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{}: {description}", .code.as_str())]
    Refused {
        code: OAuthErrorCode,
        description: String,
    },
    /// The database or another part failed: `server_error` or
    /// `temporarily_unavailable`, with the detail in the log only.
    #[error(transparent)]
    Failure(DomainError),
}

impl OAuthError {
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self::Refused {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidGrant, description)
    }

    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidClient, description)
    }

    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::new(OAuthErrorCode::InvalidToken, description)
    }

    /// The code an OAuth client reads.
    pub fn code(&self) -> OAuthErrorCode {
        match self {
            Self::Refused { code, .. } => *code,
            Self::Failure(DomainError::Unavailable) => OAuthErrorCode::TemporarilyUnavailable,
            Self::Failure(DomainError::SystemClosed { .. }) => {
                OAuthErrorCode::TemporarilyUnavailable
            }
            Self::Failure(_) => OAuthErrorCode::ServerError,
        }
    }

    /// The sentence for the client: never an internal detail.
    pub fn description(&self) -> String {
        match self {
            Self::Refused { description, .. } => description.clone(),
            Self::Failure(DomainError::Unavailable) => {
                "the database is unavailable; try again shortly".to_owned()
            }
            Self::Failure(DomainError::SystemClosed { .. }) => {
                "logins are closed outside the operating hours".to_owned()
            }
            Self::Failure(_) => "internal error".to_owned(),
        }
    }
}

impl From<DomainError> for OAuthError {
    fn from(err: DomainError) -> Self {
        Self::Failure(err)
    }
}

impl From<crate::storage::StorageError> for OAuthError {
    fn from(err: crate::storage::StorageError) -> Self {
        Self::Failure(err.into())
    }
}
