//! Operations: liveness, readiness and Prometheus metrics.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::DomainError;
use crate::http::extract::Caller;
use crate::http::metrics::Refused;
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Up", body = String, content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = String, content_type = "text/plain"),
        (status = 503, description = "`service_unavailable`: the database does not answer", body = Problem, content_type = "application/problem+json"),
    ))]
async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state
        .core
        .database_ready(std::time::Duration::from_secs(2))
        .await
        .map_err(|_| ApiError::Domain(DomainError::Unavailable))?;
    Ok("ready")
}

/// Prometheus metrics: `http_requests_total` and
/// `http_request_duration_seconds` by method, route and status. May be
/// restricted to some addresses (`METRICS_ALLOW`) and to a bearer token
/// (`METRICS_BEARER_TOKEN`).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"),
        (status = 401, description = "`unauthorized`: `METRICS_BEARER_TOKEN` is set and the request's bearer token is missing or wrong", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: the client's address is not in `METRICS_ALLOW`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn metrics(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let client = caller
        .ip
        .as_deref()
        .and_then(|ip| ip.parse::<IpAddr>().ok());
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match state.metrics_access.check(client, bearer) {
        Ok(()) => {}
        Err(Refused::Address) => return Err(ApiError::AddressNotAllowed),
        Err(Refused::Token) => {
            let mut refused = ApiError::Domain(DomainError::Unauthorized).into_response();
            refused.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"metrics\""),
            );
            return Ok(refused);
        }
    }
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(),
    )
        .into_response())
}
