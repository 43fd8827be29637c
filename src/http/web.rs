//! The pages people see, served by the binary itself: the registration
//! portal (`/register`), the authenticator app (`/app`) and their assets. No
//! CDN and no external fonts; everything comes from the `web/` folder,
//! compiled into the binary.

use std::borrow::Cow;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
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
        .route(
            "/register",
            get(|headers: HeaderMap| file("register/index.html", headers)),
        )
        .route(
            "/app",
            get(|headers: HeaderMap| file("app/index.html", headers)),
        )
        .route("/app/", get(|| async { Redirect::permanent("/app") }))
        .route(
            "/app/manifest.webmanifest",
            get(|headers: HeaderMap| file("app/manifest.webmanifest", headers)),
        )
        .route("/app/sw.js", get(service_worker))
        .route("/assets/{*path}", get(asset))
}

/// The app's service worker. Its scope is `/app`, one level above the
/// script's own folder, which the browser allows only with this header.
async fn service_worker(headers: HeaderMap) -> Response {
    let mut response = file("app/sw.js", headers).await;
    response
        .headers_mut()
        .insert("service-worker-allowed", HeaderValue::from_static("/app"));
    response
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    file(&format!("assets/{path}"), headers).await
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

/// Pages, scripts and styles are code that must match each other (a page
/// and the modules it imports, a script and the markup it finds): the
/// browser asks again on every use, and an unchanged file costs a 304. Only
/// pictures and fonts are kept for an hour without asking.
fn cache_policy(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html" | "js" | "css" | "webmanifest") => "no-cache",
        _ => "public, max-age=3600",
    }
}

async fn file(path: &str, request: HeaderMap) -> Response {
    // Paths come from our own routes; `..` never reaches the embed anyway.
    let Some(found) = Files::get(path) else {
        return ApiError::RouteNotFound.into_response();
    };
    let hash = found.metadata.sha256_hash();
    let etag = format!(
        "\"{}\"",
        hash[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    let cache = HeaderValue::from_static(cache_policy(path));
    let unchanged = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag.to_str().unwrap_or_default());
    if unchanged {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    let body: Cow<'static, [u8]> = found.data;
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(path)),
            ),
            (header::CACHE_CONTROL, cache),
            (header::ETAG, etag),
        ],
        body.into_owned(),
    )
        .into_response()
}
