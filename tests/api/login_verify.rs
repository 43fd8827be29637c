//! Step 3 of a login: `POST /api/auth/pin/verify`, the PIN limit, the
//! re-checks made since the scan, and the order in which errors are checked.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::flow::{Flow, assert_closed, at, text, wrong_pin};
use crate::harness::{assert_invalid_field, assert_problem, expect_json};

/// ServiceB's verify body with a wrong `api_key`.
fn with_wrong_key(flow: &Flow, qr: &str, pin: &str) -> Value {
    let mut body = flow.verify_body(qr, pin);
    body["api_key"] = json!("cas_not-the-key");
    body
}

/// Verifies with the credentials of another service, ServiceC.
async fn verify_as_service_c(flow: &Flow, qr: &str, pin: &str) -> Response {
    let (id, key) = flow.new_service("ServiceC").await;
    let body = json!({"qr_token": qr, "pin": pin, "service_id": id, "api_key": key});
    flow.verify_with(&body).await
}

/// Asserts a 401 `invalid_pin` with `remaining` attempts left.
async fn assert_invalid_pin(res: Response, remaining: i64) {
    let body = assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_pin").await;
    assert_eq!(body["attempts_remaining"], remaining, "{body}");
}

#[tokio::test]
async fn verify_is_200_with_a_30_minute_session_for_the_user() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.advance(40);
    let body = flow.verify(&qr, &pin).await;
    let token = text(&body, "session_token");
    assert_eq!(token.split('.').count(), 3, "not a JWT: {token}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(!text(&body, "session_id").is_empty(), "{body}");
    assert_eq!(body["expires_at"], at(40 + 1800));
    assert_eq!(body["expires_in"], 1800);
    assert_eq!(
        body["user"],
        json!({
            "user_id": flow.user_id,
            "username": "john",
            "full_name": "John Smith",
            "email": "john@example.com",
        })
    );
    assert_eq!(body["service_id"], flow.service_id.as_str());
}

#[tokio::test]
async fn verify_without_service_credentials_is_200_for_a_service_that_allows_it() {
    let flow = Flow::start().await;
    allow_without_credentials(&flow).await;
    let (qr, pin) = flow.scanned().await;
    let res = flow.verify_with(&json!({"qr_token": qr, "pin": pin})).await;
    let body = expect_json(res, StatusCode::OK).await;
    assert_eq!(body["user"]["user_id"], flow.user_id.as_str());
    assert_eq!(body["service_id"], flow.service_id.as_str());
    // …and its tokens validate without naming the service (the seed's call).
    let token = text(&body, "session_token");
    let verdict = flow.validate_with(&json!({"session_token": token})).await;
    assert_eq!(verdict["valid"], true, "{verdict}");
}

/// Turns ServiceB's "require credentials" off, as for a service of the seed.
async fn allow_without_credentials(flow: &Flow) {
    let res = flow
        .app
        .client
        .patch(flow.app.url(&format!("/api/services/{}", flow.service_id)))
        .bearer_auth(&flow.admin)
        .json(&json!({"require_credentials": false}))
        .send()
        .await
        .unwrap();
    let service = expect_json(res, StatusCode::OK).await;
    assert_eq!(service["require_credentials"], false);
}

/// A new service requires its credentials: a PIN check without them is
/// refused before the PIN is looked at, and a validation that does not
/// name the service is `wrong_service`, so a service that forgets cannot
/// accept another service's login.
#[tokio::test]
async fn a_new_service_requires_its_credentials_on_verify_and_validate() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    let res = flow.verify_with(&json!({"qr_token": qr, "pin": pin})).await;
    let problem = assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
    assert!(
        text(&problem, "detail").contains("requires its service_id and api_key"),
        "{problem}"
    );
    assert_eq!(flow.status(&qr).await["status"], "scanned", "nothing spent");
    let login = flow.verify(&qr, &pin).await;
    let token = text(&login, "session_token");
    let verdict = flow.validate_with(&json!({"session_token": token})).await;
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["reason"], "wrong_service");
    assert_eq!(flow.validate(&token).await["valid"], true);
    // Turned off (an old integration), both calls work without them again.
    allow_without_credentials(&flow).await;
    let verdict = flow.validate_with(&json!({"session_token": token})).await;
    assert_eq!(verdict["valid"], true, "{verdict}");
}

