//! Around every request: one log line and one metrics sample (method, route,
//! status, latency), and the guarantee that an error never leaves without a
//! problem document.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::http::problem::{PROBLEM_JSON, problem_for_status};
use crate::http::state::AppState;
use crate::http::web::PAGE_CSP;

pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    // The route template, never the concrete path: paths can carry ids, and
    // the metrics must not grow a series per id.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = ensure_problem(next.run(req).await);
    let status = response.status().as_u16();
    let latency = started.elapsed();
    state
        .metrics
        .record_request(method.as_str(), &route, status, latency);
    // Tenths of a millisecond: nanosecond digits are noise in a log line.
    let latency_ms = (latency.as_secs_f64() * 10_000.0).round() / 10.0;
    if status >= 500 {
        tracing::warn!(method = %method, route = %route, status, latency_ms, "request");
    } else {
        tracing::info!(method = %method, route = %route, status, latency_ms, "request");
    }
    response
}

/// Headers every response carries. Pages may run only our own script files
/// (no inline scripts); Swagger UI also needs inline styles.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/docs");
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let csp = if docs { DOCS_CSP } else { PAGE_CSP };
    // A handler may widen the policy for its answer (the OIDC login page's
    // redirect after its form names the app as a form action).
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Replaces a bodyless or non-problem error response (axum's own 405, a
/// layer's 413) with a problem document.
fn ensure_problem(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // Problem documents, the console's own error pages and the OAuth
    // errors of `/oauth2/*` (which OAuth clients must read as they are)
    // stay as they are.
    let keep = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON) || v.starts_with("text/html"));
    if keep
        || response
            .extensions()
            .get::<crate::http::oidc::error::OAuthAnswer>()
            .is_some()
    {
        return response;
    }
    let mut replacement = problem_for_status(status);
    // Keep headers such as `Allow` on a 405.
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replacement
                .headers_mut()
                .insert(name.clone(), value.clone());
        }
    }
    replacement
}
