//! The console's error pages: an admin who hits an error sees a page in the
//! console's frame (menu, sign-out) with the reason in words and a way back,
//! never a bare problem document. The status stays the error's own, and the
//! words are the same safe summary the JSON API gives (`ApiError::summary`).

use std::borrow::Cow;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::domain::{DomainError, FieldError};
use crate::http::console::Console;
use crate::http::problem::{ApiError, Summary};

/// The console's sections: the menu entry to mark and the page to go back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Dashboard,
    Pending,
    Users,
    History,
    Services,
    System,
    /// The signed-in admin's own sign-ins (tokens).
    Tokens,
}

impl Section {
    /// The name the layout's menu knows the section by (every page passes it).
    pub fn name(self) -> &'static str {
        match self {
            Self::Dashboard => "dashboard",
            Self::Pending => "pending",
            Self::Users => "users",
            Self::History => "history",
            Self::Services => "services",
            Self::System => "system",
            Self::Tokens => "tokens",
        }
    }

    fn back(self) -> (&'static str, &'static str) {
        match self {
            Self::Dashboard => ("/admin", "Back to the dashboard"),
            Self::Pending => ("/admin/pending", "Back to the pending registrations"),
            Self::Users => ("/admin/users", "Back to the users"),
            Self::History => ("/admin/history", "Back to the login history"),
            Self::Services => ("/admin/services", "Back to the services"),
            Self::System => ("/admin/system", "Back to the system page"),
            Self::Tokens => ("/admin/tokens", "Back to your sign-ins"),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/error.html")]
struct FramedError<'a> {
    section: &'a str,
    admin: &'a str,
    csrf: &'a str,
    notice: Option<&'a str>,
    body: Body<'a>,
}

#[derive(Template)]
#[template(path = "admin/error_bare.html")]
struct BareError<'a> {
    body: Body<'a>,
}

/// What `error_body.html` shows, shared by both pages.
struct Body<'a> {
    title: &'a str,
    detail: Cow<'a, str>,
    code: &'a str,
    status: u16,
    fields: &'a [FieldError],
    back: &'a str,
    back_label: &'a str,
}

/// An error met by a signed-in admin on a page of `section`.
pub fn error_page(console: &Console, section: Section, err: impl Into<ApiError>) -> Response {
    let err = err.into();
    let summary = err.summary();
    let (back, back_label) = section.back();
    let page = FramedError {
        section: section.name(),
        admin: &console.admin.username,
        csrf: &console.csrf,
        notice: None,
        body: Body::of(&summary, &err, back, back_label),
    };
    respond(&summary, &err, page.render())
}

/// An error met before the admin is known (the session could not be
/// checked, the sign-in failed for a reason other than the password).
pub fn bare_error_page(err: impl Into<ApiError>) -> Response {
    let err = err.into();
    let summary = err.summary();
    let page = BareError {
        body: Body::of(&summary, &err, "/admin", "Back to the console"),
    };
    respond(&summary, &err, page.render())
}

/// A refusal of the console's own (not an `ApiError`), such as a form
/// without its session's CSRF token.
pub fn plain_error_page(status: StatusCode, title: &str, code: &str, detail: &str) -> Response {
    let page = BareError {
        body: Body {
            title,
            detail: sentence(detail),
            code,
            status: status.as_u16(),
            fields: &[],
            back: "/admin",
            back_label: "Back to the console",
        },
    };
    html_response(status, page.render())
}

impl<'a> Body<'a> {
    fn of(summary: &'a Summary, err: &'a ApiError, back: &'a str, back_label: &'a str) -> Self {
        let fields: &[FieldError] = match err {
            ApiError::Domain(DomainError::Validation(fields)) => fields,
            _ => &[],
        };
        Body {
            title: summary.title,
            detail: sentence(&summary.detail),
            code: summary.code,
            status: summary.status.as_u16(),
            fields,
            back,
            back_label,
        }
    }
}

/// The error's detail as a sentence on a page: the API's wording starts in
/// lower case ("the registration is not pending").
fn sentence(detail: &str) -> Cow<'_, str> {
    let mut chars = detail.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => {
            Cow::Owned(first.to_uppercase().chain(chars).collect::<String>() + ".")
        }
        _ => Cow::Borrowed(detail),
    }
}

/// The page with the error's status; an outage or a rate limit says when
/// to try again, as the JSON answer does.
fn respond(summary: &Summary, err: &ApiError, html: askama::Result<String>) -> Response {
    let mut response = html_response(summary.status, html);
    let retry_after = match err {
        ApiError::Domain(DomainError::Unavailable) => Some(5),
        ApiError::Domain(DomainError::RateLimited { retry_after }) => Some(*retry_after),
        _ => None,
    };
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn html_response(status: StatusCode, html: askama::Result<String>) -> Response {
    match html {
        Ok(html) => (status, Html(html)).into_response(),
        // The error page itself failed: say so as plainly as possible.
        Err(e) => {
            tracing::error!(error = %e, "console error page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error").into_response()
        }
    }
}