#[tokio::test]
async fn verify_with_a_wrong_api_key_is_401_invalid_api_key() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    let res = flow.verify_with(&with_wrong_key(&flow, &qr, &pin)).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
    assert_eq!(flow.status(&qr).await["status"], "scanned");
}

#[tokio::test]
async fn verify_with_another_services_credentials_is_403_wrong_service() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    let res = verify_as_service_c(&flow, &qr, &pin).await;
    assert_problem(res, StatusCode::FORBIDDEN, "wrong_service").await;
    assert_eq!(flow.status(&qr).await["status"], "scanned");
}

#[tokio::test]
async fn verify_of_an_unknown_qr_token_is_404_qr_not_found() {
    let flow = Flow::start().await;
    let res = flow.verify_res("no-such-qr-token", "123456").await;
    assert_problem(res, StatusCode::NOT_FOUND, "qr_not_found").await;
}

#[tokio::test]
async fn verify_of_a_qr_code_never_scanned_after_121_seconds_is_410_qr_expired() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.advance(121);
    let res = flow.verify_res(&qr, "123456").await;
    assert_problem(res, StatusCode::GONE, "qr_expired").await;
}

#[tokio::test]
async fn verify_301_seconds_after_the_scan_is_410_pin_expired() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.advance(301);
    let res = flow.verify_res(&qr, &pin).await;
    assert_problem(res, StatusCode::GONE, "pin_expired").await;
}

#[tokio::test]
async fn verify_before_the_scan_is_409_qr_not_scanned() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    let res = flow.verify_res(&qr, "123456").await;
    assert_problem(res, StatusCode::CONFLICT, "qr_not_scanned").await;
}

#[tokio::test]
async fn verify_twice_is_409_qr_already_used() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.verify(&qr, &pin).await;
    let res = flow.verify_res(&qr, &pin).await;
    assert_problem(res, StatusCode::CONFLICT, "qr_already_used").await;
}

#[tokio::test]
async fn wrong_pins_count_attempts_remaining_down_from_4_to_0() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    for remaining in [4, 3, 2, 1, 0] {
        let res = flow.verify_res(&qr, &wrong_pin(&pin)).await;
        assert_invalid_pin(res, remaining).await;
    }
}

#[tokio::test]
async fn verify_after_five_wrong_pins_is_429_too_many_attempts_even_with_the_right_pin() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.wrong_pins(&qr, &pin, 5).await;
    for attempt in [wrong_pin(&pin), pin.clone()] {
        let res = flow.verify_res(&qr, &attempt).await;
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    }
}

#[tokio::test]
async fn right_pin_after_four_wrong_ones_is_200() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.wrong_pins(&qr, &pin, 4).await;
    flow.verify(&qr, &pin).await;
}

#[tokio::test]
async fn verify_after_the_user_is_deactivated_is_403_user_inactive() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.user_action(&flow.user_id, "deactivate").await;
    let res = flow.verify_res(&qr, &pin).await;
    assert_problem(res, StatusCode::FORBIDDEN, "user_inactive").await;
}

#[tokio::test]
async fn verify_after_the_service_is_deactivated_is_403_service_inactive() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.service_action(&flow.service_id, "deactivate").await;
    let res = flow.verify_res(&qr, &pin).await;
    assert_problem(res, StatusCode::FORBIDDEN, "service_inactive").await;
}

#[tokio::test]
async fn verify_with_a_pin_that_is_not_six_digits_is_422() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    for bad in ["12345", "1234567", "12a456", ""] {
        let res = flow.verify_res(&qr, bad).await;
        assert_invalid_field(res, "pin").await;
    }
    flow.verify(&qr, &pin).await;
}

