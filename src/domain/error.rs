//! The one error type of the domain layer. The HTTP edge maps each variant to
//! a status and a stable `code` in exactly one place (`http::problem`).

use jiff::Timestamp;

use crate::storage::StorageError;

/// A rule broken by one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("the request breaks {} field rule(s)", .0.len())]
    Validation(Vec<FieldError>),
    #[error("the email address is already registered")]
    EmailTaken,
    #[error("the username is already taken")]
    UsernameTaken,
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("missing or invalid admin token")]
    Unauthorized,
    #[error("no user with that id")]
    UserNotFound,
    #[error("the registration is not pending")]
    NotPending,
    #[error("the registration is still waiting for approval")]
    UserPending,
    #[error("the registration was rejected")]
    UserRejected,
    #[error("the user account is deactivated")]
    UserInactive,
    #[error("a service with that name already exists")]
    ServiceNameTaken,
    #[error("no service with that id")]
    ServiceNotFound,
    #[error("unknown service or wrong API key")]
    InvalidApiKey,
    #[error("logins are closed outside operating hours")]
    SystemClosed {
        opens_at: Option<Timestamp>,
        /// Whole seconds until `opens_at`, for `Retry-After`.
        retry_after: Option<i64>,
    },
    #[error("the database is unavailable")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    pub fn invalid(field: &str, message: &str) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<StorageError> for DomainError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::Unavailable(_) => DomainError::Unavailable,
            other => DomainError::Internal(other.to_string()),
        }
    }
}
