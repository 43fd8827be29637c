//! Secrets appear only in the one response that issues them: no list or
//! status answer ever carries a password, an API key or an admin token.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{ADMIN_PASSWORD, PASSWORD, TestApp, expect_json};

/// Every read-only answer of this routes.
const READS: [&str; 7] = [
    "/api/admin/pending",
    "/api/admin/users",
    "/api/admin/users?status=inactive",
    "/api/services",
    "/api/admin/schedule",
    "/api/system/status",
    "/metrics",
];

#[tokio::test]
async fn no_list_shows_a_password_api_key_or_admin_token() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    // Someone in every state: pending, active, inactive, rejected.
    app.register("pending").await;
    app.active_user(&token, "active").await;
    let inactive = app.active_user(&token, "inactive").await;
    let res = app
        .admin_post(
            &token,
            &format!("/api/admin/users/{inactive}/deactivate"),
            None,
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let rejected = app.register("rejected").await;
    expect_json(app.reject(&token, &rejected, None).await, StatusCode::OK).await;
    let (service_id, first_key) = app.service(&token, "ServiceB").await;
    let res = app
        .admin_post(
            &token,
            &format!("/api/services/{service_id}/rotate-key"),
            None,
        )
        .await;
    let rotated = expect_json(res, StatusCode::OK).await;
    let second_key = rotated["api_key"].as_str().unwrap();
    let res = app.mobile_login("active", PASSWORD).await;
    let auth_key = expect_json(res, StatusCode::OK).await["auth_key"].clone();
    let auth_key = auth_key.as_str().unwrap();

    let secrets = [
        PASSWORD,
        ADMIN_PASSWORD,
        &token,
        &first_key,
        second_key,
        auth_key,
    ];
    for path in READS {
        let text = app.admin_get(&token, path).await.text().await.unwrap();
        for secret in secrets {
            assert!(!text.contains(secret), "{path} shows a secret:\n{text}");
        }
        for field in ["password", "api_key", "auth_key", "access_token"] {
            let key = json!(field).to_string() + ":";
            assert!(!text.contains(&key), "{path} has a {field} field:\n{text}");
        }
    }
}
