//! The keys that sign session tokens: sealed at rest with
//! `SIGNING_KEY_ENCRYPTION_KEY`, refused with a clear message when the key
//! is missing or wrong, and rotated by `central-auth rotate-signing-key`
//! without ending anyone's session.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flow::Flow;
use crate::harness::{Options, TestApp, TestDb, cli, expect_json, run_cli};

/// Tokens name this issuer whatever port a restarted server gets.
const ISSUER: &str = "http://auth.test";

/// A key encryption key made of one repeated byte, as the setting takes it.
fn encryption_key(byte: u8) -> String {
    STANDARD.encode([byte; 32])
}

fn args(extra: &[&str]) -> Vec<String> {
    ["--public-url", ISSUER]
        .iter()
        .chain(extra)
        .map(|s| (*s).to_owned())
        .collect()
}

async fn start(db: &TestDb, extra: &[&str]) -> anyhow::Result<TestApp> {
    TestApp::try_spawn_with(Options {
        database: Some(db.clone()),
        args: args(extra),
        ..Default::default()
    })
    .await
}

/// (kid, stored private key, retired) of every row, as someone holding a
/// copy of the database reads them.
async fn stored_keys(db: &TestDb) -> Vec<(String, String, bool)> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let rows: Vec<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT kid, private_key, retired_at FROM signing_keys ORDER BY created_at")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    rows.into_iter()
        .map(|(kid, private, retired)| (kid, private, retired.is_some()))
        .collect()
}

/// Whether a stored private key is a plain base64 PKCS#8 Ed25519 key.
fn is_clear_pkcs8(stored: &str) -> bool {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    STANDARD
        .decode(stored)
        .ok()
        .is_some_and(|der| ed25519_dalek::SigningKey::from_pkcs8_der(&der).is_ok())
}

async fn jwks(app: &TestApp) -> JwkSet {
    let res = app.get("/.well-known/jwks.json").await;
    serde_json::from_value(expect_json(res, StatusCode::OK).await).unwrap()
}

fn kids(set: &JwkSet) -> Vec<String> {
    set.keys
        .iter()
        .map(|k| k.common.key_id.clone().unwrap())
        .collect()
}

/// The `aud` claim of `token`, read without checking its signature.
fn audience_of(token: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["aud"].as_str().unwrap().to_owned()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// Validates `token` as the service it was issued to (its `aud`).
async fn validate(app: &TestApp, token: &str) -> Value {
    let res = app
        .post(
            "/api/auth/validate-session",
            &json!({"session_token": token, "service_id": audience_of(token)}),
        )
        .await;
    expect_json(res, StatusCode::OK).await
}

/// Verifies `token` with nothing but the published JWKS, as a service's
/// JWT library does.
async fn verifies_offline(app: &TestApp, token: &str) -> bool {
    let set = jwks(app).await;
    let Some(jwk) = set.find(&kid_of(token)) else {
        return false;
    };
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[ISSUER]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).is_ok()
}

/// Polls until `check` holds (a server picks up a rotation on its timer);
/// fails after 20 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within 20 s");
}

