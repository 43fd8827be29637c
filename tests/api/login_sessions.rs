//! After a login: `POST /api/auth/validate-session` (the authority, which
//! renews), `POST /api/auth/logout`, the ends of a session (idle, absolute,
//! deactivation) and offline checks with `/.well-known/*`.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flow::{Flow, at, text};
use crate::harness::{assert_problem, expect_json};

const MINUTE: i64 = 60;
const TWELVE_HOURS: i64 = 12 * 60 * MINUTE;

/// `token` with one character of its signature changed.
fn tampered(token: &str) -> String {
    let i = token.rfind('.').unwrap() + 10;
    let mut chars: Vec<char> = token.chars().collect();
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// Asserts a `valid: false` answer with `reason`, and nothing else.
async fn assert_invalid(flow: &Flow, token: &str, reason: &str) {
    let body = flow.validate(token).await;
    assert_eq!(body, json!({"valid": false, "reason": reason}));
}

/// Asserts a valid answer for John's ServiceB session that lasts until
/// `expires_at` (seconds after the start) while the clock is at `now`;
/// returns the session token it hands back.
fn assert_valid(flow: &Flow, body: &Value, now: i64, expires_at: i64) -> String {
    assert_eq!(body["valid"], true, "{body}");
    assert_eq!(body["user"]["user_id"], flow.user_id.as_str(), "{body}");
    assert_eq!(body["service_id"], flow.service_id.as_str(), "{body}");
    assert_eq!(body["expires_at"], at(expires_at), "{body}");
    assert_eq!(body["expires_in"], expires_at - now, "{body}");
    text(body, "session_token")
}

/// John's session, validated 20 minutes after login; returns the login's
/// token and the one the validation handed back.
async fn renewed_after_20_minutes(flow: &Flow) -> (String, String) {
    let token = flow.session().await;
    flow.advance(20 * MINUTE);
    let body = flow.validate(&token).await;
    let renewed = assert_valid(flow, &body, 20 * MINUTE, 50 * MINUTE);
    (token, renewed)
}

/// John's session, validated once: from then on the server may answer for
/// it from memory (the SQLite session cache), so what follows checks that a
/// change is seen through that memory at once.
async fn validated_session(flow: &Flow) -> String {
    let token = flow.session().await;
    let body = flow.validate(&token).await;
    assert_valid(flow, &body, 0, 30 * MINUTE);
    token
}

async fn well_known(flow: &Flow, name: &str) -> Value {
    let res = flow.app.get(&format!("/.well-known/{name}")).await;
    expect_json(res, StatusCode::OK).await
}

/// The claims of `token`, checked offline with only the JWKS document and
/// the issuer of the discovery document, as a service's JWT library would.
async fn offline_claims(flow: &Flow, token: &str) -> Value {
    let jwks: JwkSet = serde_json::from_value(well_known(flow, "jwks.json").await).unwrap();
    let issuer = text(&well_known(flow, "openid-configuration").await, "issuer");
    let header = jsonwebtoken::decode_header(token).unwrap();
    let kid = header.kid.expect("the token names its key");
    let jwk = jwks.find(&kid).expect("the token's key is published");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[&flow.service_id]);
    validation.set_issuer(&[issuer]);
    // The server runs on the test's manual clock, not the wall clock; `exp`
    // is checked against the login time below instead.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("the token verifies offline")
        .claims
}

#[tokio::test]
async fn validate_session_of_a_fresh_login_is_valid_with_the_user_and_its_expiry() {
    let flow = Flow::start().await;
    let login = flow.login().await;
    let body = flow.validate(&text(&login, "session_token")).await;
    assert_valid(&flow, &body, 0, 30 * MINUTE);
    assert_eq!(body["session_id"], login["session_id"]);
    assert_eq!(body["user"], login["user"]);
}

#[tokio::test]
async fn validate_session_renews_the_session_for_30_minutes_from_now() {
    let flow = Flow::start().await;
    renewed_after_20_minutes(&flow).await;
}

#[tokio::test]
async fn renewed_session_outlives_its_first_30_minutes() {
    let flow = Flow::start().await;
    let (_, renewed) = renewed_after_20_minutes(&flow).await;
    flow.advance(20 * MINUTE);
    let body = flow.validate(&renewed).await;
    assert_valid(&flow, &body, 40 * MINUTE, 70 * MINUTE);
}

#[tokio::test]
async fn validation_soon_after_login_also_renews_for_30_minutes_from_then() {
    let flow = Flow::start().await;
    let token = flow.session().await;
    flow.advance(30);
    let renewed = assert_valid(&flow, &flow.validate(&token).await, 30, 30 + 30 * MINUTE);
    flow.advance(30 * MINUTE - 15);
    let body = flow.validate(&renewed).await;
    assert_valid(&flow, &body, 15 + 30 * MINUTE, 15 + 60 * MINUTE);
}

