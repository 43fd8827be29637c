//! `POST /api/register`: the queue entry it creates, reserved names, and
//! every field rule.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{
    TestApp, assert_invalid_field, assert_problem, error_fields, expect_json, registration,
};

/// A valid registration of `base` with `field` replaced by `value`.
fn registration_with(base: &str, field: &str, value: Value) -> Value {
    let mut body = registration(base);
    body[field] = value;
    body
}

fn john_with(field: &str, value: Value) -> Value {
    registration_with("john", field, value)
}

/// Registers with `field` set to `value` and expects a 422 naming only that field.
async fn assert_field_refused(app: &TestApp, field: &str, value: Value) {
    let res = app
        .post("/api/register", &john_with(field, value.clone()))
        .await;
    let body = assert_invalid_field(res, field).await;
    assert_eq!(error_fields(&body), [field], "{field} = {value}: {body}");
}

/// Registers `base` with `field` set to `value` and expects 201.
async fn assert_field_accepted(app: &TestApp, base: &str, field: &str, value: Value) {
    let res = app
        .post(
            "/api/register",
            &registration_with(base, field, value.clone()),
        )
        .await;
    let body = expect_json(res, StatusCode::CREATED).await;
    assert_eq!(body["status"], "pending", "{field} = {value}");
}

/// The one pending entry of a fresh app.
async fn only_pending(app: &TestApp) -> Value {
    let token = app.admin_token().await;
    let body = app.admin_json(&token, "/api/admin/pending").await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{body}");
    items[0].clone()
}

#[tokio::test]
async fn register_is_201_pending_with_a_user_id() {
    let app = TestApp::spawn().await;
    let res = app.post("/api/register", &registration("john")).await;
    let body = expect_json(res, StatusCode::CREATED).await;
    assert_eq!(body["status"], "pending");
    assert!(!body["user_id"].as_str().unwrap().is_empty(), "{body}");
}

#[tokio::test]
async fn registration_is_queued_with_every_field() {
    let app = TestApp::spawn().await;
    let user_id = app.register("john").await;
    let entry = only_pending(&app).await;
    assert_eq!(
        entry,
        json!({
            "user_id": user_id,
            "email": "john@example.com",
            "username": "john",
            "full_name": "John Smith",
            "phone": "+15551234567",
            "registered_at": "2026-11-25T12:00:00Z",
        })
    );
}

#[tokio::test]
async fn phone_is_optional_and_null_when_absent() {
    let app = TestApp::spawn().await;
    let mut body = registration("john");
    body.as_object_mut().unwrap().remove("phone");
    expect_json(app.post("/api/register", &body).await, StatusCode::CREATED).await;
    let entry = only_pending(&app).await;
    assert!(entry["phone"].is_null(), "{entry}");
}

#[tokio::test]
async fn username_is_lower_cased() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/register", &john_with("username", json!("John")))
        .await;
    expect_json(res, StatusCode::CREATED).await;
    assert_eq!(only_pending(&app).await["username"], "john");
}

/// Registers `username` with `email` after `john` holds his names, expecting 409 `code`.
async fn assert_taken(app: &TestApp, username: &str, email: &str, code: &str) {
    let mut again = registration(username);
    again["email"] = json!(email);
    let res = app.post("/api/register", &again).await;
    assert_problem(res, StatusCode::CONFLICT, code).await;
}

/// Both of john's names are refused to a newcomer.
async fn assert_johns_names_taken(app: &TestApp) {
    assert_taken(app, "john", "other@example.com", "username_taken").await;
    assert_taken(app, "johnny", "john@example.com", "email_taken").await;
}

#[tokio::test]
async fn email_taken_is_409_email_taken() {
    let app = TestApp::spawn().await;
    app.register("john").await;
    assert_taken(&app, "johnny", "john@example.com", "email_taken").await;
}

#[tokio::test]
async fn email_taken_is_checked_case_insensitively() {
    let app = TestApp::spawn().await;
    app.register("john").await;
    assert_taken(&app, "johnny", "JOHN@EXAMPLE.COM", "email_taken").await;
}

#[tokio::test]
async fn username_taken_is_409_username_taken() {
    let app = TestApp::spawn().await;
    app.register("john").await;
    assert_taken(&app, "john", "other@example.com", "username_taken").await;
}

#[tokio::test]
async fn username_taken_is_checked_case_insensitively() {
    let app = TestApp::spawn().await;
    app.register("john").await;
    assert_taken(&app, "John", "other@example.com", "username_taken").await;
}

