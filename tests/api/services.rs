//! Relying services for admins: register, list, deactivate, activate and
//! rotate the API key.

use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, assert_invalid_field, assert_problem, expect_json, sorted_field};

async fn register_service(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.admin_post(token, "/api/services/register", Some(body))
        .await
}

/// POSTs `/api/services/{id}/{action}` and returns the response.
async fn service_action(app: &TestApp, token: &str, id: &str, action: &str) -> reqwest::Response {
    app.admin_post(token, &format!("/api/services/{id}/{action}"), None)
        .await
}

/// Registers ServiceB with every field; returns the 201 body.
async fn register_service_b(app: &TestApp, token: &str) -> Value {
    let body = json!({
        "name": "ServiceB",
        "description": "Our CRM",
        "url": "https://serviceb.example",
    });
    expect_json(
        register_service(app, token, &body).await,
        StatusCode::CREATED,
    )
    .await
}

async fn listed_services(app: &TestApp, token: &str) -> Vec<Value> {
    let body = app.admin_json(token, "/api/services").await;
    body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn register_service_is_201_with_id_name_and_key() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let created = register_service_b(&app, &token).await;
    assert_eq!(created["name"], "ServiceB");
    assert!(
        !created["service_id"].as_str().unwrap().is_empty(),
        "{created}"
    );
    assert!(
        created["api_key"].as_str().unwrap().len() >= 32,
        "{created}"
    );
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 3, "{created}");
}

#[tokio::test]
async fn service_list_shows_every_field() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let created = register_service_b(&app, &token).await;
    assert_eq!(
        listed_services(&app, &token).await,
        [json!({
            "service_id": created["service_id"],
            "name": "ServiceB",
            "description": "Our CRM",
            "url": "https://serviceb.example",
            "status": "active",
            "created_at": "2026-11-25T12:00:00Z",
            "require_credentials": true,
        })]
    );
}

#[tokio::test]
async fn service_with_only_a_name_lists_null_description_and_url() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.service(&token, "ServiceB").await;
    let items = listed_services(&app, &token).await;
    assert!(items[0]["description"].is_null(), "{}", items[0]);
    assert!(items[0]["url"].is_null(), "{}", items[0]);
}

#[tokio::test]
async fn service_list_never_shows_the_api_key() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (_, api_key) = app.service(&token, "ServiceB").await;
    let text = app
        .admin_get(&token, "/api/services")
        .await
        .text()
        .await
        .unwrap();
    assert!(!text.contains(&api_key), "{text}");
    assert!(!text.contains("api_key"), "{text}");
}

#[tokio::test]
async fn service_name_taken_is_409_service_name_taken() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.service(&token, "ServiceB").await;
    let res = register_service(&app, &token, &json!({"name": "ServiceB"})).await;
    assert_problem(res, StatusCode::CONFLICT, "service_name_taken").await;
}

#[tokio::test]
async fn service_name_taken_is_checked_case_insensitively() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.service(&token, "ServiceB").await;
    let res = register_service(&app, &token, &json!({"name": "SERVICEb"})).await;
    assert_problem(res, StatusCode::CONFLICT, "service_name_taken").await;
}

#[tokio::test]
async fn service_without_a_name_is_422() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = register_service(&app, &token, &json!({"url": "https://serviceb.example"})).await;
    assert_invalid_field(res, "name").await;
}

#[tokio::test]
async fn service_with_an_empty_name_is_422() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for name in ["", "   "] {
        let res = register_service(&app, &token, &json!({"name": name})).await;
        assert_invalid_field(res, "name").await;
    }
}

#[tokio::test]
async fn service_with_a_non_http_url_is_422() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for url in [
        "ftp://serviceb.example",
        "serviceb.example",
        "https://",
        "javascript:alert(1)",
    ] {
        let res = register_service(&app, &token, &json!({"name": "ServiceB", "url": url})).await;
        assert_invalid_field(res, "url").await;
    }
    assert_eq!(listed_services(&app, &token).await, Vec::<Value>::new());
}

#[tokio::test]
async fn service_list_pages_walk_every_service_once() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let names = ["Zeta", "Alpha", "Mid", "Beta", "Omega"];
    for name in names {
        app.service(&token, name).await;
        app.clock.advance(SignedDuration::from_mins(1));
    }
    let pages = app.pages(&token, "/api/services", 2).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1]);
    let mut expected = names.map(str::to_owned);
    expected.sort_unstable();
    assert_eq!(sorted_field(&pages.concat(), "name"), expected);
}

#[tokio::test]
async fn service_list_refuses_bad_limits_and_cursors() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.assert_paging_rules(&token, "/api/services").await;
}

#[tokio::test]
async fn deactivate_service_is_200_with_the_service_inactive() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (id, _) = app.service(&token, "ServiceB").await;
    let res = service_action(&app, &token, &id, "deactivate").await;
    let service = expect_json(res, StatusCode::OK).await;
    assert_eq!(service["service_id"], id.as_str());
    assert_eq!(service["name"], "ServiceB");
    assert_eq!(service["status"], "inactive");
    assert_eq!(listed_services(&app, &token).await[0]["status"], "inactive");
}

#[tokio::test]
async fn activate_service_is_200_with_the_service_active() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (id, _) = app.service(&token, "ServiceB").await;
    expect_json(
        service_action(&app, &token, &id, "deactivate").await,
        StatusCode::OK,
    )
    .await;
    let res = service_action(&app, &token, &id, "activate").await;
    let service = expect_json(res, StatusCode::OK).await;
    assert_eq!(service["service_id"], id.as_str());
    assert_eq!(service["status"], "active");
    assert_eq!(listed_services(&app, &token).await[0]["status"], "active");
}

#[tokio::test]
async fn rotate_key_returns_a_new_api_key() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (id, old_key) = app.service(&token, "ServiceB").await;
    let res = service_action(&app, &token, &id, "rotate-key").await;
    let rotated = expect_json(res, StatusCode::OK).await;
    assert_eq!(rotated["service_id"], id.as_str());
    let new_key = rotated["api_key"].as_str().unwrap();
    assert!(new_key.len() >= 32, "{rotated}");
    assert_ne!(new_key, old_key);
}

#[tokio::test]
async fn rotated_key_is_not_listed() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let (id, _) = app.service(&token, "ServiceB").await;
    let res = service_action(&app, &token, &id, "rotate-key").await;
    let rotated = expect_json(res, StatusCode::OK).await;
    let text = app
        .admin_get(&token, "/api/services")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !text.contains(rotated["api_key"].as_str().unwrap()),
        "{text}"
    );
}

#[tokio::test]
async fn deactivate_unknown_service_is_404_service_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = service_action(&app, &token, "no-such-service", "deactivate").await;
    assert_problem(res, StatusCode::NOT_FOUND, "service_not_found").await;
}

#[tokio::test]
async fn activate_unknown_service_is_404_service_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = service_action(&app, &token, "no-such-service", "activate").await;
    assert_problem(res, StatusCode::NOT_FOUND, "service_not_found").await;
}

#[tokio::test]
async fn rotate_key_of_unknown_service_is_404_service_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = service_action(&app, &token, "no-such-service", "rotate-key").await;
    assert_problem(res, StatusCode::NOT_FOUND, "service_not_found").await;
}
