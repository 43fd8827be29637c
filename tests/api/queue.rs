//! The registration queue: `GET /api/admin/pending`, `POST /api/admin/approve/{user_id}`
//! and `POST /api/admin/reject/{user_id}`.

use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{
    TestApp, assert_invalid_field, assert_problem, expect_json, field_of, registration,
};

/// Registers each name in turn, one minute apart; returns the ids in order.
async fn register_a_minute_apart(app: &TestApp, names: &[&str]) -> Vec<String> {
    let mut ids = Vec::new();
    for name in names {
        ids.push(app.register(name).await);
        app.clock.advance(SignedDuration::from_mins(1));
    }
    ids
}

async fn pending_usernames(app: &TestApp, token: &str) -> Vec<String> {
    let body = app.admin_json(token, "/api/admin/pending").await;
    let items = body["items"].as_array().unwrap();
    field_of(items, "username")
        .into_iter()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn pending_lists_registrations_oldest_first() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    register_a_minute_apart(&app, &["carol", "alice", "bob"]).await;
    assert_eq!(
        pending_usernames(&app, &token).await,
        ["carol", "alice", "bob"]
    );
    let body = app.admin_json(&token, "/api/admin/pending").await;
    let times = field_of(body["items"].as_array().unwrap(), "registered_at");
    assert_eq!(
        times,
        [
            "2026-11-25T12:00:00Z",
            "2026-11-25T12:01:00Z",
            "2026-11-25T12:02:00Z"
        ]
    );
    assert!(body["next_cursor"].is_null());
}

#[tokio::test]
async fn pending_pages_walk_every_registration_once() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let names = ["erin", "dave", "carol", "bob", "alice"];
    register_a_minute_apart(&app, &names).await;
    let pages = app.pages(&token, "/api/admin/pending", 2).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1]);
    let all: Vec<Value> = pages.concat();
    assert_eq!(field_of(&all, "username"), names);
}

#[tokio::test]
async fn pending_pages_ending_exactly_at_the_limit_have_no_next_cursor() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    register_a_minute_apart(&app, &["alice", "bob"]).await;
    let body = app.admin_json(&token, "/api/admin/pending?limit=2").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert!(body["next_cursor"].is_null(), "{body}");
}

#[tokio::test]
async fn pending_limit_0_is_422_validation_failed() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = app.admin_get(&token, "/api/admin/pending?limit=0").await;
    assert_invalid_field(res, "limit").await;
}

#[tokio::test]
async fn pending_limit_501_is_422_validation_failed() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = app.admin_get(&token, "/api/admin/pending?limit=501").await;
    assert_invalid_field(res, "limit").await;
}

#[tokio::test]
async fn pending_non_numeric_limit_is_422_validation_failed() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = app.admin_get(&token, "/api/admin/pending?limit=ten").await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn pending_limit_500_is_accepted() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.register("alice").await;
    let body = app.admin_json(&token, "/api/admin/pending?limit=500").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn pending_garbage_cursor_is_422_validation_failed() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = app
        .admin_get(&token, "/api/admin/pending?cursor=garbage!!")
        .await;
    assert_invalid_field(res, "cursor").await;
}

#[tokio::test]
async fn approved_and_rejected_users_leave_the_queue() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let ids = register_a_minute_apart(&app, &["alice", "bob", "carol"]).await;
    expect_json(app.approve(&token, &ids[0]).await, StatusCode::OK).await;
    expect_json(app.reject(&token, &ids[2], None).await, StatusCode::OK).await;
    assert_eq!(pending_usernames(&app, &token).await, ["bob"]);
}

#[tokio::test]
async fn approve_is_200_active_with_the_same_user_id() {
    let app = TestApp::spawn().await;
    let id = app.register("john").await;
    app.clock.advance(SignedDuration::from_hours(1));
    let token = app.admin_token().await;
    let body = expect_json(app.approve(&token, &id).await, StatusCode::OK).await;
    assert_eq!(
        body,
        json!({"user_id": id, "status": "active", "approved_at": "2026-11-25T13:00:00Z"})
    );
}

