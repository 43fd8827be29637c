//! Cross-origin calls (`CORS_ALLOWED_ORIGINS`): only the public routes a
//! page of another site has reason to call get CORS headers, and only for
//! the listed origins. Admin routes, the console, the phone's routes and
//! `qr/generate` (it needs the service's API key, which must never be in a
//! page) stay same-origin: a browser refuses a page of another site there.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::http::state::AppState;

/// The routes a browser page of another origin may call: the registration
/// form of a "Website A", the waiting page of a service (status polling, the
/// PIN typed into it, its own session's validation and sign-out), and
/// whether logins are open now.
pub const CROSS_ORIGIN_ROUTES: [&str; 6] = [
    "/api/register",
    "/api/auth/qr/status",
    "/api/auth/pin/verify",
    "/api/auth/validate-session",
    "/api/auth/logout",
    "/api/system/status",
];

/// The CORS policy for the listed origins; `None` when none are listed.
pub fn policy(origins: &[HeaderValue]) -> Option<Arc<CorsLayer>> {
    if origins.is_empty() {
        return None;
    }
    let layer = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        // A page reads how long to wait after a 429.
        .expose_headers([HeaderName::from_static("retry-after")])
        .max_age(Duration::from_secs(600));
    // No credentials mode: these routes take no cookies, and a page that
    // sends some must not be answered.
    Some(Arc::new(layer))
}

fn is_cross_origin_route(path: &str) -> bool {
    CROSS_ORIGIN_ROUTES.contains(&path)
}

/// Runs the request through the CORS policy when its route is one of
/// [`CROSS_ORIGIN_ROUTES`]; everything else passes untouched (a preflight
/// there meets the router's 405, without CORS headers).
pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(policy) = state.cors.as_ref() else {
        return next.run(req).await;
    };
    if !is_cross_origin_route(req.uri().path()) {
        return next.run(req).await;
    }
    match policy.layer(next).oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}
