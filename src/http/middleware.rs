//! Around every request: one log line and one metrics sample (method, route,
//! status, latency), and the guarantee that an error never leaves without a
//! problem document.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use crate::http::problem::{PROBLEM_JSON, problem_for_status};
use crate::http::state::AppState;

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
    let latency_ms = latency.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::warn!(method = %method, route = %route, status, latency_ms, "request");
    } else {
        tracing::info!(method = %method, route = %route, status, latency_ms, "request");
    }
    response
}

/// Replaces a bodyless or non-problem error response (axum's own 405, a
/// layer's 413) with a problem document.
fn ensure_problem(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
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
