//! The HTTP edge: routes, extractors, problem documents, docs and the
//! middleware around them. Handlers parse input into domain types, call the
//! domain, and shape the answer; nothing else.

pub mod client_addr;
pub mod console;
pub mod cors;
pub mod extract;
pub mod json_guard;
pub mod metrics;
pub mod middleware;
pub mod oidc;
pub mod problem;
pub mod rates;
pub mod routes;
pub mod serve;
pub mod state;
pub mod views;
pub mod web;

use std::any::Any;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// Request bodies above this are refused with 413 `payload_too_large`.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What `/docs` opens with: what the product is, and the calls in the order
/// of the story, so a service developer knows where to start.
const INTRO: &str = "**Central Auth** is a self-hosted central login server. Your service \
never sees a password: it shows a QR code, the person scans it with the Central Auth \
authenticator app on their phone, and types the 6-digit PIN the phone shows into your page.

**As an admin, first** sign in with `POST /api/admin/login`, press **Authorize** above and \
paste the `access_token`. Approve people with `GET /api/admin/pending` and \
`POST /api/admin/approve/{user_id}`, and register your service with \
`POST /api/services/register`: its `service_id` and `api_key` are shown once.

**Then a service logs a person in, in this order:**
1. `POST /api/auth/qr/generate` with its `service_id` and `api_key` (and the browser's IP and \
user agent): a QR code, valid 2 minutes, single use. Show `qr_image`.
2. Poll `POST /api/auth/qr/status` with the `qr_token` to learn when the phone has scanned it \
(the phone calls `POST /api/auth/qr/scan` and shows the PIN).
3. `POST /api/auth/pin/verify` with the QR token and the PIN the person typed: a 30-minute \
session token (a JWT).
4. `POST /api/auth/validate-session` on each request of the person (it renews the \
session), and `POST /api/auth/logout` at the end.

Request bodies are JSON objects (`Content-Type: application/json`; another type is 415 \
`unsupported_media_type`), at most 64 KiB and nested at most 32 levels (deeper is 400 \
`malformed_json`); a NUL character in any string or query parameter is 422 `validation_failed` \
at that field.

Errors are RFC 9457 problem documents with a stable `code` to switch on. Logins happen \
only within the operating hours (`GET /api/system/status`).";

#[derive(OpenApi)]
#[openapi(
    info(title = "Central Auth", description = INTRO),
    modifiers(&AdminBearer),
    components(schemas(problem::Problem, crate::domain::FieldError)),
    // In the order of the story; `/docs` shows the groups in this order.
    tags(
        (name = "registration", description = "A person asks for an account"),
        (name = "admin", description = "Approving people, users, history, statistics, email, operating hours (admin token)"),
        (name = "mobile", description = "The authenticator app signs in once on the phone"),
        (name = "services", description = "Registering relying services and their API keys (admin token)"),
        (name = "login", description = "The login flow: QR code, scan, PIN"),
        (name = "sessions", description = "Session tokens: validation, logout, signing keys"),
        (name = "oidc", description = "OpenID Connect provider: authorization code flow with PKCE, QR + PIN as the login (see docs/oidc.md)"),
        (name = "system", description = "Whether logins are open now"),
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
        components.add_security_scheme(
            "oidc_access_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Access token from POST /oauth2/token"))
                    .build(),
            ),
        );
    }
}

/// The API's routes together with their OpenAPI document.
pub fn api() -> OpenApiRouter<AppState> {
    // In the order of the story: within a group of `/docs`, operations are
    // listed in the order they are merged here (utoipa `preserve_order`).
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::registration::router())
        .merge(routes::admin::router())
        .merge(routes::admin_tokens::router())
        .merge(routes::users::router())
        .merge(routes::reports::router())
        .merge(routes::outbox::router())
        .merge(routes::mobile::router())
        .merge(routes::services::router())
        .merge(routes::auth::router())
        .merge(routes::sessions::router())
        .merge(routes::well_known::router())
        .merge(oidc::router())
        .merge(routes::system::router())
        .merge(routes::ops::router())
}

/// The whole application: API, docs, fallbacks and middleware.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api().split_for_parts();
    // Swagger UI's assets are compiled in (`vendored`); the online validator
    // badge is switched off so the page makes no outside request, and the
    // base layout drops Swagger's own top bar (its "Explore" box loads any
    // URL), so the page opens with Central Auth's name and introduction.
    let docs = SwaggerUi::new("/docs")
        .url("/openapi.json", openapi)
        .config(
            Config::new(["/openapi.json"])
                .validator_url("none")
                .use_base_layout()
                .persist_authorization(true)
                .try_it_out_enabled(true),
        );
    api.merge(docs)
        .merge(web::router())
        .merge(console::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rates::limit,
        ))
        // Outside the rate limit, so a page of an allowed origin can read its 429.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::cors,
        ))
        // Inside `observe`, so the bare 408 becomes a problem document and is counted.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.request_timeout,
        ))
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
