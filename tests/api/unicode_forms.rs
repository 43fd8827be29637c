//! Usernames and passwords in other Unicode forms: what a Mac types
//! decomposed, Android composed and a phone keyboard fullwidth is one name
//! and one password. Hashes stored before normalisation (of the password as
//! typed) still sign in, and are replaced by a hash of the NFKC form.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher as _;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

use crate::console::Browser;
use crate::harness::{ADMIN_PASSWORD, TestApp, TestDb, cli, expect_json, registration, run_cli};

/// "Café au lait" with "é" as one code point, as most keyboards send it.
const COMPOSED: &str = "Caf\u{e9} au lait, merci";
/// The same with "e" and a combining acute accent, as some Mac input
/// methods send it.
const DECOMPOSED: &str = "Cafe\u{301} au lait, merci";

fn with_password(username: &str, password: &str) -> Value {
    let mut body = registration(username);
    body["password"] = json!(password);
    body
}

/// Registers and approves `username` with `password`.
async fn active_with(app: &TestApp, username: &str, password: &str) -> String {
    let res = app
        .post("/api/register", &with_password(username, password))
        .await;
    let id = expect_json(res, StatusCode::CREATED).await["user_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = app.admin_token().await;
    assert_eq!(app.approve(&token, &id).await.status(), StatusCode::OK);
    id
}

/// A hash of `raw` exactly as typed, as the server stored passwords
/// before it normalised them (same crate, same default parameters).
fn hash_as_typed(raw: &str) -> String {
    Argon2::default()
        .hash_password(raw.as_bytes())
        .unwrap()
        .to_string()
}

async fn pool(db: &TestDb) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&db.url).await.unwrap()
}

