//! `/.well-known/jwks.json` and `/.well-known/openid-configuration`: what a
//! service needs to check session tokens offline with any JWT library.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

#[derive(Serialize, ToSchema)]
pub struct OpenIdConfiguration {
    /// Equals the `iss` of every session token.
    issuer: String,
    jwks_uri: String,
    id_token_signing_alg_values_supported: Vec<&'static str>,
    subject_types_supported: Vec<&'static str>,
}

/// Discovery: the issuer and where its keys are.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "sessions",
    responses((status = 200, description = "Discovery document", body = OpenIdConfiguration)))]
async fn openid_configuration(State(state): State<AppState>) -> Json<OpenIdConfiguration> {
    let issuer = state.core.signer().issuer().to_owned();
    Json(OpenIdConfiguration {
        jwks_uri: format!("{issuer}/.well-known/jwks.json"),
        issuer,
        id_token_signing_alg_values_supported: vec!["EdDSA"],
        subject_types_supported: vec!["public"],
    })
}
