//! The Admin Control Center (`/admin`): server-rendered pages (askama, so
//! everything users typed is escaped) over the same domain services as the
//! JSON API. Signed-in admins hold an HttpOnly, SameSite=Strict cookie; every
//! form carries a CSRF token derived from that session.

mod dashboard;
mod error_page;
mod registrations;
mod service_page;
mod services;
mod session;
mod system;
mod tokens;
mod users;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use crate::http::problem::ApiError;
use crate::http::state::AppState;

pub use error_page::bare_error_page;
pub use session::Console;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/login",
            get(session::login_page).post(session::login),
        )
        .route("/admin/logout", post(session::logout))
        .route("/admin", get(dashboard::page))
        .route("/admin/", get(dashboard::page))
        .route("/admin/pending", get(registrations::page))
        .route(
            "/admin/pending/{user_id}/approve",
            post(registrations::approve),
        )
        .route(
            "/admin/pending/{user_id}/reject",
            post(registrations::reject),
        )
        .route("/admin/users", get(users::list))
        .route("/admin/users/{user_id}", get(users::detail))
        .route("/admin/users/{user_id}/{action}", post(users::set_status))
        .route("/admin/history", get(users::history))
        .route(
            "/admin/services",
            get(services::page).post(services::register),
        )
        .route("/admin/services/{service_id}", get(service_page::page))
        .route(
            "/admin/services/{service_id}/oidc",
            post(service_page::save_oidc),
        )
        .route(
            "/admin/services/{service_id}/oidc/remove",
            post(service_page::remove_oidc),
        )
        .route("/admin/services/{service_id}/{action}", post(services::act))
        .route("/admin/system", get(system::page))
        .route("/admin/system/schedule", post(system::save_schedule))
        .route("/admin/tokens", get(tokens::page))
        .route(
            "/admin/tokens/sign-out-others",
            post(tokens::sign_out_others),
        )
        .route("/admin/tokens/{token_id}/revoke", post(tokens::revoke))
}

/// Renders a page; a template that fails to render is an internal error.
fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page::bare_error_page(ApiError::Internal(format!("template failed: {e}"))),
    }
}

/// Redirects after a successful form (POST → redirect → GET), with a notice.
fn see_other(to: &str, notice: &str) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    let location = format!(
        "{to}{sep}notice={}",
        form_urlencoded::byte_serialize(notice.as_bytes()).collect::<String>()
    );
    (
        StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, location)],
    )
        .into_response()
}
