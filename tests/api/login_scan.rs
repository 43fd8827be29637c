//! Step 2 of a login, on the phone: `POST /api/auth/qr/scan` (who asks, and
//! the PIN) and `POST /api/auth/qr/deny` ("this wasn't me").

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flow::{CLIENT_IP, CLIENT_UA, Flow, assert_closed, at, text};
use crate::harness::{assert_problem, expect_json};

/// An auth_key shaped like a real one that no phone holds.
const BOGUS_KEY: &str = "00000000-0000-4000-8000-000000000000";

/// The requester a scan shows for a QR code generated with `requester`
/// (the optional `client_ip` / `client_user_agent` fields).
async fn requester_for(requester: Value) -> Value {
    let flow = Flow::start().await;
    let mut body = json!({"service_id": flow.service_id, "api_key": flow.api_key});
    body.as_object_mut()
        .unwrap()
        .extend(requester.as_object().unwrap().clone());
    let created = expect_json(flow.generate_with(&body).await, StatusCode::CREATED).await;
    flow.advance(10);
    flow.scan(&text(&created, "qr_token")).await["requester"].clone()
}

#[tokio::test]
async fn scan_is_200_with_a_six_digit_pin_valid_300_seconds() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.advance(10);
    let body = flow.scan(&qr).await;
    let pin = text(&body, "pin");
    assert!(
        pin.len() == 6 && pin.chars().all(|c| c.is_ascii_digit()),
        "{body}"
    );
    assert_eq!(body["expires_at"], at(10 + 300));
    assert_eq!(body["expires_in"], 300);
}

#[tokio::test]
async fn scan_names_the_service_that_asks() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    let body = flow.scan(&qr).await;
    assert_eq!(
        body["service"],
        json!({
            "service_id": flow.service_id,
            "name": "ServiceB",
            "url": "https://serviceb.example",
        })
    );
}

/// The `requester` a scan 10 s after generate should show.
fn shown(ip: Value, user_agent: Value, same_network: bool) -> Value {
    json!({
        "ip": ip,
        "user_agent": user_agent,
        "requested_at": at(0),
        "same_network": same_network,
    })
}

#[tokio::test]
async fn scan_shows_the_requester_as_the_service_reported_it() {
    let sent = json!({"client_ip": CLIENT_IP, "client_user_agent": CLIENT_UA});
    let expected = shown(json!(CLIENT_IP), json!(CLIENT_UA), false);
    assert_eq!(requester_for(sent).await, expected);
}

#[tokio::test]
async fn scan_from_the_requesters_ip_address_is_same_network() {
    let sent = json!({"client_ip": "127.0.0.1"});
    let expected = shown(json!("127.0.0.1"), Value::Null, true);
    assert_eq!(requester_for(sent).await, expected);
}

#[tokio::test]
async fn scan_of_a_qr_code_without_requester_details_shows_nulls() {
    let expected = shown(Value::Null, Value::Null, false);
    assert_eq!(requester_for(json!({})).await, expected);
}

#[tokio::test]
async fn scan_of_an_unknown_qr_token_is_404_qr_not_found() {
    let flow = Flow::start().await;
    let res = flow.scan_res("no-such-qr-token").await;
    assert_problem(res, StatusCode::NOT_FOUND, "qr_not_found").await;
}

#[tokio::test]
async fn scan_after_121_seconds_is_410_qr_expired() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.advance(121);
    let res = flow.scan_res(&qr).await;
    assert_problem(res, StatusCode::GONE, "qr_expired").await;
}

#[tokio::test]
async fn scan_twice_is_409_qr_already_scanned() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.scan(&qr).await;
    let res = flow.scan_res(&qr).await;
    assert_problem(res, StatusCode::CONFLICT, "qr_already_scanned").await;
}

#[tokio::test]
async fn scan_by_another_person_after_a_scan_is_409_qr_already_scanned() {
    let flow = Flow::start().await;
    let (_, mary) = flow.enrolled("mary").await;
    let qr = flow.qr().await;
    flow.scan(&qr).await;
    let res = flow.scan_as(&qr, &mary).await;
    assert_problem(res, StatusCode::CONFLICT, "qr_already_scanned").await;
}

#[tokio::test]
async fn scan_with_a_bogus_auth_key_is_401_invalid_auth_key() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    let res = flow.scan_as(&qr, BOGUS_KEY).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_auth_key").await;
    assert_eq!(flow.status(&qr).await["status"], "pending");
}

#[tokio::test]
async fn scan_with_an_auth_key_replaced_by_a_later_mobile_login_is_401_invalid_auth_key() {
    let flow = Flow::start().await;
    let new_key = flow.phone_login("john").await;
    let qr = flow.qr().await;
    let res = flow.scan_res(&qr).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_auth_key").await;
    let res = flow.scan_as(&qr, &new_key).await;
    expect_json(res, StatusCode::OK).await;
}

#[tokio::test]
async fn scan_by_a_deactivated_user_is_403_user_inactive() {
    let flow = Flow::start().await;
    flow.user_action(&flow.user_id, "deactivate").await;
    let qr = flow.qr().await;
    let res = flow.scan_res(&qr).await;
    assert_problem(res, StatusCode::FORBIDDEN, "user_inactive").await;
}

#[tokio::test]
async fn scan_for_a_deactivated_service_is_403_service_inactive() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.service_action(&flow.service_id, "deactivate").await;
    let res = flow.scan_res(&qr).await;
    assert_problem(res, StatusCode::FORBIDDEN, "service_inactive").await;
}

