//! The pages, as askama templates (`templates/`): every value is escaped
//! by the template engine, so nothing a visitor or Central Auth sends can
//! become markup.

use askama::Template;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub user: Option<SignedIn>,
    /// Why the session ended, when Central Auth just said so.
    pub ended: Option<Ended>,
}

pub struct SignedIn {
    pub full_name: String,
    pub username: String,
    pub csrf: String,
}

pub struct Ended {
    /// `validate-session`'s `reason`, for scripts and tests.
    pub reason: String,
    pub text: &'static str,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    /// The code to scan; `None` once it can no longer be used.
    pub qr: Option<QrView>,
    pub csrf: String,
    pub error: Option<Notice>,
}

pub struct QrView {
    /// Plain base64 PNG, as Central Auth sent it.
    pub image: String,
    pub valid_for: String,
}

pub struct Notice {
    /// Central Auth's problem `code` (or ours, e.g. `pin_format`).
    pub code: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

/// A rendered page with `status`. Pages carry CSRF tokens and personal
/// data, so no cache keeps them.
pub fn render(page: &impl Template, status: StatusCode) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            response
                .headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => {
            tracing::error!("template failed to render: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    }
}

/// "2 minutes" for 120 seconds: how long the QR code on screen lasts.
pub fn duration_text(secs: i64) -> String {
    match secs {
        60 => "1 minute".to_owned(),
        s if s > 60 && s % 60 == 0 => format!("{} minutes", s / 60),
        1 => "1 second".to_owned(),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_can_not_inject_markup() {
        let page = HomePage {
            user: Some(SignedIn {
                full_name: "<script>alert(1)</script>".to_owned(),
                username: "john".to_owned(),
                csrf: "c".to_owned(),
            }),
            ended: None,
        };
        let html = page.render().unwrap();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&#60;script&#62;alert(1)"), "{html}");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(120), "2 minutes");
        assert_eq!(duration_text(90), "90 seconds");
    }
}
