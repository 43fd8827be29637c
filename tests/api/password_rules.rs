//! The rules for a new password, wherever one is set: not one of the most
//! common passwords from breaches, not containing the username or the
//! email's local part; the refusal says why, at the field. Passwords set
//! before the rules keep working.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{
    ADMIN_PASSWORD, TestApp, TestDb, assert_invalid_field, cli, expect_json, registration, run_cli,
};

fn with_password(username: &str, password: &str) -> Value {
    let mut body = registration(username);
    body["password"] = json!(password);
    body
}

/// The message of the 422's error at `field`.
async fn refusal_at(res: reqwest::Response, field: &str) -> String {
    let body = assert_invalid_field(res, field).await;
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == field)
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn admin_login(app: &TestApp, username: &str, password: &str) -> StatusCode {
    app.admin_login(username, password).await.status()
}

#[tokio::test]
async fn register_with_a_common_password_is_422_at_password_saying_why() {
    let app = TestApp::spawn().await;
    // On the list in lower case; compared case-insensitively, and in NFKC
    // (the second is fullwidth "qwertyuiop").
    for common in [
        "Password123",
        "\u{ff51}\u{ff57}\u{ff45}\u{ff52}\u{ff54}\u{ff59}\u{ff55}\u{ff49}\u{ff4f}\u{ff50}",
        "1234567890",
    ] {
        let res = app
            .post("/api/register", &with_password("john", common))
            .await;
        let why = refusal_at(res, "password").await;
        assert!(
            why.contains("most commonly used passwords"),
            "{common}: {why}"
        );
    }
    // Nothing was queued.
    let token = app.admin_token().await;
    let pending = app.admin_json(&token, "/api/admin/pending").await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn register_with_a_password_containing_the_username_is_422() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/api/register",
            &with_password("johnny", "I am JOHNNY, hello"),
        )
        .await;
    assert_eq!(
        refusal_at(res, "password").await,
        "must not contain your username"
    );
}

#[tokio::test]
async fn register_with_a_password_containing_the_email_local_part_is_422() {
    let app = TestApp::spawn().await;
    let mut body = with_password("jsm", "smith.family 1984");
    body["email"] = json!("Smith.Family@example.com");
    let res = app.post("/api/register", &body).await;
    let why = refusal_at(res, "password").await;
    assert!(why.contains("email address"), "{why}");
}

#[tokio::test]
async fn a_refused_password_is_reported_with_the_other_field_errors() {
    let app = TestApp::spawn().await;
    let mut body = with_password("john", "password123");
    body["full_name"] = json!("");
    let res = app.post("/api/register", &body).await;
    let problem = assert_invalid_field(res, "password").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"full_name"), "{problem}");
}

#[tokio::test]
async fn a_good_password_is_accepted() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/api/register",
            &with_password("john", "granite otter lantern"),
        )
        .await;
    expect_json(res, StatusCode::CREATED).await;
}

#[tokio::test]
async fn create_admin_refuses_a_common_password_or_its_name_and_changes_nothing() {
    let app = TestApp::spawn().await;
    for (password, why) in [
        ("qwertyuiop", "most commonly used"),
        ("super-admin-2026", "must not contain your username"),
    ] {
        let out = cli(
            &app.database(),
            &[
                "create-admin",
                "--username",
                "admin",
                "--password",
                password,
            ],
        )
        .output()
        .unwrap();
        assert!(!out.status.success(), "{password} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(why), "{password}: {stderr}");
    }
    // The password change did not happen.
    assert_eq!(
        admin_login(&app, "admin", ADMIN_PASSWORD).await,
        StatusCode::OK
    );
    // The email's local part counts too, for a new admin.
    let out = cli(
        &app.database(),
        &[
            "create-admin",
            "--username",
            "ops",
            "--email",
            "nightshift@example.com",
            "--password",
            "nightshift rota 7",
        ],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("email address"));
}

#[tokio::test]
async fn a_common_admin_password_on_first_start_is_refused_and_says_why() {
    let db = TestDb::fresh().await;
    let out = cli(&db, &["init-db"])
        .env("ADMIN_PASSWORD", "Password123")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a common first password was accepted"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ADMIN_PASSWORD is one of the most commonly used passwords"),
        "{stderr}"
    );
}

#[tokio::test]
async fn admin_password_is_checked_only_when_it_makes_the_first_admin() {
    // A server whose first admin exists starts whatever ADMIN_PASSWORD
    // still says: the setting is not used then.
    let app = TestApp::spawn().await;
    let mut init = cli(&app.database(), &["init-db"]);
    init.env("ADMIN_PASSWORD", "password123");
    assert!(run_cli(init).status.success());
    assert_eq!(
        admin_login(&app, "admin", ADMIN_PASSWORD).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_password_set_before_the_rules_keeps_working() {
    let app = TestApp::spawn().await;
    let res = app.post("/api/register", &registration("john")).await;
    let id = expect_json(res, StatusCode::CREATED).await["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = app.admin_token().await;
    assert_eq!(app.approve(&token, &id).await.status(), StatusCode::OK);
    // As a server before the rules stored it: "password123" was allowed.
    let old = Argon2::default()
        .hash_password(b"password123")
        .unwrap()
        .to_string();
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database().url).await.unwrap();
    sqlx::query("UPDATE active_users SET password_hash = $2 WHERE user_id = $1")
        .bind(id.clone())
        .bind(old)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let res = app.mobile_login("john", "password123").await;
    assert_eq!(expect_json(res, StatusCode::OK).await["user_id"], id);
}
