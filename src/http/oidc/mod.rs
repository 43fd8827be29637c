//! The OpenID Connect provider's edge: `/oauth2/*`. OAuth clients read
//! `{error, error_description}` (not problem+json), and browsers read
//! pages: both are this folder's own answers (`error`, `browser`).

mod browser;
mod client_auth;
pub mod error;
mod form;
mod token;

use axum::routing::{get, post};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(browser::authorize))
        .route("/oauth2/authorize", post(browser::authorize_post))
        .routes(routes!(token::token))
        .routes(routes!(token::userinfo))
        .route("/oauth2/userinfo", post(token::userinfo_post))
        .routes(routes!(token::revoke))
        .routes(routes!(token::introspect))
        .routes(routes!(browser::end_session))
        .route("/oauth2/end_session", post(browser::end_session_post))
        .route(
            "/oauth2/login/{interaction_id}",
            get(browser::login_page).post(browser::login_page_pin),
        )
        .route(
            "/oauth2/login/{interaction_id}/cancel",
            post(browser::login_page_cancel),
        )
}