fn output(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn with_an_encryption_key_the_stored_private_key_is_sealed_and_tokens_validate() {
    let db = TestDb::fresh().await;
    let key = encryption_key(1);
    let app = start(&db, &["--signing-key-encryption-key", &key])
        .await
        .unwrap();
    let flow = Flow::start_on(app).await;
    let token = flow.session().await;
    assert_eq!(validate(&flow.app, &token).await["valid"], true);
    let rows = stored_keys(&db).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (kid, private, _) = &rows[0];
    assert_eq!(&kid_of(&token), kid);
    assert!(private.starts_with("xchacha20poly1305:"), "{private}");
    assert!(
        !is_clear_pkcs8(private),
        "the private key is stored in clear"
    );
}

#[tokio::test]
async fn a_clear_key_is_sealed_when_a_key_is_first_configured_and_its_tokens_still_validate() {
    let db = TestDb::fresh().await;
    let flow = Flow::start_on(start(&db, &[]).await.unwrap()).await;
    let token = flow.session().await;
    flow.app.stop().await;
    let before = stored_keys(&db).await;
    assert!(is_clear_pkcs8(&before[0].1), "no key set: stored in clear");

    let key = encryption_key(2);
    let app = start(&db, &["--signing-key-encryption-key", &key])
        .await
        .unwrap();
    let after = stored_keys(&db).await;
    assert_eq!(after.len(), 1, "no new key is made: {after:?}");
    assert_eq!(after[0].0, before[0].0, "the same key, now sealed");
    assert!(after[0].1.starts_with("xchacha20poly1305:"), "{after:?}");
    assert_eq!(kids(&jwks(&app).await), [before[0].0.clone()]);
    assert_eq!(validate(&app, &token).await["valid"], true);
    app.stop().await;

    // The same key from a file (a container secret, with its newline).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("signing-key-encryption-key");
    std::fs::write(&file, format!("{key}\n")).unwrap();
    let from_file = start(
        &db,
        &["--signing-key-encryption-key-file", file.to_str().unwrap()],
    )
    .await
    .unwrap();
    assert_eq!(validate(&from_file, &token).await["valid"], true);
    assert_eq!(stored_keys(&db).await, after, "nothing changes at rest");
}

#[tokio::test]
async fn a_sealed_database_refuses_to_start_without_its_key_or_with_another() {
    let db = TestDb::fresh().await;
    let key = encryption_key(3);
    start(&db, &["--signing-key-encryption-key", &key])
        .await
        .unwrap()
        .stop()
        .await;
    let sealed = stored_keys(&db).await;

    let without = start(&db, &[])
        .await
        .err()
        .expect("refused without the key");
    let message = format!("{without:#}");
    assert!(message.contains("encrypted"), "{message}");
    assert!(message.contains("SIGNING_KEY_ENCRYPTION_KEY"), "{message}");

    let other = encryption_key(4);
    let wrong = start(&db, &["--signing-key-encryption-key", &other])
        .await
        .err()
        .expect("refused with another key");
    let message = format!("{wrong:#}");
    assert!(message.contains("does not open"), "{message}");
    assert!(message.contains(&sealed[0].0), "names the key: {message}");
    assert!(
        !message.contains(&other) && !message.contains(&key),
        "{message}"
    );

    assert_eq!(stored_keys(&db).await, sealed, "no new key was made");
    let again = start(&db, &["--signing-key-encryption-key", &key]).await;
    assert!(again.is_ok(), "the right key still opens it");
}

#[tokio::test]
async fn a_malformed_encryption_key_is_refused_by_name_without_showing_it() {
    let db = TestDb::fresh().await;
    let short = STANDARD.encode([9u8; 16]);
    let refused = start(&db, &["--signing-key-encryption-key", &short])
        .await
        .err()
        .expect("16 bytes are refused");
    let message = format!("{refused:#}");
    assert!(message.contains("SIGNING_KEY_ENCRYPTION_KEY"), "{message}");
    assert!(message.contains("32"), "{message}");
    assert!(!message.contains(&short), "{message}");

    let missing = start(
        &db,
        &["--signing-key-encryption-key-file", "/nonexistent/kek"],
    )
    .await
    .err()
    .expect("a missing file is refused");
    let message = format!("{missing:#}");
    assert!(
        message.contains("SIGNING_KEY_ENCRYPTION_KEY_FILE"),
        "{message}"
    );
    assert!(message.contains("/nonexistent/kek"), "{message}");
}

#[tokio::test]
async fn without_an_encryption_key_the_start_says_so_in_the_log() {
    let db = TestDb::fresh().await;
    let out = run_cli(cli(&db, &["init-db"]));
    let log = output(&out);
    assert!(
        log.contains("SIGNING_KEY_ENCRYPTION_KEY is not set"),
        "a warning names the setting: {log}"
    );
    let mut with_key = cli(&db, &["init-db"]);
    with_key.env("SIGNING_KEY_ENCRYPTION_KEY", encryption_key(5));
    let log = output(&run_cli(with_key));
    assert!(!log.contains("is not set"), "{log}");
    assert!(!log.contains(&encryption_key(5)), "{log}");
}

/// `rotate-signing-key` on a running server's database, with `env`.
fn rotate(db: &TestDb, env: &[(&str, &str)]) -> String {
    let mut command = cli(db, &["rotate-signing-key"]);
    for (name, value) in env {
        command.env(name, value);
    }
    let out = run_cli(command);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn after_rotate_signing_key_old_tokens_validate_new_ones_carry_the_new_kid_and_jwks_lists_both()
 {
    let db = TestDb::fresh().await;
    let key = encryption_key(6);
    let app = start(
        &db,
        &[
            "--signing-key-encryption-key",
            &key,
            "--signing-key-reload-secs",
            "1",
        ],
    )
    .await
    .unwrap();
    let flow = Flow::start_on(app).await;
    let before = flow.session().await;
    let old_kid = kid_of(&before);

    let said = rotate(&db, &[("SIGNING_KEY_ENCRYPTION_KEY", &key)]);
    let rows = stored_keys(&db).await;
    let new_kid = rows
        .iter()
        .find(|(_, _, retired)| !retired)
        .map(|(kid, _, _)| kid.clone())
        .unwrap();
    assert_ne!(new_kid, old_kid);
    assert!(said.contains(&new_kid) && said.contains(&old_kid), "{said}");
    let (_, old_private, _) = rows.iter().find(|(kid, _, _)| *kid == old_kid).unwrap();
    assert!(
        old_private.is_empty(),
        "a retired key keeps no private half"
    );
    let (_, new_private, _) = rows.iter().find(|(kid, _, _)| *kid == new_kid).unwrap();
    assert!(new_private.starts_with("xchacha20poly1305:"), "sealed too");

    // The server reads the keys on its timer; the JWKS and the signer
    // change together.
    eventually("the server publishes the new key", || async {
        kids(&jwks(&flow.app).await).len() == 2
    })
    .await;
    let after = flow.session().await;
    assert_eq!(kid_of(&after), new_kid);
    let mut published = kids(&jwks(&flow.app).await);
    published.sort();
    let mut both = vec![old_kid.clone(), new_kid.clone()];
    both.sort();
    assert_eq!(published, both, "JWKS lists both keys");
    let valid = validate(&flow.app, &before).await;
    assert_eq!(valid["valid"], true, "a token of the old key: {valid}");
    assert!(verifies_offline(&flow.app, &before).await);
    assert!(verifies_offline(&flow.app, &after).await);

    // Once the last token of the old key can have expired (the longest a
    // session lives, counted from the rotation), it drops out.
    flow.app
        .clock
        .set(Timestamp::now() + SignedDuration::from_hours(13));
    eventually("the old key drops out of the JWKS", || async {
        kids(&jwks(&flow.app).await) == [new_kid.clone()]
    })
    .await;
    assert!(!verifies_offline(&flow.app, &before).await);
    assert_eq!(validate(&flow.app, &before).await["valid"], false);
    let left: Vec<String> = stored_keys(&db).await.into_iter().map(|r| r.0).collect();
    assert_eq!(left, [new_kid], "the retired row is deleted");
}

/// One instance signs with a key another has not loaded yet: the other
/// looks the kid up at once instead of calling the token invalid.
#[tokio::test]
async fn a_token_of_a_key_rotated_elsewhere_validates_at_once_on_every_instance() {
    let db = TestDb::fresh().await;
    let quick = start(&db, &["--signing-key-reload-secs", "1"])
        .await
        .unwrap();
    let slow = start(&db, &["--signing-key-reload-secs", "3600"])
        .await
        .unwrap();
    let flow = Flow::start_on(quick).await;
    let old_kid = kid_of(&flow.session().await);
    let said = rotate(&db, &[]);
    assert_eq!(
        kids(&jwks(&slow).await),
        std::slice::from_ref(&old_kid),
        "not loaded yet"
    );
    eventually("the quick instance publishes the new key", || async {
        kids(&jwks(&flow.app).await).len() == 2
    })
    .await;
    let token = flow.session().await;
    assert_ne!(kid_of(&token), old_kid);
    assert!(said.contains(&kid_of(&token)), "{said}");
    let valid = validate(&slow, &token).await;
    assert_eq!(valid["valid"], true, "{valid}");
    assert!(verifies_offline(&slow, &token).await, "and its JWKS has it");
}
