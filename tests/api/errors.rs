//! Failures outside any one route's rules: bad bodies, unknown routes, wrong
//! methods. Each is a problem document like every other error.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{
    TestApp, assert_invalid_field, assert_problem, assert_some_problem, error_fields, registration,
};

/// Public routes that take a JSON body.
const JSON_ROUTES: [&str; 3] = ["/api/register", "/api/mobile/login", "/api/admin/login"];

#[tokio::test]
async fn malformed_json_is_400_malformed_json() {
    let app = TestApp::spawn().await;
    for path in JSON_ROUTES {
        let res = app
            .post_raw(path, "application/json", r#"{"email": "#)
            .await;
        assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    }
}

#[tokio::test]
async fn malformed_json_on_an_admin_route_is_400_malformed_json() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for (method, path) in [
        (Method::POST, "/api/services/register"),
        (Method::PUT, "/api/admin/schedule"),
        (Method::POST, "/api/admin/reject/some-user"),
    ] {
        let res = app
            .client
            .request(method, app.url(path))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    }
}

#[tokio::test]
async fn body_over_64_kib_is_413_payload_too_large() {
    let app = TestApp::spawn().await;
    let mut body = registration("john");
    body["full_name"] = json!("x".repeat(65 * 1024));
    for path in JSON_ROUTES {
        let res = app.post(path, &body).await;
        assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    }
}

#[tokio::test]
async fn body_just_under_64_kib_is_read() {
    let app = TestApp::spawn().await;
    let mut body = registration("john");
    // Parsed, then refused by the full-name rule rather than by size.
    body["full_name"] = json!("x".repeat(63 * 1024));
    let res = app.post("/api/register", &body).await;
    assert_invalid_field(res, "full_name").await;
}

#[tokio::test]
async fn unknown_route_is_404_not_found() {
    let app = TestApp::spawn().await;
    for path in ["/nope", "/api/nope", "/api/admin/nope"] {
        assert_problem(app.get(path).await, StatusCode::NOT_FOUND, "not_found").await;
    }
}

#[tokio::test]
async fn wrong_method_is_405_method_not_allowed() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::GET, "/api/register"),
        (Method::DELETE, "/api/admin/pending"),
        (Method::POST, "/api/system/status"),
        (Method::PUT, "/api/services"),
    ] {
        let res = app
            .client
            .request(method, app.url(path))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    }
}

#[tokio::test]
async fn json_array_instead_of_an_object_is_422() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/api/register", &json!([registration("john")]))
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn json_string_instead_of_an_object_is_422() {
    let app = TestApp::spawn().await;
    let res = app.post("/api/register", &json!("john")).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn wrong_field_type_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let mut body = registration("john");
    body["email"] = json!(42);
    let problem = assert_invalid_field(app.post("/api/register", &body).await, "email").await;
    assert_eq!(error_fields(&problem), ["email"]);
}

#[tokio::test]
async fn wrong_field_type_in_the_schedule_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = json!({
        "enabled": "yes",
        "timezone": "UTC",
        "opening_time": "08:00",
        "closing_time": "18:00",
        "days": [],
    });
    let res = app.admin_put(&token, "/api/admin/schedule", &body).await;
    assert_invalid_field(res, "enabled").await;
}

#[tokio::test]
async fn text_plain_body_is_415_unsupported_media_type() {
    let app = TestApp::spawn().await;
    let json = registration("john").to_string();
    let res = app.post_raw("/api/register", "text/plain", json).await;
    assert_some_problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

#[tokio::test]
async fn form_encoded_body_is_415_unsupported_media_type() {
    let app = TestApp::spawn().await;
    let res = app
        .post_raw(
            "/api/mobile/login",
            "application/x-www-form-urlencoded",
            "username=john&password=x",
        )
        .await;
    assert_some_problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}