async fn stored_hash(db: &TestDb, sql: &str, key: &str) -> String {
    let pool = pool(db).await;
    let (hash,): (String,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(key.to_owned())
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    hash
}

async fn store_hash(db: &TestDb, sql: &str, key: &str, hash: &str) {
    let pool = pool(db).await;
    let done = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(key.to_owned())
        .bind(hash.to_owned())
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    pool.close().await;
}

const USER_HASH: &str = "SELECT password_hash FROM active_users WHERE user_id = $1";
const SET_USER_HASH: &str = "UPDATE active_users SET password_hash = $2 WHERE user_id = $1";
const ADMIN_HASH: &str = "SELECT password_hash FROM admins WHERE username_lower = $1";
const SET_ADMIN_HASH: &str = "UPDATE admins SET password_hash = $2 WHERE username_lower = $1";

async fn admin_login(app: &TestApp, username: &str, password: &str) -> StatusCode {
    app.admin_login(username, password).await.status()
}

#[tokio::test]
async fn a_password_registered_decomposed_signs_in_composed() {
    let app = TestApp::spawn().await;
    active_with(&app, "amelie", DECOMPOSED).await;
    let res = app.mobile_login("amelie", COMPOSED).await;
    assert_eq!(expect_json(res, StatusCode::OK).await["username"], "amelie");
    let res = app.mobile_login("amelie", DECOMPOSED).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_password_registered_composed_signs_in_decomposed() {
    let app = TestApp::spawn().await;
    active_with(&app, "amelie", COMPOSED).await;
    let res = app.mobile_login("amelie", DECOMPOSED).await;
    assert_eq!(expect_json(res, StatusCode::OK).await["username"], "amelie");
    // Another password still fails.
    let res = app.mobile_login("amelie", "Cafe au lait, merci").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_username_in_fullwidth_letters_signs_in() {
    let app = TestApp::spawn().await;
    active_with(&app, "john", COMPOSED).await;
    // "ｊｏｈｎ", as a CJK phone keyboard in full-width mode types it.
    let res = app
        .mobile_login("\u{ff4a}\u{ff4f}\u{ff48}\u{ff4e}", COMPOSED)
        .await;
    assert_eq!(expect_json(res, StatusCode::OK).await["username"], "john");
}

#[tokio::test]
async fn a_username_registered_in_fullwidth_letters_is_stored_plain() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/api/register",
            &with_password("\u{ff2d}\u{ff41}\u{ff52}\u{ff59}", COMPOSED),
        )
        .await;
    expect_json(res, StatusCode::CREATED).await;
    let token = app.admin_token().await;
    let pending = app.admin_json(&token, "/api/admin/pending").await;
    assert_eq!(pending["items"][0]["username"], "mary");
    // The plain name is taken by it.
    let res = app
        .post("/api/register", &with_password("mary", COMPOSED))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_hash_stored_from_the_typed_form_signs_in_and_is_rehashed() {
    let app = TestApp::spawn().await;
    let id = active_with(&app, "amelie", COMPOSED).await;
    // Made as the server made hashes before NFKC: of the bytes typed, here
    // on a Mac (decomposed).
    let old = hash_as_typed(DECOMPOSED);
    store_hash(&app.database(), SET_USER_HASH, &id, &old).await;

    // Typed on Android (composed), it does not match the old hash…
    let res = app.mobile_login("amelie", COMPOSED).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // …typed as then, it signs in, and the stored hash is replaced…
    let res = app.mobile_login("amelie", DECOMPOSED).await;
    assert_eq!(res.status(), StatusCode::OK);
    let new = stored_hash(&app.database(), USER_HASH, &id).await;
    assert_ne!(new, old, "the hash of the typed form is replaced");
    assert!(new.starts_with("$argon2id$"));
    // …by one of the NFKC form: now the composed form signs in too.
    let res = app.mobile_login("amelie", COMPOSED).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.mobile_login("amelie", DECOMPOSED).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(stored_hash(&app.database(), USER_HASH, &id).await, new);
}

#[tokio::test]
async fn an_unknown_user_with_a_decomposed_password_is_401_as_any() {
    let app = TestApp::spawn().await;
    active_with(&app, "amelie", COMPOSED).await;
    for (name, password) in [
        ("nobody", DECOMPOSED),
        ("amelie", "Cafe\u{301} noir, merci"),
    ] {
        let res = app.mobile_login(name, password).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name}");
    }
}

#[tokio::test]
async fn admin_api_login_accepts_other_unicode_forms_of_name_and_password() {
    let app = TestApp::spawn().await;
    run_cli(cli(
        &app.database(),
        &[
            "create-admin",
            "--username",
            "alice",
            "--password",
            DECOMPOSED,
        ],
    ));
    assert_eq!(admin_login(&app, "alice", COMPOSED).await, StatusCode::OK);
    assert_eq!(admin_login(&app, "alice", DECOMPOSED).await, StatusCode::OK);
    // Fullwidth "ａｌｉｃｅ".
    let fullwidth = "\u{ff41}\u{ff4c}\u{ff49}\u{ff43}\u{ff45}";
    assert_eq!(admin_login(&app, fullwidth, COMPOSED).await, StatusCode::OK);
}

#[tokio::test]
async fn console_sign_in_accepts_another_unicode_form_of_the_password() {
    let app = TestApp::spawn().await;
    run_cli(cli(
        &app.database(),
        &[
            "create-admin",
            "--username",
            "admin",
            "--password",
            COMPOSED,
        ],
    ));
    let mut browser = Browser::new();
    let res = browser.submit_sign_in(&app, DECOMPOSED).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[LOCATION], "/admin");
}

#[tokio::test]
async fn an_admin_hash_from_the_typed_form_signs_in_is_rehashed_and_ends_no_token() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let old = hash_as_typed(DECOMPOSED);
    store_hash(&app.database(), SET_ADMIN_HASH, "admin", &old).await;

    assert_eq!(
        admin_login(&app, "admin", ADMIN_PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    // The console signs in with the old hash too.
    let mut browser = Browser::new();
    let res = browser.submit_sign_in(&app, DECOMPOSED).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let new = stored_hash(&app.database(), ADMIN_HASH, "admin").await;
    assert_ne!(new, old, "the hash of the typed form is replaced");
    assert_eq!(admin_login(&app, "admin", COMPOSED).await, StatusCode::OK);
    // The same password, so the token from before is still good.
    let res = app.admin_get(&token, "/api/admin/pending").await;
    assert_eq!(res.status(), StatusCode::OK);
}
