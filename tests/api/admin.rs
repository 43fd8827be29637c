//! `POST /api/admin/login` and the admin token that guards every other
//! `/api/admin/*` and `/api/services/*` route.

use jiff::SignedDuration;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{ADMIN_PASSWORD, TestApp, assert_problem, cli, expect_json, run_cli};

/// Every admin-guarded route of this issue, with a body where it takes one.
const GUARDED: [(&str, &str); 14] = [
    ("POST", "/api/admin/logout"),
    ("GET", "/api/admin/pending"),
    ("POST", "/api/admin/approve/some-user"),
    ("POST", "/api/admin/reject/some-user"),
    ("GET", "/api/admin/users"),
    ("POST", "/api/admin/users/some-user/deactivate"),
    ("POST", "/api/admin/users/some-user/activate"),
    ("GET", "/api/admin/schedule"),
    ("PUT", "/api/admin/schedule"),
    ("POST", "/api/services/register"),
    ("GET", "/api/services"),
    ("POST", "/api/services/some-service/deactivate"),
    ("POST", "/api/services/some-service/activate"),
    ("POST", "/api/services/some-service/rotate-key"),
];

/// Calls each guarded route with `token` (or none) and expects 401 `unauthorized`.
async fn assert_every_guarded_route_refuses(app: &TestApp, token: Option<&str>) {
    // A body valid for the routes that take one, so only the token can fail.
    let body = json!({
        "name": "ServiceB",
        "enabled": false,
        "timezone": "UTC",
        "opening_time": "08:00",
        "closing_time": "18:00",
        "days": [],
    });
    for (method, path) in GUARDED {
        let method: Method = method.parse().unwrap();
        let mut req = app.client.request(method.clone(), app.url(path));
        if method != Method::GET {
            req = req.json(&body);
        }
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn admin_login_is_200_with_a_bearer_token_for_an_hour() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/api/admin/login",
            &json!({"username": "admin", "password": ADMIN_PASSWORD}),
        )
        .await;
    let body = expect_json(res, StatusCode::OK).await;
    assert!(body["access_token"].as_str().unwrap().len() >= 32, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
}

#[tokio::test]
async fn admin_token_opens_the_admin_routes() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let body = app.admin_json(&token, "/api/admin/pending").await;
    assert_eq!(body, json!({"items": [], "next_cursor": null}));
}

#[tokio::test]
async fn each_admin_login_issues_a_different_token() {
    let app = TestApp::spawn().await;
    assert_ne!(app.admin_token().await, app.admin_token().await);
}

#[tokio::test]
async fn admin_login_with_a_wrong_password_is_401_invalid_credentials() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/api/admin/login",
            &json!({"username": "admin", "password": "wrong password!"}),
        )
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn admin_login_with_an_unknown_user_is_401_invalid_credentials() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/api/admin/login",
            &json!({"username": "nobody", "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn admin_login_answers_unknown_user_and_wrong_password_identically() {
    let app = TestApp::spawn().await;
    let unknown = app
        .post(
            "/api/admin/login",
            &json!({"username": "nobody", "password": ADMIN_PASSWORD}),
        )
        .await;
    let unknown = assert_problem(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let wrong = app
        .post(
            "/api/admin/login",
            &json!({"username": "admin", "password": "wrong password!"}),
        )
        .await;
    let wrong = assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(unknown, wrong);
}

#[tokio::test]
async fn admin_routes_without_a_token_are_401_unauthorized() {
    let app = TestApp::spawn().await;
    assert_every_guarded_route_refuses(&app, None).await;
}

#[tokio::test]
async fn admin_routes_with_a_bogus_token_are_401_unauthorized() {
    let app = TestApp::spawn().await;
    assert_every_guarded_route_refuses(&app, Some("bogus-token")).await;
}

#[tokio::test]
async fn unauthorized_names_the_bearer_scheme() {
    // HTTP requires a 401 to say which scheme would be accepted.
    let app = TestApp::spawn().await;
    let res = app.get("/api/admin/pending").await;
    let challenge = res.headers().get("www-authenticate").cloned();
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert_eq!(challenge.unwrap().to_str().unwrap(), "Bearer");
}

#[tokio::test]
async fn admin_routes_with_a_non_bearer_scheme_are_401_unauthorized() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let res = app
        .client
        .get(app.url("/api/admin/pending"))
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn admin_token_expires_after_an_hour() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    app.clock.advance(SignedDuration::from_secs(3599));
    app.admin_json(&token, "/api/admin/pending").await;
    app.clock.advance(SignedDuration::from_secs(2));
    assert_every_guarded_route_refuses(&app, Some(&token)).await;
}

#[tokio::test]
async fn a_fresh_login_works_after_the_old_token_expired() {
    let app = TestApp::spawn().await;
    let old = app.admin_token().await;
    app.clock.advance(SignedDuration::from_secs(3601));
    let res = app.admin_get(&old, "/api/admin/pending").await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let fresh = app.admin_token().await;
    app.admin_json(&fresh, "/api/admin/pending").await;
}

#[tokio::test]
async fn admin_logout_ends_the_presented_token_at_once() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let other = app.admin_token().await;
    let res = app.admin_post(&token, "/api/admin/logout", None).await;
    let body = expect_json(res, StatusCode::OK).await;
    assert_eq!(body, json!({"logged_out": true}));
    let res = app.admin_get(&token, "/api/admin/pending").await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // Logging out twice is refused like any dead token.
    let res = app.admin_post(&token, "/api/admin/logout", None).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    // The admin's other token is another sign-in and keeps working.
    let res = app.admin_get(&other, "/api/admin/pending").await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn changing_an_admins_password_ends_all_of_that_admins_tokens() {
    let app = TestApp::spawn().await;
    let first = app.admin_token().await;
    let second = app.admin_token().await;
    // Another admin's token survives: only the changed admin is signed out.
    run_cli(cli(
        &app.database(),
        &[
            "create-admin",
            "--username",
            "other",
            "--password",
            "An0ther-Admin-Pass",
        ],
    ));
    let res = app
        .post(
            "/api/admin/login",
            &json!({"username": "other", "password": "An0ther-Admin-Pass"}),
        )
        .await;
    let other = expect_json(res, StatusCode::OK).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    run_cli(cli(
        &app.database(),
        &[
            "create-admin",
            "--username",
            "admin",
            "--password",
            "A-brand-new-Pass1",
        ],
    ));

    for token in [&first, &second] {
        let res = app.admin_get(token, "/api/admin/pending").await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
    let res = app.admin_get(&other, "/api/admin/pending").await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post(
            "/api/admin/login",
            &json!({"username": "admin", "password": "A-brand-new-Pass1"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}
