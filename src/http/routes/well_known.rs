//! `/.well-known/jwks.json` and `/.well-known/openid-configuration`: what a
//! service needs to check session tokens offline with any JWT library.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(jwks))
        .routes(routes!(openid_configuration))
}

#[derive(Serialize, ToSchema)]
pub struct Jwk {
    #[schema(example = "OKP")]
    kty: &'static str,
    #[schema(example = "Ed25519")]
    crv: &'static str,
    /// The public key, base64url.
    x: String,
    kid: String,
    #[schema(example = "EdDSA")]
    alg: &'static str,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    use_: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct JwkSet {
    keys: Vec<Jwk>,
}

/// The public keys that sign session tokens (match the token's `kid`).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "sessions",
    responses((status = 200, description = "JSON Web Key Set", body = JwkSet)))]
async fn jwks(State(state): State<AppState>) -> Json<JwkSet> {
    let keys = state
        .core
        .signer()
        .jwks()
        .iter()
        .map(|k| Jwk {
            kty: k.kty,
            crv: k.crv,
            x: k.x.clone(),
            kid: k.kid.clone(),
            alg: k.alg,
            use_: k.use_,
        })
        .collect();
    Json(JwkSet { keys })
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
