//! `/.well-known/jwks.json` and `/.well-known/openid-configuration`: what a
//! service needs to check session tokens offline with any JWT library.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::signing::JwsAlgorithm;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(jwks))
        .routes(routes!(openid_configuration))
}

/// One public key: an Ed25519 key (`kty` OKP) has `crv` and `x`, an RSA
/// key (`kty` RSA) has `n` and `e`.
#[derive(Serialize, ToSchema)]
pub struct Jwk {
    #[schema(example = "RSA")]
    kty: &'static str,
    /// The curve of an OKP key.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "Ed25519", nullable = false)]
    crv: Option<&'static str>,
    /// The public key of an OKP key, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    x: Option<String>,
    /// The modulus of an RSA key, base64url big-endian.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    n: Option<String>,
    /// The public exponent of an RSA key, base64url big-endian.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "AQAB", nullable = false)]
    e: Option<String>,
    kid: String,
    /// RS256 (ID tokens) or EdDSA (session tokens; ID tokens where a client
    /// asks).
    #[schema(example = "RS256")]
    alg: &'static str,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    use_: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct JwkSet {
    keys: Vec<Jwk>,
}

/// The public keys that sign session tokens and ID tokens (match the
/// token's `kid`).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "sessions",
    responses((status = 200, description = "JSON Web Key Set", body = JwkSet)))]
async fn jwks(State(state): State<AppState>) -> Result<Json<JwkSet>, ApiError> {
    // The RSA key is made on first need; a relying party reading the JWKS
    // is about to verify an RS256 ID token.
    state.core.ensure_rsa_key().await?;
    let keys = state
        .core
        .signer()
        .jwks()
        .iter()
        .map(|k| Jwk {
            kty: k.kty,
            crv: k.crv,
            x: k.x.clone(),
            n: k.n.clone(),
            e: k.e.clone(),
            kid: k.kid.clone(),
            alg: k.alg,
            use_: k.use_,
        })
        .collect();
    Ok(Json(JwkSet { keys }))
}

/// OpenID Connect discovery metadata (OIDC Discovery 1.0, RFC 8414).
#[derive(Serialize, ToSchema)]
pub struct OpenIdConfiguration {
    /// Equals `PUBLIC_URL` and the `iss` of every token.
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    end_session_endpoint: String,
    revocation_endpoint: String,
    introspection_endpoint: String,
    scopes_supported: Vec<&'static str>,
    response_types_supported: Vec<&'static str>,
    response_modes_supported: Vec<&'static str>,
    grant_types_supported: Vec<&'static str>,
    subject_types_supported: Vec<&'static str>,
    /// ID tokens: RS256 by default, EdDSA per client. Session tokens are EdDSA.
    id_token_signing_alg_values_supported: Vec<&'static str>,
    token_endpoint_auth_methods_supported: Vec<&'static str>,
    revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    code_challenge_methods_supported: Vec<&'static str>,
    claims_supported: Vec<&'static str>,
    prompt_values_supported: Vec<&'static str>,
    /// The authorization response carries `iss` (RFC 9207).
    authorization_response_iss_parameter_supported: bool,
    claims_parameter_supported: bool,
    request_parameter_supported: bool,
    request_uri_parameter_supported: bool,
}

/// Discovery: the issuer, its endpoints and what it supports.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "oidc",
    responses((status = 200, description = "Discovery document", body = OpenIdConfiguration)))]
async fn openid_configuration(State(state): State<AppState>) -> Json<OpenIdConfiguration> {
    let issuer = state.core.public_url().to_owned();
    let at = |path: &str| format!("{issuer}{path}");
    let secret_methods = vec!["client_secret_basic", "client_secret_post"];
    Json(OpenIdConfiguration {
        authorization_endpoint: at("/oauth2/authorize"),
        token_endpoint: at("/oauth2/token"),
        userinfo_endpoint: at("/oauth2/userinfo"),
        jwks_uri: at("/.well-known/jwks.json"),
        end_session_endpoint: at("/oauth2/end_session"),
        revocation_endpoint: at("/oauth2/revoke"),
        introspection_endpoint: at("/oauth2/introspect"),
        issuer: issuer.clone(),
        scopes_supported: crate::domain::oidc::client::Scope::ALL
            .iter()
            .map(|s| s.as_str())
            .collect(),
        response_types_supported: vec!["code"],
        response_modes_supported: vec!["query"],
        grant_types_supported: vec!["authorization_code", "refresh_token"],
        subject_types_supported: vec!["public"],
        id_token_signing_alg_values_supported: JwsAlgorithm::ALL
            .iter()
            .map(|a| a.as_str())
            .collect(),
        token_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        revocation_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        introspection_endpoint_auth_methods_supported: secret_methods,
        code_challenge_methods_supported: vec!["S256"],
        claims_supported: vec![
            "iss",
            "sub",
            "aud",
            "azp",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "amr",
            "sid",
            "name",
            "preferred_username",
            "email",
            "email_verified",
            "groups",
        ],
        prompt_values_supported: vec!["none", "login", "consent", "select_account"],
        authorization_response_iss_parameter_supported: true,
        claims_parameter_supported: false,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
    })
}
