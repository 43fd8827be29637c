//! `/oauth2/token`, `/oauth2/revoke`, `/oauth2/introspect` and
//! `/oauth2/userinfo`: the back-channel endpoints a client calls.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::oidc::error::{OAuthError, OAuthErrorCode};
use crate::domain::oidc::grants::{AuthMethod, TokenGrant};
use crate::domain::secret::OAuthSecret;
use crate::http::oidc::client_auth::credentials;
use crate::http::oidc::error::{OAuthErrorBody, OAuthReply};
use crate::http::oidc::form::{OAuthParams, is_form};
use crate::http::state::AppState;

/// The form of a token request (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenForm {
    /// `authorization_code` or `refresh_token`.
    grant_type: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    /// The PKCE verifier (S256).
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    /// With `client_secret_post`, or alone for a public client.
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// Opaque; for `/oauth2/userinfo`.
    access_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    #[schema(example = 600)]
    expires_in: i64,
    /// Rotates on every use; a reused one ends the whole login.
    refresh_token: String,
    /// RS256 unless the client chose EdDSA.
    id_token: String,
    #[schema(example = "openid profile email")]
    scope: String,
}

/// Reads a form request, refusing other bodies and repeated parameters.
fn form_params(headers: &HeaderMap, body: &Bytes) -> Result<OAuthParams, OAuthError> {
    if !is_form(headers) {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let params = OAuthParams::parse(body);
    if let Some(name) = params.repeated() {
        return Err(OAuthError::invalid_request(format!(
            "the parameter {name} is given more than once"
        )));
    }
    Ok(params)
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Trade a code or a refresh token for tokens (OAuth 2.0 token endpoint).
#[utoipa::path(
    post, path = "/oauth2/token", tag = "oidc",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "ID token, access token and refresh token", body = TokenResponse),
        (status = 400, description = "`invalid_request`, `invalid_grant`, `unsupported_grant_type`, `invalid_scope`", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`", body = OAuthErrorBody),
    )
)]
pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let mut basic = false;
    let result = async {
        let params = form_params(&headers, &body)?;
        let creds = credentials(&headers, &params)?;
        basic = creds.method == AuthMethod::Basic;
        let grant = grant_of(&params)?;
        state.core.token(&creds, grant).await
    }
    .await;
    match result {
        Ok(set) => no_store(
            Json(TokenResponse {
                access_token: set.access_token.expose().to_owned(),
                token_type: "Bearer",
                expires_in: set.expires_in,
                refresh_token: set.refresh_token.expose().to_owned(),
                id_token: set.id_token,
                scope: set.scope,
            })
            .into_response(),
        ),
        Err(error) => OAuthReply {
            error,
            bearer: false,
            basic,
        }
        .into_response(),
    }
}

fn grant_of(params: &OAuthParams) -> Result<TokenGrant, OAuthError> {
    let missing = |name: &str| OAuthError::invalid_request(format!("{name} is missing"));
    match params.get("grant_type").as_deref() {
        None => Err(missing("grant_type")),
        Some("authorization_code") => Ok(TokenGrant::AuthorizationCode {
            code: OAuthSecret::from_client(params.get("code").ok_or_else(|| missing("code"))?),
            redirect_uri: Some(
                params
                    .get("redirect_uri")
                    .ok_or_else(|| missing("redirect_uri"))?,
            ),
            code_verifier: params.get("code_verifier"),
        }),
        Some("refresh_token") => Ok(TokenGrant::RefreshToken {
            refresh_token: OAuthSecret::from_client(
                params
                    .get("refresh_token")
                    .ok_or_else(|| missing("refresh_token"))?,
            ),
            scope: params.get("scope"),
        }),
        Some(_) => Err(OAuthError::new(
            OAuthErrorCode::UnsupportedGrantType,
            "the grant types are authorization_code and refresh_token",
        )),
    }
}

/// The form of a revocation or introspection request.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenRefForm {
    token: String,
    /// `access_token` or `refresh_token` (a hint; both are looked up).
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Revoke a token (RFC 7009): a refresh token ends its whole login.
#[utoipa::path(
    post, path = "/oauth2/revoke", tag = "oidc",
    request_body(content = TokenRefForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked (also for an unknown token, as RFC 7009 asks)"),
        (status = 400, description = "`invalid_request`", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`", body = OAuthErrorBody),
    )
)]
pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let request = match token_request(&headers, &body) {
        Ok(request) => request,
        Err(reply) => return reply.into_response(),
    };
    match state.core.revoke(&request.creds, &request.token).await {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(error) => request.refusal(error).into_response(),
    }
}

