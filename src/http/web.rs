//! The pages people see, served by the binary itself: the registration
//! portal (`/register`), the authenticator app (`/app`) and their assets. No
//! CDN and no external fonts; everything comes from the `web/` folder,
//! compiled into the binary.

use std::borrow::Cow;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use crate::http::problem::ApiError;
use crate::http::state::AppState;

#[derive(RustEmbed)]
#[folder = "web/"]
struct Files;

/// Pages forbid inline scripts: every script is a file of ours.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; \
    manifest-src 'self'; worker-src 'self'; font-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/register") }))
        .route("/register", get(|| file("register/index.html")))
        .route("/app", get(|| file("app/index.html")))
        .route("/app/", get(|| async { Redirect::permanent("/app") }))
        .route(
            "/app/manifest.webmanifest",
            get(|| file("app/manifest.webmanifest")),
        )
        .route("/app/sw.js", get(service_worker))
        .route("/assets/{*path}", get(asset))
}

/// The app's service worker. Its scope is `/app`, one level above the
/// script's own folder, which the browser allows only with this header.
async fn service_worker() -> Response {
    let mut response = file("app/sw.js").await;
    response
        .headers_mut()
        .insert("service-worker-allowed", HeaderValue::from_static("/app"));
    response
}

async fn asset(Path(path): Path<String>) -> Response {
    file(&format!("assets/{path}")).await
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("webmanifest") => "application/manifest+json",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") | Some("md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn file(path: &str) -> Response {
    // Paths come from our own routes; `..` never reaches the embed anyway.
    let Some(found) = Files::get(path) else {
        return ApiError::RouteNotFound.into_response();
    };
    let body: Cow<'static, [u8]> = found.data;
    let cache = if path.ends_with(".html") || path.ends_with("sw.js") {
        "no-cache"
    } else {
        "public, max-age=3600"
    };
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(path)),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body.into_owned(),
    )
        .into_response()
}