#[tokio::test]
async fn approved_user_is_listed_as_active() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.active_user(&token, "john").await;
    let body = app.admin_json(&token, "/api/admin/users").await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{body}");
    assert_eq!(items[0]["user_id"], id.as_str());
    assert_eq!(items[0]["status"], "active");
}

#[tokio::test]
async fn approve_twice_is_409_not_pending() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.active_user(&token, "john").await;
    assert_problem(
        app.approve(&token, &id).await,
        StatusCode::CONFLICT,
        "not_pending",
    )
    .await;
}

#[tokio::test]
async fn approve_unknown_user_is_404_user_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = app.approve(&token, "no-such-user").await;
    assert_problem(res, StatusCode::NOT_FOUND, "user_not_found").await;
}

#[tokio::test]
async fn approve_rejected_user_is_409_not_pending() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.register("john").await;
    expect_json(app.reject(&token, &id, None).await, StatusCode::OK).await;
    assert_problem(
        app.approve(&token, &id).await,
        StatusCode::CONFLICT,
        "not_pending",
    )
    .await;
}

#[tokio::test]
async fn reject_without_a_body_is_200_rejected() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.register("john").await;
    let body = expect_json(app.reject(&token, &id, None).await, StatusCode::OK).await;
    assert_eq!(body, json!({"user_id": id, "status": "rejected"}));
}

#[tokio::test]
async fn reject_with_an_empty_object_is_200_rejected() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.register("john").await;
    let res = app.reject(&token, &id, Some(&json!({}))).await;
    let body = expect_json(res, StatusCode::OK).await;
    assert_eq!(body, json!({"user_id": id, "status": "rejected"}));
}

#[tokio::test]
async fn reject_with_a_reason_is_200_rejected() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.register("john").await;
    let res = app
        .reject(&token, &id, Some(&json!({"reason": "Unknown applicant"})))
        .await;
    let body = expect_json(res, StatusCode::OK).await;
    assert_eq!(body, json!({"user_id": id, "status": "rejected"}));
}

#[tokio::test]
async fn reject_twice_is_409_not_pending() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.register("john").await;
    expect_json(app.reject(&token, &id, None).await, StatusCode::OK).await;
    let res = app.reject(&token, &id, None).await;
    assert_problem(res, StatusCode::CONFLICT, "not_pending").await;
}

#[tokio::test]
async fn reject_approved_user_is_409_not_pending() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.active_user(&token, "john").await;
    let res = app.reject(&token, &id, None).await;
    assert_problem(res, StatusCode::CONFLICT, "not_pending").await;
}

#[tokio::test]
async fn reject_unknown_user_is_404_user_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = app.reject(&token, "no-such-user", None).await;
    assert_problem(res, StatusCode::NOT_FOUND, "user_not_found").await;
}

#[tokio::test]
async fn reject_reason_over_1000_characters_is_422() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.register("john").await;
    let reason = json!({"reason": "r".repeat(1001)});
    assert_invalid_field(app.reject(&token, &id, Some(&reason)).await, "reason").await;
    // Refused, so still waiting for a decision.
    let body = app.admin_json(&token, "/api/admin/pending").await;
    assert_eq!(body["items"][0]["user_id"], id.as_str());
}

#[tokio::test]
async fn reject_reason_of_1000_characters_is_accepted() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.register("john").await;
    let reason = json!({"reason": "r".repeat(1000)});
    expect_json(app.reject(&token, &id, Some(&reason)).await, StatusCode::OK).await;
}

#[tokio::test]
async fn approval_keeps_the_registration_details() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let mut body = registration("john");
    body.as_object_mut().unwrap().remove("phone");
    let res = app.post("/api/register", &body).await;
    let id = expect_json(res, StatusCode::CREATED).await["user_id"].clone();
    expect_json(
        app.approve(&token, id.as_str().unwrap()).await,
        StatusCode::OK,
    )
    .await;
    let users = app.admin_json(&token, "/api/admin/users").await;
    let user = &users["items"][0];
    assert_eq!(user["user_id"], id);
    assert_eq!(user["email"], "john@example.com");
    assert_eq!(user["full_name"], "John Smith");
    assert!(user["phone"].is_null(), "{user}");
}
