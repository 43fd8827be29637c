//! The one error type of the domain layer. The HTTP edge maps each variant to
//! a status and a stable `code` in exactly one place (`http::problem`).

use jiff::Timestamp;

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
    #[error("this admin has no live token with that id")]
    AdminTokenNotFound,
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
    /// The service exists but is not an OpenID Connect client.
    #[error("this service has no OpenID Connect settings")]
    OidcNotConfigured,
    #[error("unknown service or wrong API key")]
    InvalidApiKey,
    /// The QR code's service requires its credentials and none came: the
    /// same code as a wrong key (the contract's), a sentence that says why.
    #[error("this service requires its service_id and api_key with every pin/verify")]
    CredentialsRequired,
    #[error("logins are closed outside operating hours")]
    SystemClosed {
        opens_at: Option<Timestamp>,
        /// Whole seconds until `opens_at`, for `Retry-After`.
        retry_after: Option<i64>,
    },
    #[error("no QR code with that token")]
    QrNotFound,
    #[error("the QR code has expired")]
    QrExpired,
    #[error("the PIN has expired")]
    PinExpired,
    #[error("the QR code has already been scanned")]
    QrAlreadyScanned,
    #[error("the QR code has not been scanned yet")]
    QrNotScanned,
    #[error("the QR code has already been used")]
    QrAlreadyUsed,
    #[error("the person denied this login")]
    QrDenied,
    #[error("too many wrong PINs: this QR code is locked")]
    TooManyAttempts,
    #[error("unknown or revoked auth_key")]
    InvalidAuthKey,
    #[error("the service is deactivated")]
    ServiceInactive,
    #[error("the QR code belongs to another service")]
    WrongService,
    #[error("the QR code was scanned by another person")]
    WrongUser,
    #[error("wrong PIN ({attempts_remaining} attempts remaining)")]
    InvalidPin { attempts_remaining: i64 },
    #[error("the session token is malformed or not signed by this server")]
    InvalidToken,
    #[error("too many requests: try again in {retry_after} seconds")]
    RateLimited {
        /// Whole seconds until the request may be repeated, for `Retry-After`.
        retry_after: u64,
    },
    #[error("the database is unavailable")]
    Unavailable,
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    /// The stable, machine-readable code: the `code` of the problem document
    /// and the `outcome` of a failed attempt in the audit trail.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::EmailTaken => "email_taken",
            Self::UsernameTaken => "username_taken",
            Self::InvalidCredentials => "invalid_credentials",
            Self::Unauthorized => "unauthorized",
            Self::UserNotFound => "user_not_found",
            Self::AdminTokenNotFound => "token_not_found",
            Self::NotPending => "not_pending",
            Self::UserPending => "user_pending",
            Self::UserRejected => "user_rejected",
            Self::UserInactive => "user_inactive",
            Self::ServiceNameTaken => "service_name_taken",
            Self::ServiceNotFound => "service_not_found",
            Self::OidcNotConfigured => "oidc_not_configured",
            Self::InvalidApiKey | Self::CredentialsRequired => "invalid_api_key",
            Self::SystemClosed { .. } => "system_closed",
            Self::QrNotFound => "qr_not_found",
            Self::QrExpired => "qr_expired",
            Self::PinExpired => "pin_expired",
            Self::QrAlreadyScanned => "qr_already_scanned",
            Self::QrNotScanned => "qr_not_scanned",
            Self::QrAlreadyUsed => "qr_already_used",
            Self::QrDenied => "qr_denied",
            Self::TooManyAttempts => "too_many_attempts",
            Self::InvalidAuthKey => "invalid_auth_key",
            Self::ServiceInactive => "service_inactive",
            Self::WrongService => "wrong_service",
            Self::WrongUser => "wrong_user",
            Self::InvalidPin { .. } => "invalid_pin",
            Self::InvalidToken => "invalid_token",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    pub fn invalid(field: &str, message: &str) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// A failure of the machinery (a library, the OS), not of the request:
    /// its detail goes to the log, the client sees a generic 500.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }
}
