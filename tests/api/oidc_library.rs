//! The provider as a third-party relying party library sees it: the
//! `openidconnect` crate discovers Central Auth, builds the authorization
//! request, redeems the code, verifies the ID token against the published
//! keys, and calls userinfo, refresh, introspection, revocation and logout.
//! Nothing here is hand-made on the relying party's side, so a field the
//! library expects and we do not send (or send wrong) fails these tests.

use central_auth::clock::{Clock, ManualClock};
use openidconnect::core::CoreIdTokenVerifier;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType,
    CoreSubjectIdentifierType, CoreUserInfoClaims,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndSessionUrl, HttpRequest, HttpResponse, IntrospectionUrl, IssuerUrl, LogoutRequest, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PostLogoutRedirectUrl, ProviderMetadata, RedirectUrl,
    Scope, TokenIntrospectionResponse, TokenResponse, http,
};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::flow::Flow;
use crate::harness::expect_json;
use crate::oidc_flow::{browser, front_channel, query_param};

const REDIRECT: &str = "https://grafana.example/login/generic_oauth";
const AFTER_LOGOUT: &str = "https://grafana.example/login";

/// The discovery fields outside the library's core set that an app uses.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct MoreEndpoints {
    revocation_endpoint: String,
    introspection_endpoint: String,
    end_session_endpoint: String,
}
impl AdditionalProviderMetadata for MoreEndpoints {}

type Metadata = ProviderMetadata<
    MoreEndpoints,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The library's HTTP calls go through reqwest, without following
/// redirects (what the library asks of its client, against SSRF).
async fn send(request: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let client = browser();
    let response = client.execute(reqwest::Request::try_from(request)?).await?;
    let mut out = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        out = out.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(out.body(body).expect("a response rebuilt from a valid one"))
}

/// A Central Auth with john, ServiceB as an OIDC client with `settings`,
/// and the provider's metadata as the library discovered it.
async fn discovered(settings: serde_json::Value) -> (Flow, Metadata) {
    let flow = Flow::start().await;
    let path = format!("/api/services/{}/oidc", flow.service_id);
    expect_json(
        flow.app.admin_put(&flow.admin, &path, &settings).await,
        StatusCode::OK,
    )
    .await;
    let issuer = IssuerUrl::new(flow.app.url("")).unwrap();
    let metadata = Metadata::discover_async(issuer, &send).await.unwrap();
    (flow, metadata)
}

/// The library checks expiry against the time; the server runs on the
/// test's clock, so the library is given that clock too.
fn on_test_clock<'a>(
    verifier: CoreIdTokenVerifier<'a>,
    clock: &ManualClock,
) -> CoreIdTokenVerifier<'a> {
    let clock = clock.clone();
    verifier.set_time_fn(move || {
        let now = clock.now();
        chrono::DateTime::from_timestamp(now.as_second(), now.subsec_nanosecond() as u32)
            .expect("the test clock is a valid time")
    })
}

fn settings() -> serde_json::Value {
    json!({
        "redirect_uris": [REDIRECT],
        "post_logout_redirect_uris": [AFTER_LOGOUT],
    })
}