/// A revocation or introspection request: the client and the token it names.
struct TokenRequest {
    creds: crate::domain::oidc::grants::ClientCredentials,
    token: OAuthSecret,
}

impl TokenRequest {
    /// A refusal, with the `Basic` challenge if the client used the header.
    fn refusal(&self, error: OAuthError) -> OAuthReply {
        OAuthReply {
            error,
            bearer: false,
            basic: self.creds.method == AuthMethod::Basic,
        }
    }
}

fn token_request(headers: &HeaderMap, body: &Bytes) -> Result<TokenRequest, OAuthReply> {
    let params = form_params(headers, body)?;
    let creds = credentials(headers, &params)?;
    let basic = creds.method == AuthMethod::Basic;
    match params.get("token") {
        Some(token) => Ok(TokenRequest {
            creds,
            token: OAuthSecret::from_client(token),
        }),
        None => Err(OAuthReply {
            error: OAuthError::invalid_request("token is missing"),
            bearer: false,
            basic,
        }),
    }
}

/// Whether a token is active, and its claims (RFC 7662; confidential clients, their own tokens).
#[utoipa::path(
    post, path = "/oauth2/introspect", tag = "oidc",
    request_body(content = TokenRefForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "`{\"active\": false}` or the token's claims"),
        (status = 401, description = "`invalid_client`", body = OAuthErrorBody),
    )
)]
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = match token_request(&headers, &body) {
        Ok(request) => request,
        Err(reply) => return reply.into_response(),
    };
    match state.core.introspect(&request.creds, &request.token).await {
        Ok(answer) => no_store(Json(answer).into_response()),
        Err(error) => request.refusal(error).into_response(),
    }
}

/// The claims about the person an access token's scope grants (GET or POST, bearer token).
#[utoipa::path(
    get, path = "/oauth2/userinfo", tag = "oidc",
    security(("oidc_access_token" = [])),
    responses(
        (status = 200, description = "`sub` and the claims of the token's scope"),
        (status = 401, description = "`invalid_token`, with `WWW-Authenticate: Bearer`", body = OAuthErrorBody),
    )
)]
pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    answer_userinfo(&state, bearer_token(&Method::GET, &headers, &Bytes::new())).await
}

/// Userinfo by POST: the token in the header or the form (RFC 6750 §2.2).
pub async fn userinfo_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer_userinfo(&state, bearer_token(&Method::POST, &headers, &body)).await
}

async fn answer_userinfo(state: &AppState, token: Result<OAuthSecret, OAuthError>) -> Response {
    let result = async {
        let token = token?;
        state.core.userinfo(&token).await
    }
    .await;
    match result {
        Ok(info) => no_store(Json(info).into_response()),
        Err(error) => OAuthReply {
            error,
            bearer: true,
            basic: false,
        }
        .into_response(),
    }
}

/// RFC 6750: the Authorization header, or (POST only) the form's
/// `access_token`; never both.
fn bearer_token(
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<OAuthSecret, OAuthError> {
    let header_token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned());
    let form_token = (method == Method::POST && is_form(headers))
        .then(|| OAuthParams::parse(body).get("access_token"))
        .flatten();
    match (header_token, form_token) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "send the access token once: in the header or in the body",
        )),
        (Some(t), None) | (None, Some(t)) => Ok(OAuthSecret::from_client(t)),
        (None, None) => Err(OAuthError::invalid_token(
            "no access token (Authorization: Bearer …)",
        )),
    }
}