#[tokio::test]
async fn verify_sets_the_users_last_login() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.advance(45);
    flow.verify(&qr, &pin).await;
    let users = flow.app.admin_json(&flow.admin, "/api/admin/users").await;
    assert_eq!(users["items"][0]["user_id"], flow.user_id.as_str());
    assert_eq!(users["items"][0]["last_login"], at(45));
}

#[tokio::test]
async fn verify_outside_operating_hours_is_503_system_closed() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.close().await;
    assert_closed(flow.verify_res(&qr, &pin).await).await;
}

// The order of the checks when several apply.

#[tokio::test]
async fn verify_of_an_unknown_qr_token_with_a_wrong_api_key_is_404() {
    let flow = Flow::start().await;
    let body = with_wrong_key(&flow, "no-such-qr-token", "123456");
    let res = flow.verify_with(&body).await;
    assert_problem(res, StatusCode::NOT_FOUND, "qr_not_found").await;
}

#[tokio::test]
async fn verify_of_an_expired_qr_code_with_a_wrong_api_key_is_410_qr_expired() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.advance(121);
    let res = flow
        .verify_with(&with_wrong_key(&flow, &qr, "123456"))
        .await;
    assert_problem(res, StatusCode::GONE, "qr_expired").await;
}

#[tokio::test]
async fn verify_after_the_pin_expired_with_another_services_credentials_is_410_pin_expired() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.advance(301);
    let res = verify_as_service_c(&flow, &qr, &pin).await;
    assert_problem(res, StatusCode::GONE, "pin_expired").await;
}

#[tokio::test]
async fn verify_of_an_unscanned_qr_code_with_a_wrong_api_key_is_409_qr_not_scanned() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    let res = flow
        .verify_with(&with_wrong_key(&flow, &qr, "123456"))
        .await;
    assert_problem(res, StatusCode::CONFLICT, "qr_not_scanned").await;
}

#[tokio::test]
async fn verify_of_a_locked_qr_code_with_another_services_credentials_is_429() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.wrong_pins(&qr, &pin, 5).await;
    let res = verify_as_service_c(&flow, &qr, &pin).await;
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
}

#[tokio::test]
async fn verify_with_a_wrong_api_key_for_a_deactivated_user_is_401_invalid_api_key() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.user_action(&flow.user_id, "deactivate").await;
    let res = flow.verify_with(&with_wrong_key(&flow, &qr, &pin)).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
}

#[tokio::test]
async fn verify_with_a_wrong_pin_for_a_deactivated_user_is_403_user_inactive() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.user_action(&flow.user_id, "deactivate").await;
    let res = flow.verify_res(&qr, &wrong_pin(&pin)).await;
    assert_problem(res, StatusCode::FORBIDDEN, "user_inactive").await;
}

#[tokio::test]
async fn verify_with_another_services_credentials_costs_no_pin_attempt() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    let res = verify_as_service_c(&flow, &qr, &wrong_pin(&pin)).await;
    assert_problem(res, StatusCode::FORBIDDEN, "wrong_service").await;
    let res = flow.verify_res(&qr, &wrong_pin(&pin)).await;
    assert_invalid_pin(res, 4).await;
}

#[tokio::test]
async fn locked_qr_code_still_answers_429_after_the_pin_expired() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.wrong_pins(&qr, &pin, 5).await;
    flow.advance(301);
    let res = flow.verify_res(&qr, &pin).await;
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
}

#[tokio::test]
async fn verify_of_a_used_qr_code_after_the_pin_expired_is_410_pin_expired() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.verify(&qr, &pin).await;
    flow.advance(301);
    let res = flow.verify_res(&qr, &pin).await;
    assert_problem(res, StatusCode::GONE, "pin_expired").await;
}

#[tokio::test]
async fn verify_of_a_denied_qr_code_after_the_pin_expired_is_410_pin_expired() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.deny(&qr).await;
    flow.advance(301);
    let res = flow.verify_res(&qr, &pin).await;
    assert_problem(res, StatusCode::GONE, "pin_expired").await;
}