#[tokio::test]
async fn renewed_session_token_is_good_for_30_minutes_offline() {
    let flow = Flow::start().await;
    let login = flow.login().await;
    flow.advance(20 * MINUTE);
    let body = flow.validate(&text(&login, "session_token")).await;
    let claims = offline_claims(&flow, &text(&body, "session_token")).await;
    let now = crate::harness::test_start().as_second() + 20 * MINUTE;
    assert_eq!(claims["iat"], now);
    assert_eq!(claims["exp"], now + 30 * MINUTE);
    assert_eq!(claims["sid"], login["session_id"]);
}

#[tokio::test]
async fn session_without_validation_expires_after_30_minutes() {
    let flow = Flow::start().await;
    let token = flow.session().await;
    flow.advance(30 * MINUTE + 1);
    assert_invalid(&flow, &token, "expired").await;
}

#[tokio::test]
async fn session_expires_30_minutes_after_the_last_validation() {
    let flow = Flow::start().await;
    let (_, renewed) = renewed_after_20_minutes(&flow).await;
    flow.advance(30 * MINUTE + 1);
    assert_invalid(&flow, &renewed, "expired").await;
}

#[tokio::test]
async fn session_ends_12_hours_after_login_however_often_it_is_validated() {
    let flow = Flow::start().await;
    let mut token = flow.session().await;
    let mut now = 0;
    while now + 20 * MINUTE < TWELVE_HOURS {
        flow.advance(20 * MINUTE);
        now += 20 * MINUTE;
        let body = flow.validate(&token).await;
        let expires_at = (now + 30 * MINUTE).min(TWELVE_HOURS);
        token = assert_valid(&flow, &body, now, expires_at);
    }
    flow.advance(TWELVE_HOURS - now);
    assert_invalid(&flow, &token, "expired").await;
}

#[tokio::test]
async fn validate_session_for_its_own_service_is_valid() {
    let flow = Flow::start().await;
    let token = flow.session().await;
    let body = json!({"session_token": token, "service_id": flow.service_id});
    assert_valid(&flow, &flow.validate_with(&body).await, 0, 30 * MINUTE);
}

#[tokio::test]
async fn validate_session_for_another_service_is_wrong_service() {
    let flow = Flow::start().await;
    let (service_c, _) = flow.new_service("ServiceC").await;
    let token = flow.session().await;
    let body = json!({"session_token": token, "service_id": service_c});
    assert_eq!(
        flow.validate_with(&body).await,
        json!({"valid": false, "reason": "wrong_service"})
    );
}

#[tokio::test]
async fn validate_session_with_a_garbage_token_is_invalid() {
    let flow = Flow::start().await;
    assert_invalid(&flow, "not-a-jwt", "invalid").await;
}

#[tokio::test]
async fn validate_session_with_a_tampered_signature_is_invalid() {
    let flow = Flow::start().await;
    let token = flow.session().await;
    assert_invalid(&flow, &tampered(&token), "invalid").await;
}

#[tokio::test]
async fn logout_is_200_with_the_session_id() {
    let flow = Flow::start().await;
    let login = flow.login().await;
    let res = flow.logout_res(&text(&login, "session_token")).await;
    assert_eq!(
        expect_json(res, StatusCode::OK).await,
        json!({"logged_out": true, "session_id": login["session_id"]})
    );
}

#[tokio::test]
async fn validate_session_after_logout_is_logged_out() {
    let flow = Flow::start().await;
    let token = validated_session(&flow).await;
    expect_json(flow.logout_res(&token).await, StatusCode::OK).await;
    assert_invalid(&flow, &token, "logged_out").await;
}

#[tokio::test]
async fn logout_ends_every_token_of_the_session() {
    let flow = Flow::start().await;
    let (token, renewed) = renewed_after_20_minutes(&flow).await;
    expect_json(flow.logout_res(&token).await, StatusCode::OK).await;
    assert_invalid(&flow, &renewed, "logged_out").await;
}

#[tokio::test]
async fn logout_twice_is_200() {
    let flow = Flow::start().await;
    let login = flow.login().await;
    let token = text(&login, "session_token");
    expect_json(flow.logout_res(&token).await, StatusCode::OK).await;
    let again = expect_json(flow.logout_res(&token).await, StatusCode::OK).await;
    assert_eq!(
        again,
        json!({"logged_out": true, "session_id": login["session_id"]})
    );
}

#[tokio::test]
async fn logout_of_an_expired_session_is_200() {
    let flow = Flow::start().await;
    let token = flow.session().await;
    flow.advance(31 * MINUTE);
    let body = expect_json(flow.logout_res(&token).await, StatusCode::OK).await;
    assert_eq!(body["logged_out"], true);
}