#[tokio::test]
async fn the_openidconnect_crate_logs_in_verifies_the_id_token_and_reads_userinfo() {
    let (flow, metadata) = discovered(settings()).await;
    let more = metadata.additional_metadata().clone();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(flow.service_id.clone()),
        Some(ClientSecret::new(flow.api_key.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
    .set_introspection_url(IntrospectionUrl::new(more.introspection_endpoint).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let back = front_channel(&flow, &browser(), authorize_url.as_str()).await;
    assert!(back.starts_with(REDIRECT), "{back}");
    assert_eq!(
        query_param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = query_param(&back, "code").unwrap();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token for scope openid");
    // Signature against the JWKS, issuer, audience, expiry and nonce.
    let claims = id_token
        .claims(
            &on_test_clock(client.id_token_verifier(), &flow.app.clock),
            &nonce,
        )
        .unwrap();
    assert_eq!(
        id_token.signing_alg().unwrap(),
        &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256
    );
    assert_eq!(claims.subject().as_str(), flow.user_id);
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("john")
    );
    assert_eq!(claims.email_verified(), Some(true));
    assert!(claims.email().is_some());
    assert!(claims.auth_time().is_some());
    let amr: Vec<&str> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|m| m.as_str())
        .collect();
    assert_eq!(amr, ["swk", "mca"]);
    assert!(tokens.refresh_token().is_some());
    assert!(tokens.expires_in().is_some());

    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&send)
        .await
        .unwrap();
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(info.email(), claims.email());

    // The refresh token rotates: the new pair works, the old one is spent.
    let refresh = tokens.refresh_token().unwrap().clone();
    let renewed = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&send)
        .await
        .unwrap();
    assert_ne!(renewed.refresh_token().unwrap().secret(), refresh.secret());
    let introspected = client
        .introspect(renewed.access_token())
        .request_async(&send)
        .await
        .unwrap();
    assert!(introspected.active());
    assert_eq!(introspected.sub(), Some(flow.user_id.as_str()));

    // Revoking the refresh token ends the grant: its access token too. The
    // library revokes only over https (the test server is plain http on
    // loopback), so this one request is sent as the library would send it.
    let res = browser()
        .post(&more.revocation_endpoint)
        .basic_auth(&flow.service_id, Some(&flow.api_key))
        .form(&[
            ("token", renewed.refresh_token().unwrap().secret().as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let introspected = client
        .introspect(renewed.access_token())
        .request_async(&send)
        .await
        .unwrap();
    assert!(!introspected.active());
    let refused = client
        .user_info(renewed.access_token().clone(), None)
        .unwrap()
        .request_async(&send)
        .await
        .map(|_: CoreUserInfoClaims| ());
    assert!(refused.is_err(), "userinfo after revocation");
}

#[tokio::test]
async fn an_eddsa_client_is_verified_by_the_library_and_logout_returns_to_the_app() {
    let mut eddsa = settings();
    eddsa["id_token_signed_response_alg"] = json!("EdDSA");
    let (flow, metadata) = discovered(eddsa).await;
    let more = metadata.additional_metadata().clone();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(flow.service_id.clone()),
        Some(ClientSecret::new(flow.api_key.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, _state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let back = front_channel(&flow, &browser(), authorize_url.as_str()).await;
    let code = query_param(&back, "code").unwrap();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .unwrap();
    let id_token = tokens.id_token().unwrap();
    let verifier = on_test_clock(client.id_token_verifier(), &flow.app.clock)
        .set_allowed_algs(vec![CoreJwsSigningAlgorithm::EdDsa]);
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    assert_eq!(
        id_token.signing_alg().unwrap(),
        &CoreJwsSigningAlgorithm::EdDsa
    );
    assert_eq!(claims.subject().as_str(), flow.user_id);
    // Scope openid alone: no profile or email claims.
    assert_eq!(claims.preferred_username(), None);
    assert_eq!(claims.email(), None);

    // RP-initiated logout as the library builds it.
    let logout = LogoutRequest::from(EndSessionUrl::new(more.end_session_endpoint).unwrap())
        .set_id_token_hint(id_token)
        .set_post_logout_redirect_uri(PostLogoutRedirectUrl::new(AFTER_LOGOUT.into()).unwrap())
        .set_state(CsrfToken::new("bye".into()))
        .http_get_url();
    let res = browser().get(logout.as_str()).send().await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with(AFTER_LOGOUT), "{to}");
    assert_eq!(query_param(&to, "state").as_deref(), Some("bye"));
    let refused = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&send)
        .await
        .map(|_: CoreUserInfoClaims| ());
    assert!(refused.is_err(), "userinfo after logout");
}
