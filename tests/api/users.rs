//! `GET /api/admin/users` (filters, search, pages) and
//! `POST /api/admin/users/{user_id}/deactivate` / `activate`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{
    TestApp, assert_invalid_field, assert_problem, expect_json, field_of, registration,
    sorted_field,
};

/// Registers and approves a user with the given email and full name.
async fn approved(app: &TestApp, token: &str, username: &str, email: &str, name: &str) -> String {
    let mut body = registration(username);
    body["email"] = json!(email);
    body["full_name"] = json!(name);
    let res = app.post("/api/register", &body).await;
    let id = expect_json(res, StatusCode::CREATED).await["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    expect_json(app.approve(token, &id).await, StatusCode::OK).await;
    id
}

/// The usernames `path` lists, sorted (API.md sets no order).
async fn listed(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let body = app.admin_json(token, path).await;
    sorted_field(body["items"].as_array().unwrap(), "username")
}

async fn deactivate(app: &TestApp, token: &str, id: &str) -> Value {
    let res = app
        .admin_post(token, &format!("/api/admin/users/{id}/deactivate"), None)
        .await;
    expect_json(res, StatusCode::OK).await
}

/// Three people to search among: alice, bob (deactivated) and carol.
async fn search_fixture(app: &TestApp, token: &str) {
    approved(app, token, "alice", "alice@wonder.example", "Alice Liddell").await;
    let bob = approved(app, token, "bob", "bob@builder.example", "Robert Builder").await;
    approved(app, token, "carol", "c.jones@example.org", "Carol Jones").await;
    deactivate(app, token, &bob).await;
}

#[tokio::test]
async fn users_list_shows_each_user_with_every_field() {
    let app = TestApp::spawn().await;
    let id = app.register("john").await;
    app.clock.advance(jiff::SignedDuration::from_hours(2));
    let token = app.admin_token().await;
    expect_json(app.approve(&token, &id).await, StatusCode::OK).await;
    let body = app.admin_json(&token, "/api/admin/users").await;
    assert_eq!(
        body,
        json!({
            "items": [{
                "user_id": id,
                "email": "john@example.com",
                "username": "john",
                "full_name": "John Smith",
                "phone": "+15551234567",
                "status": "active",
                "approved_at": "2026-11-25T14:00:00Z",
                "last_login": null,
            }],
            "next_cursor": null,
        })
    );
}

#[tokio::test]
async fn users_list_leaves_out_pending_and_rejected_registrations() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.active_user(&token, "alice").await;
    app.register("bob").await;
    let carol = app.register("carol").await;
    expect_json(app.reject(&token, &carol, None).await, StatusCode::OK).await;
    assert_eq!(listed(&app, &token, "/api/admin/users").await, ["alice"]);
}

#[tokio::test]
async fn users_list_without_a_status_shows_active_and_inactive() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    search_fixture(&app, &token).await;
    assert_eq!(
        listed(&app, &token, "/api/admin/users").await,
        ["alice", "bob", "carol"]
    );
}

#[tokio::test]
async fn users_list_status_active_shows_only_active_users() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    search_fixture(&app, &token).await;
    let body = app
        .admin_json(&token, "/api/admin/users?status=active")
        .await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(sorted_field(items, "username"), ["alice", "carol"]);
    assert_eq!(field_of(items, "status"), ["active", "active"]);
}

#[tokio::test]
async fn users_list_status_inactive_shows_only_inactive_users() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    search_fixture(&app, &token).await;
    let body = app
        .admin_json(&token, "/api/admin/users?status=inactive")
        .await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(field_of(items, "username"), ["bob"]);
    assert_eq!(field_of(items, "status"), ["inactive"]);
}

#[tokio::test]
async fn users_list_status_bogus_is_422() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = app.admin_get(&token, "/api/admin/users?status=bogus").await;
    assert_invalid_field(res, "status").await;
}

#[tokio::test]
async fn users_search_matches_the_username_in_any_case() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    search_fixture(&app, &token).await;
    assert_eq!(
        listed(&app, &token, "/api/admin/users?q=ALI").await,
        ["alice"]
    );
}

#[tokio::test]
async fn users_search_matches_the_email_in_any_case() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    search_fixture(&app, &token).await;
    assert_eq!(
        listed(&app, &token, "/api/admin/users?q=Builder.Example").await,
        ["bob"]
    );
    assert_eq!(
        listed(&app, &token, "/api/admin/users?q=c.jones@").await,
        ["carol"]
    );
}

