//! When a page cannot be served: one enum, one friendly page per case. The
//! detail goes to the log; the visitor reads what they can do about it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::central_auth::CallError;
use crate::messages;
use crate::visitors::NoRandomness;
use crate::web::pages::{ErrorPage, render};

#[derive(Debug)]
pub enum PageError {
    /// Central Auth is down, too slow, or answered 5xx.
    Unavailable(String),
    /// Outside operating hours: `system_closed`.
    Closed(String),
    /// Central Auth refused our own credentials or registration.
    Misconfigured(String),
    /// Central Auth answered something this page has no plan for.
    Refused(String),
    /// A form without this visitor's CSRF token.
    ForeignForm,
    /// Logged out here, but Central Auth could not be told.
    LogoutUnconfirmed(String),
    Internal(String),
}

impl From<CallError> for PageError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Unavailable(detail) => PageError::Unavailable(detail),
            CallError::Refused(p) => match p.code.as_str() {
                "system_closed" => PageError::Closed(messages::closed(&p)),
                "invalid_api_key" | "wrong_service" | "service_inactive" => {
                    PageError::Misconfigured(p.code)
                }
                _ => PageError::Refused(format!("{} ({})", p.code, p.title)),
            },
        }
    }
}

impl From<NoRandomness> for PageError {
    fn from(error: NoRandomness) -> Self {
        PageError::Internal(format!("no randomness: {}", error.0))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message): (StatusCode, &str, String) = match &self {
            PageError::Unavailable(detail) => {
                tracing::warn!("Central Auth unavailable: {detail}");
                (
                    StatusCode::BAD_GATEWAY,
                    "Central Auth is not reachable",
                    "We cannot reach the login service right now. Please try again in a minute."
                        .to_owned(),
                )
            }
            PageError::Closed(text) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Logins are closed",
                text.clone(),
            ),
            PageError::Misconfigured(code) => {
                tracing::error!("Central Auth refused our credentials: {code}; check SERVICE_ID and SERVICE_API_KEY");
                (
                    StatusCode::BAD_GATEWAY,
                    "Login is not available",
                    messages::misconfigured().to_owned(),
                )
            }
            PageError::Refused(detail) => {
                tracing::warn!("Central Auth refused: {detail}");
                (
                    StatusCode::BAD_GATEWAY,
                    "Login is not available",
                    "The login service refused the request. Please try again.".to_owned(),
                )
            }
            PageError::ForeignForm => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was out of date or did not come from this site. Go back, reload the page and try again."
                    .to_owned(),
            ),
            PageError::LogoutUnconfirmed(detail) => {
                tracing::warn!("logout not confirmed by Central Auth: {detail}");
                (
                    StatusCode::BAD_GATEWAY,
                    "Logged out here only",
                    "You are logged out of this site, but we could not reach Central Auth to end \
                     your session there. It ends by itself after 30 minutes without use."
                        .to_owned(),
                )
            }
            PageError::Internal(detail) => {
                tracing::error!("internal error: {detail}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Something went wrong on our side. Please try again.".to_owned(),
                )
            }
        };
        render(
            &ErrorPage {
                title,
                message: &message,
            },
            status,
        )
    }
}
