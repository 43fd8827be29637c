//! The HTTP side of the example: routes, cookies, pages.

mod assets;
mod browser;
pub mod cookies;
mod errors;
mod headers;
mod home;
mod login;
mod pages;
mod session;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::central_auth::CentralAuth;
use crate::visitors::Visitors;
use cookies::CookiePolicy;
use pages::{ErrorPage, render};

pub use headers::CSP;

/// Handed to every handler.
#[derive(Clone)]
pub struct AppState {
    pub central: Arc<CentralAuth>,
    pub visitors: Visitors,
    pub cookies: CookiePolicy,
    pub trust_proxy_headers: bool,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home::page))
        .route("/logout", post(home::logout))
        .route("/login", get(login::page))
        .route("/login/status", get(login::status))
        .route("/login/pin", post(login::pin))
        .route("/static/login.js", get(assets::login_js))
        .route("/static/style.css", get(assets::style_css))
        .fallback(not_found)
        .layer(axum::middleware::map_response(headers::security_headers))
        .with_state(state)
}

async fn not_found() -> Response {
    let page = ErrorPage {
        title: "Page not found",
        message: "There is nothing at this address.",
    };
    (render(&page, StatusCode::NOT_FOUND)).into_response()
}
