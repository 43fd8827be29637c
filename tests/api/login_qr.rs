//! Step 1 of a login: `POST /api/auth/qr/generate` (the QR code and its
//! picture) and `POST /api/auth/qr/status` (what the service's page polls).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flow::{Flow, assert_closed, at, text};
use crate::harness::{assert_invalid_field, assert_problem, expect_json};

/// Decodes the QR code in a base64 PNG.
fn decode_qr(qr_image: &str) -> String {
    let bytes = STANDARD.decode(qr_image).expect("qr_image is plain base64");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let img = image::load_from_memory(&bytes).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "QR codes found in the image");
    grids[0].decode().unwrap().1
}

/// A generate body of ServiceB with `field` replaced (or removed, for null).
fn generate_body_with(flow: &Flow, field: &str, value: Value) -> Value {
    let mut body = Flow::generate_body(&flow.service_id, &flow.api_key);
    match value {
        Value::Null => {
            body.as_object_mut().unwrap().remove(field);
        }
        value => body[field] = value,
    }
    body
}

/// Asserts `status` of `qr` and the expiry it reports.
async fn assert_status(flow: &Flow, qr: &str, status: &str, expires_at: &str) {
    let body = flow.status(qr).await;
    assert_eq!(body, json!({"status": status, "expires_at": expires_at}));
}

#[tokio::test]
async fn generate_is_201_with_a_qr_code_valid_120_seconds() {
    let flow = Flow::start().await;
    let body = flow.generate().await;
    let qr_token = text(&body, "qr_token");
    assert!(qr_token.len() >= 16, "{body}");
    assert!(text(&body, "qr_payload").contains(&qr_token), "{body}");
    assert_eq!(body["expires_at"], at(120));
    assert_eq!(body["expires_in"], 120);
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    let expected = [
        "expires_at",
        "expires_in",
        "qr_image",
        "qr_payload",
        "qr_token",
    ];
    assert_eq!(keys, expected, "{body}");
}

#[tokio::test]
async fn qr_image_is_a_base64_png_that_encodes_the_payload_exactly() {
    let flow = Flow::start().await;
    let body = flow.generate().await;
    let image = text(&body, "qr_image");
    assert!(!image.starts_with("data:"), "plain base64, not a data URL");
    assert_eq!(decode_qr(&image), text(&body, "qr_payload"));
}

#[tokio::test]
async fn each_generate_issues_a_different_qr_token() {
    let flow = Flow::start().await;
    let first = flow.qr().await;
    let second = flow.qr().await;
    assert_ne!(first, second);
}

#[tokio::test]
async fn generate_without_requester_fields_is_201() {
    let flow = Flow::start().await;
    let body = json!({"service_id": flow.service_id, "api_key": flow.api_key});
    let created = expect_json(flow.generate_with(&body).await, StatusCode::CREATED).await;
    assert_eq!(created["expires_in"], 120);
}

#[tokio::test]
async fn generate_accepts_an_ipv6_client_ip() {
    let flow = Flow::start().await;
    let body = generate_body_with(&flow, "client_ip", json!("2001:db8::7"));
    expect_json(flow.generate_with(&body).await, StatusCode::CREATED).await;
}

#[tokio::test]
async fn generate_for_an_unknown_service_is_401_invalid_api_key() {
    let flow = Flow::start().await;
    let body = generate_body_with(&flow, "service_id", json!("no-such-service"));
    let res = flow.generate_with(&body).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
}

#[tokio::test]
async fn generate_with_a_wrong_api_key_is_401_invalid_api_key() {
    let flow = Flow::start().await;
    let body = generate_body_with(&flow, "api_key", json!("cas_wrong-key"));
    let res = flow.generate_with(&body).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
}

