//! The HTTP edge: routes, extractors, problem documents, docs and the
//! middleware around them. Handlers parse input into domain types, call the
//! domain, and shape the answer; nothing else.

pub mod console;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod problem;
pub mod routes;
pub mod state;
pub mod views;
pub mod web;

use std::any::Any;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// Request bodies above this are refused with 413 `payload_too_large`.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Central Auth",
        description = "Central login server: services ask for a QR code, the user's \
            authenticator app scans it and shows a PIN, the service trades QR token + PIN \
            for a session token. Admin routes need `Authorization: Bearer <token>` from \
            `POST /api/admin/login` (use the Authorize button). Errors are RFC 9457 \
            problem documents with a stable `code`.",
    ),
    modifiers(&AdminBearer),
    components(schemas(problem::Problem, crate::domain::FieldError)),
    tags(
        (name = "registration", description = "Public registration"),
        (name = "mobile", description = "The authenticator app"),
        (name = "login", description = "The login flow: QR code, scan, PIN"),
        (name = "sessions", description = "Session tokens for services"),
        (name = "admin", description = "Administration (admin token)"),
        (name = "services", description = "Relying services (admin token)"),
        (name = "system", description = "Operating hours"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
struct ApiDoc;

struct AdminBearer;

impl Modify for AdminBearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Token from POST /api/admin/login"))
                    .build(),
            ),
        );
    }
}

/// The API's routes together with their OpenAPI document.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::registration::router())
        .merge(routes::mobile::router())
        .merge(routes::admin::router())
        .merge(routes::users::router())
        .merge(routes::services::router())
        .merge(routes::system::router())
        .merge(routes::auth::router())
        .merge(routes::sessions::router())
        .merge(routes::reports::router())
        .merge(routes::well_known::router())
        .merge(routes::outbox::router())
        .merge(routes::ops::router())
}

/// The whole application: API, docs, fallbacks and middleware.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api().split_for_parts();
    // Swagger UI's assets are compiled in (`vendored`); the online validator
    // badge is switched off so the page makes no outside request.
    let docs = SwaggerUi::new("/docs")
        .url("/openapi.json", openapi)
        .config(
            Config::new(["/openapi.json"])
                .validator_url("none")
                .persist_authorization(true)
                .try_it_out_enabled(true),
        );
    api.merge(docs)
        .merge(web::router())
        .merge(console::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(CatchPanicLayer::custom(panic_to_problem))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::RouteNotFound
}

fn panic_to_problem(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".to_owned());
    ApiError::Internal(format!("handler panicked: {detail}")).into_response()
}