#[tokio::test]
async fn scan_outside_operating_hours_is_503_system_closed() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.close().await;
    assert_closed(flow.scan_res(&qr).await).await;
}

#[tokio::test]
async fn deny_before_scan_is_200_denied() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.deny(&qr).await;
}

#[tokio::test]
async fn deny_after_scan_by_the_scanner_is_200_denied() {
    let flow = Flow::start().await;
    let (qr, _) = flow.scanned().await;
    flow.deny(&qr).await;
    assert_eq!(flow.status(&qr).await["status"], "denied");
}

#[tokio::test]
async fn scan_of_a_denied_qr_code_is_409_qr_denied() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.deny(&qr).await;
    let res = flow.scan_res(&qr).await;
    assert_problem(res, StatusCode::CONFLICT, "qr_denied").await;
}

#[tokio::test]
async fn verify_of_a_denied_qr_code_is_409_qr_denied_even_with_the_right_pin() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.deny(&qr).await;
    let res = flow.verify_res(&qr, &pin).await;
    assert_problem(res, StatusCode::CONFLICT, "qr_denied").await;
}

#[tokio::test]
async fn deny_of_a_qr_code_scanned_by_another_person_is_403_wrong_user() {
    let flow = Flow::start().await;
    let (_, mary) = flow.enrolled("mary").await;
    let (qr, pin) = flow.scanned().await;
    let res = flow.deny_as(&qr, &mary).await;
    assert_problem(res, StatusCode::FORBIDDEN, "wrong_user").await;
    assert_eq!(flow.status(&qr).await["status"], "scanned");
    flow.verify(&qr, &pin).await;
}

#[tokio::test]
async fn deny_with_a_bogus_auth_key_is_401_invalid_auth_key() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    let res = flow.deny_as(&qr, BOGUS_KEY).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_auth_key").await;
    assert_eq!(flow.status(&qr).await["status"], "pending");
}

#[tokio::test]
async fn deny_of_an_unknown_qr_token_is_404_qr_not_found() {
    let flow = Flow::start().await;
    let res = flow.deny_as("no-such-qr-token", &flow.auth_key).await;
    assert_problem(res, StatusCode::NOT_FOUND, "qr_not_found").await;
}

#[tokio::test]
async fn deny_after_121_seconds_is_410_qr_expired() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.advance(121);
    let res = flow.deny_as(&qr, &flow.auth_key).await;
    assert_problem(res, StatusCode::GONE, "qr_expired").await;
}

#[tokio::test]
async fn deny_after_verify_is_409_qr_already_used() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    let login = flow.verify(&qr, &pin).await;
    let res = flow.deny_as(&qr, &flow.auth_key).await;
    assert_problem(res, StatusCode::CONFLICT, "qr_already_used").await;
    let session = flow.validate(&text(&login, "session_token")).await;
    assert_eq!(session["valid"], true, "{session}");
}

#[tokio::test]
async fn deny_is_recorded_in_login_history_as_denied() {
    let flow = Flow::start().await;
    let (qr, _) = flow.scanned().await;
    flow.advance(20);
    flow.deny(&qr).await;
    let row = flow.only_row("denied").await;
    assert_eq!(row["user_id"], flow.user_id.as_str());
    assert_eq!(row["username"], "john");
    assert_eq!(row["service_id"], flow.service_id.as_str());
    assert_eq!(row["login_at"], at(20));
    assert_eq!(row["ip"], CLIENT_IP);
    assert_eq!(row["user_agent"], CLIENT_UA);
}

#[tokio::test]
async fn deny_is_open_outside_operating_hours() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.close().await;
    flow.deny(&qr).await;
}

// The order of the checks when several apply.

#[tokio::test]
async fn scan_of_an_expired_qr_code_with_a_bogus_auth_key_is_410_qr_expired() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.advance(121);
    let res = flow.scan_as(&qr, BOGUS_KEY).await;
    assert_problem(res, StatusCode::GONE, "qr_expired").await;
}

#[tokio::test]
async fn scan_of_a_scanned_qr_code_with_a_bogus_auth_key_is_409_qr_already_scanned() {
    let flow = Flow::start().await;
    let (qr, _) = flow.scanned().await;
    let res = flow.scan_as(&qr, BOGUS_KEY).await;
    assert_problem(res, StatusCode::CONFLICT, "qr_already_scanned").await;
}

#[tokio::test]
async fn scan_with_a_bogus_auth_key_for_a_deactivated_service_is_401_invalid_auth_key() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.service_action(&flow.service_id, "deactivate").await;
    let res = flow.scan_as(&qr, BOGUS_KEY).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_auth_key").await;
}

#[tokio::test]
async fn deny_of_an_expired_qr_code_with_a_bogus_auth_key_is_410_qr_expired() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.advance(121);
    let res = flow.deny_as(&qr, BOGUS_KEY).await;
    assert_problem(res, StatusCode::GONE, "qr_expired").await;
}

#[tokio::test]
async fn deny_of_a_verified_qr_code_with_a_bogus_auth_key_is_409_qr_already_used() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.verify(&qr, &pin).await;
    let res = flow.deny_as(&qr, BOGUS_KEY).await;
    assert_problem(res, StatusCode::CONFLICT, "qr_already_used").await;
}
