//! A service's OpenID Connect client settings, for admins:
//! `/api/services/{service_id}/oidc`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::DomainError;
use crate::domain::oidc::client::{OidcClient, OidcClientInput, OidcClientSettings};
use crate::domain::types::ServiceId;
use crate::http::extract::{AdminAuth, ApiJson};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_oidc, put_oidc, delete_oidc))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({
    "client_type": "confidential",
    "redirect_uris": ["https://grafana.example/login/generic_oauth"],
    "post_logout_redirect_uris": ["https://grafana.example/login"],
    "require_pkce": true,
    "allowed_scopes": ["openid", "profile", "email", "groups", "offline_access"],
    "id_token_signed_response_alg": "RS256"
}))]
pub struct OidcClientRequest {
    /// `confidential` (default: authenticates with `service_id` and
    /// `api_key`) or `public` (no secret, PKCE always).
    client_type: Option<String>,
    /// 1–20 absolute URIs, matched exactly: `https`, `http`, or a
    /// private-use scheme with a dot (`com.example.app:/callback`); no
    /// fragment, no user name, no wildcard, at most 2000 characters each.
    #[schema(required = true)]
    redirect_uris: Option<Vec<String>>,
    /// 0–20 URIs, same rules, allowed after `/oauth2/end_session`.
    post_logout_redirect_uris: Option<Vec<String>>,
    /// Whether authorization requests must carry a PKCE challenge
    /// (default `true`; must be `true` for a public client).
    require_pkce: Option<bool>,
    /// Among `openid`, `profile`, `email`, `groups`, `offline_access`
    /// (default: all); must include `openid`.
    allowed_scopes: Option<Vec<String>>,
    /// `RS256` (default, what every OIDC client can verify) or `EdDSA`.
    id_token_signed_response_alg: Option<String>,
}

impl From<OidcClientRequest> for OidcClientInput {
    fn from(body: OidcClientRequest) -> Self {
        OidcClientInput {
            client_type: body.client_type,
            redirect_uris: body.redirect_uris,
            post_logout_redirect_uris: body.post_logout_redirect_uris,
            require_pkce: body.require_pkce,
            allowed_scopes: body.allowed_scopes,
            id_token_signed_response_alg: body.id_token_signed_response_alg,
        }
    }
}

/// A service's client settings, with what an app's configuration needs.
#[derive(Serialize, ToSchema)]
pub struct OidcClientView {
    /// The `service_id`; the client secret is the service's `api_key`.
    client_id: String,
    #[schema(example = "confidential")]
    client_type: &'static str,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    require_pkce: bool,
    allowed_scopes: Vec<&'static str>,
    #[schema(example = "RS256")]
    id_token_signed_response_alg: &'static str,
    /// `["client_secret_basic", "client_secret_post"]`, or `["none"]` for a
    /// public client.
    token_endpoint_auth_methods: Vec<&'static str>,
    /// This server's issuer (`PUBLIC_URL`).
    #[schema(example = "https://auth.example")]
    issuer: String,
    #[schema(example = "https://auth.example/.well-known/openid-configuration")]
    discovery_url: String,
}

impl OidcClientView {
    pub fn new(client: &OidcClient, issuer: &str) -> Self {
        let uris = |list: &[crate::domain::oidc::client::RedirectUri]| {
            list.iter().map(|u| u.as_str().to_owned()).collect()
        };
        Self {
            client_id: client.service_id.to_string(),
            client_type: client.client_type.as_str(),
            redirect_uris: uris(&client.redirect_uris),
            post_logout_redirect_uris: uris(&client.post_logout_redirect_uris),
            require_pkce: client.pkce_required(),
            allowed_scopes: client.allowed_scopes.iter().map(|s| s.as_str()).collect(),
            id_token_signed_response_alg: client.id_token_alg.as_str(),
            token_endpoint_auth_methods: client.client_type.token_endpoint_auth_methods().to_vec(),
            issuer: issuer.to_owned(),
            discovery_url: discovery_url(issuer),
        }
    }
}

/// Where apps that discover their settings look (`--auto-discover-url`,
/// `--discoveryuri`).
pub fn discovery_url(issuer: &str) -> String {
    format!("{issuer}/.well-known/openid-configuration")
}

fn view(state: &AppState, client: &OidcClient) -> Json<OidcClientView> {
    Json(OidcClientView::new(
        client,
        &state.core.settings().public_url,
    ))
}

/// A service's OpenID Connect client settings.
#[utoipa::path(
    get, path = "/api/services/{service_id}/oidc", tag = "services",
    params(("service_id" = String, Path)),
    security(("admin" = [])),
    responses(
        (status = 200, description = "The client settings", body = OidcClientView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`service_not_found`, or `oidc_not_configured`: the service is not an OIDC client", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_oidc(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
    Path(service_id): Path<String>,
) -> Result<Json<OidcClientView>, ApiError> {
    let id = ServiceId::from_client(&service_id);
    state.core.service(&id).await?;
    let client = state
        .core
        .oidc_client(&id)
        .await?
        .ok_or(DomainError::OidcNotConfigured)?;
    Ok(view(&state, &client))
}

/// Make a service an OpenID Connect client, or replace its settings whole
/// (fields left out take their defaults).
#[utoipa::path(
    put, path = "/api/services/{service_id}/oidc", tag = "services",
    params(("service_id" = String, Path)),
    request_body = OidcClientRequest,
    security(("admin" = [])),
    responses(
        (status = 200, description = "The client settings as saved", body = OidcClientView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`service_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, with a field error per broken rule (`redirect_uris[1]`)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn put_oidc(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(service_id): Path<String>,
    ApiJson(body): ApiJson<OidcClientRequest>,
) -> Result<Json<OidcClientView>, ApiError> {
    let id = ServiceId::from_client(&service_id);
    // An unknown service is a 404 before its body is judged.
    state.core.service(&id).await?;
    let settings = OidcClientSettings::parse(body.into())?;
    let client = state.core.set_oidc_client(&id, settings, &admin).await?;
    Ok(view(&state, &client))
}

/// Stop a service being an OpenID Connect client (its API logins go on).
#[utoipa::path(
    delete, path = "/api/services/{service_id}/oidc", tag = "services",
    params(("service_id" = String, Path)),
    security(("admin" = [])),
    responses(
        (status = 204, description = "The service is no longer an OIDC client"),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`service_not_found`, or `oidc_not_configured`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn delete_oidc(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(service_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = ServiceId::from_client(&service_id);
    state.core.remove_oidc_client(&id, &admin).await?;
    Ok(StatusCode::NO_CONTENT)
}
