//! Hostile input at the JSON edge: a wrong content type is 415 on every
//! route that takes JSON, nesting past the fixed depth is 400 before the
//! body is parsed, and a NUL anywhere (body or query) is 422 at its field.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Options, TestApp, assert_invalid_field, assert_problem, registration};

async fn app() -> TestApp {
    TestApp::spawn_with(Options {
        args: vec!["--rate-limits".into(), "off".into()],
        ..Options::default()
    })
    .await
}

/// Every operation of the served OpenAPI document that takes a JSON body,
/// with its path parameters filled in.
async fn json_operations(app: &TestApp) -> Vec<(Method, String)> {
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation["requestBody"]["content"]["application/json"].is_null() {
                continue;
            }
            let concrete = path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        "0195a0b4-0000-7000-8000-000000000000"
                    } else {
                        segment
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            operations.push((method, concrete));
        }
    }
    operations
}

#[tokio::test]
async fn every_json_route_answers_a_wrong_content_type_with_415() {
    let app = app().await;
    let token = app.admin_token().await;
    let operations = json_operations(&app).await;
    assert!(operations.len() >= 12, "{operations:?}");
    for (method, path) in operations {
        for content_type in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/xml",
        ] {
            let res = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(&token)
                .header("content-type", content_type)
                .body("{}")
                .send()
                .await
                .unwrap();
            let body = assert_problem(
                res,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            )
            .await;
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("application/json"),
                "{method} {path}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn json_with_a_charset_or_a_json_suffix_type_is_accepted() {
    let app = app().await;
    let body = registration("john").to_string();
    let res = app
        .post_raw(
            "/api/register",
            "application/json; charset=utf-8",
            body.clone(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body = registration("jane").to_string();
    let res = app
        .post_raw("/api/register", "application/merge-patch+json", body)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// `{"username": [[[…"x"…]]]}`: the object plus `levels` arrays.
fn nested(levels: usize) -> String {
    format!(
        r#"{{"username": {}"x"{}}}"#,
        "[".repeat(levels),
        "]".repeat(levels)
    )
}

#[tokio::test]
async fn json_nested_deeper_than_32_levels_is_400_malformed_json() {
    let app = app().await;
    let res = app
        .post_raw("/api/register", "application/json", nested(32))
        .await;
    let body = assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    assert!(
        body["detail"].as_str().unwrap().contains("deeper than 32"),
        "{body}"
    );
    // A body that fills the whole 64 KiB with brackets is refused the same way.
    let res = app
        .post_raw("/api/mobile/login", "application/json", "[".repeat(60_000))
        .await;
    assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;
    // Brackets inside a string are text, not nesting.
    let mut inside = registration("john");
    inside["full_name"] = json!(format!("John {}", "[".repeat(100)));
    let res = app.post("/api/register", &inside).await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn nesting_within_the_limit_is_parsed_as_usual() {
    let app = app().await;
    // 32 levels (the object and 31 arrays) pass the scan and meet the schema.
    let res = app
        .post_raw("/api/register", "application/json", nested(31))
        .await;
    assert_invalid_field(res, "username").await;
}

#[tokio::test]
async fn an_escaped_nul_in_a_string_is_422_naming_the_field() {
    let app = app().await;
    let mut body = registration("john");
    body["username"] = json!("jo\u{0}hn");
    let problem = assert_invalid_field(app.post("/api/register", &body).await, "username").await;
    assert!(problem.to_string().contains("NUL"), "{problem}");

    let res = app
        .post(
            "/api/mobile/login",
            &json!({"username": "john", "password": "pass\u{0}word"}),
        )
        .await;
    assert_invalid_field(res, "password").await;

    let token = app.admin_token().await;
    let schedule = json!({
        "enabled": true,
        "timezone": "UTC",
        "opening_time": "08:00",
        "closing_time": "18:00",
        "days": ["mon", "tu\u{0}e"],
    });
    let res = app
        .admin_put(&token, "/api/admin/schedule", &schedule)
        .await;
    assert_invalid_field(res, "days[1]").await;
}

#[tokio::test]
async fn a_raw_nul_byte_in_the_body_is_422() {
    let app = app().await;
    let body = registration("john").to_string().replace("john@", "jo\0hn@");
    let res = app
        .post_raw("/api/register", "application/json", body)
        .await;
    assert_invalid_field(res, "body").await;
}

#[tokio::test]
async fn a_nul_in_a_query_parameter_is_422_naming_it() {
    let app = app().await;
    let token = app.admin_token().await;
    let res = app
        .admin_get(&token, "/api/admin/pending?cursor=ab%00cd")
        .await;
    assert_invalid_field(res, "cursor").await;
}