#[tokio::test]
async fn generate_answers_unknown_service_and_wrong_key_identically() {
    let flow = Flow::start().await;
    let unknown = generate_body_with(&flow, "service_id", json!("no-such-service"));
    let unknown = flow.generate_with(&unknown).await;
    let unknown = assert_problem(unknown, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
    let wrong = generate_body_with(&flow, "api_key", json!("cas_wrong-key"));
    let wrong = flow.generate_with(&wrong).await;
    let wrong = assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
    assert_eq!(unknown, wrong);
}

#[tokio::test]
async fn generate_with_a_rotated_out_key_is_401_and_the_new_key_works() {
    let flow = Flow::start().await;
    // Used just before the rotation, so a cache may hold the old key.
    flow.qr().await;
    let rotated = flow.service_action(&flow.service_id, "rotate-key").await;
    let old = Flow::generate_body(&flow.service_id, &flow.api_key);
    let res = flow.generate_with(&old).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
    flow.qr_for(&flow.service_id, &text(&rotated, "api_key"))
        .await;
}

#[tokio::test]
async fn generate_for_a_deactivated_service_is_403_service_inactive() {
    let flow = Flow::start().await;
    flow.qr().await;
    flow.service_action(&flow.service_id, "deactivate").await;
    let body = Flow::generate_body(&flow.service_id, &flow.api_key);
    let res = flow.generate_with(&body).await;
    assert_problem(res, StatusCode::FORBIDDEN, "service_inactive").await;
}

#[tokio::test]
async fn generate_without_service_id_is_422() {
    let flow = Flow::start().await;
    let body = generate_body_with(&flow, "service_id", Value::Null);
    assert_invalid_field(flow.generate_with(&body).await, "service_id").await;
}

#[tokio::test]
async fn generate_without_api_key_is_422() {
    let flow = Flow::start().await;
    let body = generate_body_with(&flow, "api_key", Value::Null);
    assert_invalid_field(flow.generate_with(&body).await, "api_key").await;
}

#[tokio::test]
async fn generate_with_a_client_ip_that_is_not_an_ip_is_422() {
    let flow = Flow::start().await;
    for bad in ["not-an-ip", "203.0.113.999", "example.com"] {
        let body = generate_body_with(&flow, "client_ip", json!(bad));
        assert_invalid_field(flow.generate_with(&body).await, "client_ip").await;
    }
}

/// The phone shows the reported browser beside "is this you?": it must not
/// be able to reorder or hide what is shown there.
#[tokio::test]
async fn generate_with_a_disguised_client_user_agent_is_422() {
    let flow = Flow::start().await;
    for bad in [
        "Mozilla/5.0 \u{202E}evil",
        "Chrome\u{200B}/120",
        "Firefox\n/121",
    ] {
        let body = generate_body_with(&flow, "client_user_agent", json!(bad));
        assert_invalid_field(flow.generate_with(&body).await, "client_user_agent").await;
    }
    let plain = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0";
    let body = generate_body_with(&flow, "client_user_agent", json!(plain));
    assert_eq!(
        flow.generate_with(&body).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn generate_outside_operating_hours_is_503_system_closed() {
    let flow = Flow::start().await;
    flow.close().await;
    let body = Flow::generate_body(&flow.service_id, &flow.api_key);
    assert_closed(flow.generate_with(&body).await).await;
}

#[tokio::test]
async fn status_of_a_new_qr_code_is_pending_with_the_qr_expiry() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.advance(30);
    assert_status(&flow, &qr, "pending", &at(120)).await;
}

#[tokio::test]
async fn status_after_scan_is_scanned_with_the_pin_expiry() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.advance(30);
    flow.scan(&qr).await;
    assert_status(&flow, &qr, "scanned", &at(30 + 300)).await;
}

#[tokio::test]
async fn status_after_verify_is_verified() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.verify(&qr, &pin).await;
    assert_eq!(flow.status(&qr).await["status"], "verified");
}

#[tokio::test]
async fn status_of_a_pending_qr_code_after_121_seconds_is_expired() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.advance(121);
    assert_status(&flow, &qr, "expired", &at(120)).await;
}

#[tokio::test]
async fn status_after_five_wrong_pins_is_locked() {
    let flow = Flow::start().await;
    let (qr, pin) = flow.scanned().await;
    flow.wrong_pins(&qr, &pin, 5).await;
    assert_eq!(flow.status(&qr).await["status"], "locked");
}

#[tokio::test]
async fn status_after_deny_is_denied() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.deny(&qr).await;
    assert_eq!(flow.status(&qr).await["status"], "denied");
}

#[tokio::test]
async fn status_of_an_unknown_qr_token_is_404_qr_not_found() {
    let flow = Flow::start().await;
    let res = flow.status_res("no-such-qr-token").await;
    assert_problem(res, StatusCode::NOT_FOUND, "qr_not_found").await;
}

#[tokio::test]
async fn status_is_open_outside_operating_hours() {
    let flow = Flow::start().await;
    let qr = flow.qr().await;
    flow.close().await;
    assert_status(&flow, &qr, "pending", &at(120)).await;
}