#[tokio::test]
async fn logout_with_a_garbage_token_is_401_invalid_token() {
    let flow = Flow::start().await;
    let res = flow.logout_res("not-a-jwt").await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[tokio::test]
async fn logout_with_a_tampered_token_is_401_invalid_token() {
    let flow = Flow::start().await;
    let token = flow.session().await;
    let res = flow.logout_res(&tampered(&token)).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert_valid(&flow, &flow.validate(&token).await, 0, 30 * MINUTE);
}

#[tokio::test]
async fn deactivating_the_user_ends_the_session_as_user_inactive() {
    let flow = Flow::start().await;
    let token = validated_session(&flow).await;
    flow.user_action(&flow.user_id, "deactivate").await;
    assert_invalid(&flow, &token, "user_inactive").await;
}

#[tokio::test]
async fn activating_the_user_again_does_not_revive_the_session() {
    let flow = Flow::start().await;
    let token = validated_session(&flow).await;
    flow.user_action(&flow.user_id, "deactivate").await;
    flow.user_action(&flow.user_id, "activate").await;
    let body = flow.validate(&token).await;
    assert_eq!(body["valid"], false, "{body}");
}

#[tokio::test]
async fn deactivating_the_service_ends_the_session_as_service_inactive() {
    let flow = Flow::start().await;
    let token = validated_session(&flow).await;
    flow.service_action(&flow.service_id, "deactivate").await;
    assert_invalid(&flow, &token, "service_inactive").await;
}

#[tokio::test]
async fn activating_the_service_again_does_not_revive_the_session() {
    let flow = Flow::start().await;
    let token = validated_session(&flow).await;
    flow.service_action(&flow.service_id, "deactivate").await;
    flow.service_action(&flow.service_id, "activate").await;
    let body = flow.validate(&token).await;
    assert_eq!(body["valid"], false, "{body}");
}

#[tokio::test]
async fn validate_session_and_logout_are_open_outside_operating_hours() {
    let flow = Flow::start().await;
    let token = flow.session().await;
    flow.close().await;
    assert_valid(&flow, &flow.validate(&token).await, 0, 30 * MINUTE);
    expect_json(flow.logout_res(&token).await, StatusCode::OK).await;
}

#[tokio::test]
async fn session_token_verifies_offline_with_the_published_jwks() {
    let flow = Flow::start().await;
    flow.advance(90);
    let login = flow.login().await;
    let claims = offline_claims(&flow, &text(&login, "session_token")).await;
    let issuer = text(&well_known(&flow, "openid-configuration").await, "issuer");
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["sub"], flow.user_id.as_str());
    assert_eq!(claims["aud"], flow.service_id.as_str());
    assert_eq!(claims["sid"], login["session_id"]);
    let login_at = crate::harness::test_start().as_second() + 90;
    assert_eq!(claims["iat"], login_at);
    assert_eq!(claims["exp"], login_at + 1800);
    assert!(!text(&claims, "jti").is_empty(), "{claims}");
}

#[tokio::test]
async fn session_token_carries_no_secret() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    let token = text(&flow.verify(&qr, &pin).await, "session_token");
    let claims = offline_claims(&flow, &token).await;
    let mut names: Vec<&String> = claims.as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["aud", "exp", "iat", "iss", "jti", "sid", "sub"]);
    let all = claims.to_string();
    for secret in [&flow.auth_key, &flow.api_key, &qr, &pin] {
        assert!(!all.contains(secret.as_str()), "{claims}");
    }
}

#[tokio::test]
async fn jwks_publishes_only_public_signing_keys_with_a_kid() {
    let flow = Flow::start().await;
    let jwks = well_known(&flow, "jwks.json").await;
    let keys = jwks["keys"].as_array().unwrap();
    assert!(!keys.is_empty(), "{jwks}");
    for key in keys {
        assert!(!text(key, "kid").is_empty(), "{key}");
        assert!(
            ["EdDSA", "RS256"].contains(&key["alg"].as_str().unwrap()),
            "{key}"
        );
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                key.get(private).is_none(),
                "a private key is published: {key}"
            );
        }
    }
}

#[tokio::test]
async fn openid_configuration_names_the_tokens_issuer_and_its_jwks_uri() {
    let flow = Flow::start().await;
    let claims = offline_claims(&flow, &flow.session().await).await;
    let config = well_known(&flow, "openid-configuration").await;
    let issuer = text(&config, "issuer");
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(
        text(&config, "jwks_uri"),
        format!("{issuer}/.well-known/jwks.json")
    );
}

#[tokio::test]
async fn jwks_uri_serves_the_jwks() {
    let flow = Flow::start().await;
    let config = well_known(&flow, "openid-configuration").await;
    let jwks_uri = text(&config, "jwks_uri");
    let res = flow.app.client.get(&jwks_uri).send().await;
    let res = res.unwrap_or_else(|e| panic!("jwks_uri {jwks_uri} cannot be fetched: {e}"));
    let fetched = expect_json(res, StatusCode::OK).await;
    assert_eq!(fetched, well_known(&flow, "jwks.json").await);
}