#[tokio::test]
async fn names_of_an_active_user_stay_taken() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.active_user(&token, "john").await;
    assert_johns_names_taken(&app).await;
}

#[tokio::test]
async fn rejected_registration_keeps_email_and_username_reserved() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.register("john").await;
    expect_json(app.reject(&token, &id, None).await, StatusCode::OK).await;
    assert_johns_names_taken(&app).await;
}

#[tokio::test]
async fn invalid_email_is_422() {
    let app = TestApp::spawn().await;
    for bad in [
        "john",
        "john@",
        "@example.com",
        "john@example",
        "jo hn@example.com",
    ] {
        assert_field_refused(&app, "email", json!(bad)).await;
    }
}

#[tokio::test]
async fn username_shorter_than_3_characters_is_422() {
    let app = TestApp::spawn().await;
    assert_field_refused(&app, "username", json!("ab")).await;
}

#[tokio::test]
async fn username_longer_than_32_characters_is_422() {
    let app = TestApp::spawn().await;
    assert_field_refused(&app, "username", json!("a".repeat(33))).await;
}

#[tokio::test]
async fn username_of_3_and_of_32_characters_is_accepted() {
    let app = TestApp::spawn().await;
    assert_field_accepted(&app, "user1", "username", json!("abc")).await;
    assert_field_accepted(&app, "user2", "username", json!("a".repeat(32))).await;
}

#[tokio::test]
async fn username_outside_a_z_digits_dot_underscore_dash_is_422() {
    let app = TestApp::spawn().await;
    for bad in ["john smith", "jöhn", "john@x", "john+1", "jo/hn"] {
        assert_field_refused(&app, "username", json!(bad)).await;
    }
}

#[tokio::test]
async fn username_with_dot_underscore_dash_and_digits_is_accepted() {
    let app = TestApp::spawn().await;
    assert_field_accepted(&app, "user1", "username", json!("j.o_h-n9")).await;
}

#[tokio::test]
async fn password_shorter_than_10_characters_is_422() {
    let app = TestApp::spawn().await;
    assert_field_refused(&app, "password", json!("123456789")).await;
}

#[tokio::test]
async fn password_longer_than_256_characters_is_422() {
    let app = TestApp::spawn().await;
    assert_field_refused(&app, "password", json!("p".repeat(257))).await;
}

#[tokio::test]
async fn password_of_10_and_of_256_characters_is_accepted() {
    let app = TestApp::spawn().await;
    assert_field_accepted(&app, "user1", "password", json!("j4x!q9w2z%")).await;
    assert_field_accepted(&app, "user2", "password", json!("p".repeat(256))).await;
}

#[tokio::test]
async fn empty_full_name_is_422() {
    let app = TestApp::spawn().await;
    assert_field_refused(&app, "full_name", json!("")).await;
}

#[tokio::test]
async fn full_name_over_200_characters_is_422() {
    let app = TestApp::spawn().await;
    assert_field_refused(&app, "full_name", json!("x".repeat(201))).await;
}

#[tokio::test]
async fn full_name_of_200_characters_is_accepted() {
    let app = TestApp::spawn().await;
    assert_field_accepted(&app, "user1", "full_name", json!("é".repeat(200))).await;
}

#[tokio::test]
async fn missing_field_is_422_naming_it() {
    let app = TestApp::spawn().await;
    for field in ["email", "username", "password", "full_name"] {
        let mut body = registration("john");
        body.as_object_mut().unwrap().remove(field);
        let res = app.post("/api/register", &body).await;
        let problem = assert_invalid_field(res, field).await;
        assert_eq!(error_fields(&problem), [field], "{problem}");
    }
}

#[tokio::test]
async fn several_bad_fields_give_one_error_each() {
    let app = TestApp::spawn().await;
    let body = json!({
        "email": "not an email",
        "username": "x",
        "password": "short",
        "full_name": "",
    });
    let res = app.post("/api/register", &body).await;
    let problem = assert_invalid_field(res, "email").await;
    let mut fields = error_fields(&problem);
    fields.sort_unstable();
    assert_eq!(fields, ["email", "full_name", "password", "username"]);
    for error in problem["errors"].as_array().unwrap() {
        assert!(!error["message"].as_str().unwrap().is_empty(), "{error}");
    }
}

#[tokio::test]
async fn refused_registration_is_not_queued() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/register", &john_with("password", json!("short")))
        .await;
    assert_invalid_field(res, "password").await;
    let token = app.admin_token().await;
    let body = app.admin_json(&token, "/api/admin/pending").await;
    assert_eq!(body["items"], json!([]));
}