#[tokio::test]
async fn users_search_matches_the_full_name_in_any_case() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    search_fixture(&app, &token).await;
    assert_eq!(
        listed(&app, &token, "/api/admin/users?q=robert").await,
        ["bob"]
    );
    assert_eq!(
        listed(&app, &token, "/api/admin/users?q=LIDDELL").await,
        ["alice"]
    );
}

#[tokio::test]
async fn users_search_combines_with_the_status_filter() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    search_fixture(&app, &token).await;
    // "example" is in every email; only the active ones are asked for.
    let path = "/api/admin/users?q=example&status=active";
    assert_eq!(listed(&app, &token, path).await, ["alice", "carol"]);
}

#[tokio::test]
async fn users_search_without_a_match_is_an_empty_list() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    search_fixture(&app, &token).await;
    let body = app.admin_json(&token, "/api/admin/users?q=zebra").await;
    assert_eq!(body, json!({"items": [], "next_cursor": null}));
}

#[tokio::test]
async fn users_search_treats_percent_literally() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    approved(&app, &token, "sure", "sure@example.com", "100% Sure").await;
    approved(&app, &token, "plain", "plain@example.com", "Plain Name").await;
    // `%25` is the URL encoding of `%`.
    assert_eq!(
        listed(&app, &token, "/api/admin/users?q=%25").await,
        ["sure"]
    );
}

#[tokio::test]
async fn users_search_treats_underscore_literally() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    approved(&app, &token, "a_b", "ab@example.com", "Under Score").await;
    approved(&app, &token, "axb", "axb@example.com", "No Score").await;
    assert_eq!(
        listed(&app, &token, "/api/admin/users?q=a_b").await,
        ["a_b"]
    );
    assert_eq!(listed(&app, &token, "/api/admin/users?q=_").await, ["a_b"]);
}

#[tokio::test]
async fn users_list_pages_walk_every_user_once() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for name in ["erin", "carol", "alice", "dave", "bob"] {
        app.active_user(&token, name).await;
    }
    let pages = app.pages(&token, "/api/admin/users", 2).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [2, 2, 1]);
    let all: Vec<Value> = pages.concat();
    assert_eq!(
        sorted_field(&all, "username"),
        ["alice", "bob", "carol", "dave", "erin"]
    );
}

#[tokio::test]
async fn users_list_pages_keep_the_filters() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    for name in ["alice", "bob", "carol", "dave"] {
        let id = app.active_user(&token, name).await;
        if name != "carol" {
            deactivate(&app, &token, &id).await;
        }
    }
    let pages = app
        .pages(&token, "/api/admin/users?status=inactive", 2)
        .await;
    let all: Vec<Value> = pages.concat();
    assert_eq!(sorted_field(&all, "username"), ["alice", "bob", "dave"]);
}

#[tokio::test]
async fn users_list_refuses_bad_limits_and_cursors() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.assert_paging_rules(&token, "/api/admin/users").await;
}

#[tokio::test]
async fn deactivate_is_200_with_the_user_inactive() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.active_user(&token, "john").await;
    let user = deactivate(&app, &token, &id).await;
    assert_eq!(user["user_id"], id.as_str());
    assert_eq!(user["username"], "john");
    assert_eq!(user["email"], "john@example.com");
    assert_eq!(user["status"], "inactive");
    assert_eq!(user["approved_at"], "2026-11-25T12:00:00Z");
    assert_eq!(
        listed(&app, &token, "/api/admin/users?status=inactive").await,
        ["john"]
    );
}

#[tokio::test]
async fn activate_is_200_with_the_user_active() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.active_user(&token, "john").await;
    deactivate(&app, &token, &id).await;
    let res = app
        .admin_post(&token, &format!("/api/admin/users/{id}/activate"), None)
        .await;
    let user = expect_json(res, StatusCode::OK).await;
    assert_eq!(user["user_id"], id.as_str());
    assert_eq!(user["status"], "active");
    assert_eq!(
        listed(&app, &token, "/api/admin/users?status=active").await,
        ["john"]
    );
}

#[tokio::test]
async fn deactivate_unknown_user_is_404_user_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = app
        .admin_post(&token, "/api/admin/users/no-such-user/deactivate", None)
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "user_not_found").await;
}

#[tokio::test]
async fn activate_unknown_user_is_404_user_not_found() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = app
        .admin_post(&token, "/api/admin/users/no-such-user/activate", None)
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "user_not_found").await;
}
