//! `POST /api/mobile/login`: enrolling the authenticator app, the account
//! states it refuses, and the operating-hours gate in front of it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestApp, WEEKDAYS, assert_problem, expect_json, utc_schedule};

/// Whether `s` is a UUID in its canonical hyphenated form.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    lengths == [8, 4, 4, 4, 12]
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

async fn logged_in(app: &TestApp, username: &str) -> Value {
    expect_json(app.mobile_login(username, PASSWORD).await, StatusCode::OK).await
}

async fn user_action(app: &TestApp, token: &str, id: &str, action: &str) {
    let res = app
        .admin_post(token, &format!("/api/admin/users/{id}/{action}"), None)
        .await;
    expect_json(res, StatusCode::OK).await;
}

/// An app with the active user john, closed now: Wednesday 12:00 UTC is after
/// the 08:00–10:00 window, and Thursday's opens next.
async fn closed_until_thursday_8() -> TestApp {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.active_user(&token, "john").await;
    app.set_schedule(&token, &utc_schedule("08:00", "10:00", &WEEKDAYS))
        .await;
    app
}

#[tokio::test]
async fn mobile_login_is_200_with_a_uuid_auth_key() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.active_user(&token, "john").await;
    let body = logged_in(&app, "john").await;
    assert_eq!(body["user_id"], id.as_str());
    assert_eq!(body["username"], "john");
    assert_eq!(body["full_name"], "John Smith");
    let auth_key = body["auth_key"].as_str().unwrap();
    assert!(is_uuid(auth_key), "auth_key {auth_key:?} is not a UUID");
}

#[tokio::test]
async fn second_mobile_login_issues_a_different_auth_key() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.active_user(&token, "john").await;
    let first = logged_in(&app, "john").await;
    let second = logged_in(&app, "john").await;
    assert_ne!(first["auth_key"], second["auth_key"]);
}

#[tokio::test]
async fn mobile_login_with_an_unknown_username_is_401_invalid_credentials() {
    let app = TestApp::spawn().await;
    let res = app.mobile_login("nobody", PASSWORD).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn mobile_login_with_a_wrong_password_is_401_invalid_credentials() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.active_user(&token, "john").await;
    let res = app.mobile_login("john", "wrong password!").await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn mobile_login_answers_unknown_user_and_wrong_password_identically() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.active_user(&token, "john").await;
    let unknown = app.mobile_login("nobody", PASSWORD).await;
    let unknown = assert_problem(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let wrong = app.mobile_login("john", "wrong password!").await;
    let wrong = assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(unknown, wrong);
}

#[tokio::test]
async fn mobile_login_of_a_pending_user_with_a_wrong_password_is_401() {
    let app = TestApp::spawn().await;
    app.register("john").await;
    let res = app.mobile_login("john", "wrong password!").await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn mobile_login_before_approval_is_403_user_pending() {
    let app = TestApp::spawn().await;
    app.register("john").await;
    let res = app.mobile_login("john", PASSWORD).await;
    assert_problem(res, StatusCode::FORBIDDEN, "user_pending").await;
}

#[tokio::test]
async fn mobile_login_after_rejection_is_403_user_rejected() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.register("john").await;
    expect_json(app.reject(&token, &id, None).await, StatusCode::OK).await;
    let res = app.mobile_login("john", PASSWORD).await;
    assert_problem(res, StatusCode::FORBIDDEN, "user_rejected").await;
}

#[tokio::test]
async fn mobile_login_of_a_deactivated_user_is_403_user_inactive() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.active_user(&token, "john").await;
    user_action(&app, &token, &id, "deactivate").await;
    let res = app.mobile_login("john", PASSWORD).await;
    assert_problem(res, StatusCode::FORBIDDEN, "user_inactive").await;
}

#[tokio::test]
async fn mobile_login_works_again_after_activation() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.active_user(&token, "john").await;
    user_action(&app, &token, &id, "deactivate").await;
    user_action(&app, &token, &id, "activate").await;
    let body = logged_in(&app, "john").await;
    assert_eq!(body["user_id"], id.as_str());
}

#[tokio::test]
async fn mobile_login_inside_operating_hours_is_200() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.active_user(&token, "john").await;
    app.set_schedule(&token, &utc_schedule("08:00", "18:00", &WEEKDAYS))
        .await;
    logged_in(&app, "john").await;
}

#[tokio::test]
async fn mobile_login_outside_operating_hours_is_503_system_closed() {
    let app = closed_until_thursday_8().await;
    let res = app.mobile_login("john", PASSWORD).await;
    let retry_after = res.headers().get("retry-after").cloned();
    let body = assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "system_closed").await;
    assert_eq!(body["opens_at"], "2026-11-26T08:00:00Z");
    assert_eq!(retry_after.unwrap().to_str().unwrap(), "72000");
}

#[tokio::test]
async fn mobile_login_with_no_operating_days_is_503_without_retry_after() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.active_user(&token, "john").await;
    app.set_schedule(&token, &utc_schedule("08:00", "18:00", &[]))
        .await;
    let res = app.mobile_login("john", PASSWORD).await;
    assert!(
        res.headers().get("retry-after").is_none(),
        "{:?}",
        res.headers()
    );
    let body = assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "system_closed").await;
    assert!(body.as_object().unwrap().contains_key("opens_at"), "{body}");
    assert_eq!(body["opens_at"], json!(null));
}

#[tokio::test]
async fn mobile_login_reopens_when_the_window_opens() {
    let app = closed_until_thursday_8().await;
    let res = app.mobile_login("john", PASSWORD).await;
    assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "system_closed").await;
    app.clock.set("2026-11-26T08:00:00Z".parse().unwrap());
    logged_in(&app, "john").await;
}
