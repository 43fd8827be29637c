//! Extractors that turn a request into domain input or a problem document:
//! JSON bodies with field-precise errors, query strings, and admin auth.

use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use crate::domain::FieldError;
use crate::domain::model::{Admin, ClientInfo};
use crate::domain::secret::AdminToken;
use crate::http::json_guard;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// A JSON body. A `Content-Type` other than JSON is 415
/// `unsupported_media_type`; syntax errors and nesting deeper than
/// [`json_guard::MAX_DEPTH`] are 400 `malformed_json`; a NUL character
/// anywhere, or a body that parses but does not fit the schema, is 422
/// `validation_failed` naming the field.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// Like [`ApiJson`], but an empty body is allowed and gives `None`.
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

fn check_content_type(req: &Request) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        // curl and some clients send no type; the body is still parsed as JSON.
        return Ok(());
    };
    let mime = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let is_json =
        mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

async fn body_bytes(req: Request) -> Result<Bytes, ApiError> {
    check_content_type(&req)?;
    Bytes::from_request(req, &()).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::MalformedJson(rejection.body_text())
        }
    })
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Refused before serde builds anything from it.
    if json_guard::nests_deeper_than(bytes, json_guard::MAX_DEPTH) {
        return Err(ApiError::MalformedJson(format!(
            "JSON nested deeper than {} levels",
            json_guard::MAX_DEPTH
        )));
    }
    // A raw NUL is not JSON either, but it is the same refusal as an escaped
    // one (below): a NUL byte, wherever it is.
    if bytes.contains(&0) {
        return Err(nul_refused("body"));
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    if let Some(field) = json_guard::nul_field(&value) {
        return Err(nul_refused(&field));
    }
    if !value.is_object() {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "must be a JSON object",
        )]));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner().to_string();
        // serde reports a missing field at its parent; name the field itself.
        let field = match inner.strip_prefix("missing field `") {
            Some(rest) => rest.trim_end_matches('`').to_owned(),
            None if path == "." => "body".to_owned(),
            None => path,
        };
        let message = if inner.starts_with("missing field") {
            "is required".to_owned()
        } else {
            inner
        };
        ApiError::validation(vec![FieldError::new(field, message)])
    })
}

fn nul_refused(field: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(
        field,
        "must not contain NUL characters",
    )])
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        parse_json(&bytes).map(|v| OptionalJson(Some(v)))
    }
}

/// Query parameters; a value of the wrong type, or a NUL in any, is 422.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // `%00` decodes to a NUL: refused at its parameter, as in a body.
        if let Ok(Query(pairs)) =
            Query::<Vec<(String, String)>>::from_request_parts(parts, state).await
            && let Some((name, _)) = pairs
                .iter()
                .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            let field = if name.contains('\0') { "query" } else { name };
            return Err(nul_refused(field));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|rejection| {
                let text = rejection.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                // serde_urlencoded says "limit: invalid digit…": name the parameter.
                let (field, message) = match detail.split_once(": ") {
                    Some((field, message)) if !field.contains(' ') => (field, message),
                    _ => ("query", detail),
                };
                ApiError::validation(vec![FieldError::new(field, message)])
            })
    }
}

/// The admin making the request, from `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct AdminAuth(pub Admin);

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let AdminBearer { admin, .. } = AdminBearer::from_request_parts(parts, state).await?;
        Ok(AdminAuth(admin))
    }
}

/// An authenticated admin together with the token presented, for the one
/// route that acts on the token itself (logout).
pub struct AdminBearer {
    pub admin: Admin,
    pub token: AdminToken,
}

impl FromRequestParts<AppState> for AdminBearer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(crate::domain::DomainError::Unauthorized)?;
        let token = AdminToken::from_client(token.to_owned());
        let admin = state.core.authenticate_admin(&token).await?;
        Ok(AdminBearer { admin, token })
    }
}

/// The caller's address and user agent. The address is the TCP peer's, or,
/// when that peer is a trusted proxy, what `X-Forwarded-For` says past the
/// trusted hops (see [`crate::http::client_addr`]).
#[derive(Debug, Clone)]
pub struct Caller(pub ClientInfo);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Without a peer (a server not started with connect info) nothing
        // vouches for the header either: the address stays unknown.
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| state.proxies.client_ip(addr.ip(), &parts.headers));
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(1024).collect());
        Ok(Caller(ClientInfo {
            ip: ip.map(|ip| ip.to_string()),
            user_agent,
        }))
    }
}

/// The value of the cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}
