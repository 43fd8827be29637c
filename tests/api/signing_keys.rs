//! The keys that sign session tokens (Ed25519) and ID tokens (RSA, made on
//! first need): sealed at rest with `SIGNING_KEY_ENCRYPTION_KEY`, refused
//! with a clear message when the key is missing or wrong, and rotated by
//! `central-auth rotate-signing-key` without ending anyone's session.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};

use central_auth::clock::Clock;

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

/// (kid, stored private key, retired) of every Ed25519 row, as someone
/// holding a copy of the database reads them.
async fn stored_keys(db: &TestDb) -> Vec<(String, String, bool)> {
    stored_keys_of(db, "EdDSA").await
}

/// The same of the RSA rows.
async fn stored_rsa_keys(db: &TestDb) -> Vec<(String, String, bool)> {
    stored_keys_of(db, "RS256").await
}

async fn stored_keys_of(db: &TestDb, algorithm: &str) -> Vec<(String, String, bool)> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let rows: Vec<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT kid, private_key, retired_at FROM signing_keys WHERE algorithm = $1 \
         ORDER BY created_at",
    )
    .bind(algorithm)
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

/// Whether a stored private key is a plain base64 PKCS#1 RSA key.
fn is_clear_pkcs1(stored: &str) -> bool {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    STANDARD
        .decode(stored)
        .ok()
        .is_some_and(|der| rsa::RsaPrivateKey::from_pkcs1_der(&der).is_ok())
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

/// The kids of the keys published for `alg`, sorted.
fn kids_of(set: &JwkSet, alg: &str) -> Vec<String> {
    let mut kids: Vec<String> = set
        .keys
        .iter()
        .filter(|k| {
            k.common
                .key_algorithm
                .is_some_and(|a| format!("{a:?}") == alg)
        })
        .map(|k| k.common.key_id.clone().unwrap())
        .collect();
    kids.sort();
    kids
}

/// The one RSA key of the JWKS: its kid and its (n, e).
fn rsa_jwk(set: &JwkSet) -> (String, String, String) {
    let rsa: Vec<_> = set
        .keys
        .iter()
        .filter_map(|k| match &k.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::RSA(p) => {
                Some((k.common.key_id.clone().unwrap(), p.n.clone(), p.e.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(rsa.len(), 1, "one RSA key: {:?}", kids(set));
    rsa[0].clone()
}

/// ID-token-like claims from `app`, signed RS256 by the server's own key.
async fn rs256_token(app: &TestApp, exp: Timestamp) -> String {
    app.core.ensure_rsa_key().await.unwrap();
    let claims = json!({"iss": ISSUER, "sub": "user-1", "aud": "client-1",
        "exp": exp.as_second(), "nonce": "n-1"});
    app.core
        .signer()
        .sign_claims(central_auth::domain::signing::JwsAlgorithm::RS256, &claims)
        .unwrap()
}

/// Whether `token` verifies RS256 under the published RSA members (n, e),
/// as a relying party's JWT library does.
fn verifies_with_rsa(token: &str, n: &str, e: &str) -> bool {
    let key = DecodingKey::from_rsa_components(n, e).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.set_audience(&["client-1"]);
    validation.set_issuer(&[ISSUER]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).is_ok()
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
    assert_eq!(kids_of(&jwks(&app).await, "EdDSA"), [before[0].0.clone()]);
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

    let (old_rsa_kid, _, _) = rsa_jwk(&jwks(&flow.app).await);
    let id_before = rs256_token(
        &flow.app,
        flow.app.clock.now() + SignedDuration::from_hours(1),
    )
    .await;

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
    // The RSA key rotates with it, the same way.
    let rsa_rows = stored_rsa_keys(&db).await;
    assert_eq!(rsa_rows.len(), 2, "{rsa_rows:?}");
    let (new_rsa_kid, new_rsa_private, _) =
        rsa_rows.iter().find(|(_, _, retired)| !retired).unwrap();
    let (_, old_rsa_private, _) = rsa_rows
        .iter()
        .find(|(kid, _, _)| *kid == old_rsa_kid)
        .unwrap();
    assert_ne!(new_rsa_kid, &old_rsa_kid);
    assert!(
        old_rsa_private.is_empty(),
        "a retired RSA key keeps no private half"
    );
    assert!(
        new_rsa_private.starts_with("xchacha20poly1305:"),
        "sealed too"
    );
    assert!(
        said.contains(new_rsa_kid.as_str()) && said.contains(&old_rsa_kid),
        "{said}"
    );

    // The server reads the keys on its timer; the JWKS and the signer
    // change together.
    eventually("the server publishes the new keys", || async {
        kids(&jwks(&flow.app).await).len() == 4
    })
    .await;
    let after = flow.session().await;
    assert_eq!(kid_of(&after), new_kid);
    let set = jwks(&flow.app).await;
    let mut both = vec![old_kid.clone(), new_kid.clone()];
    both.sort();
    assert_eq!(kids_of(&set, "EdDSA"), both, "JWKS lists both Ed25519 keys");
    let mut both_rsa = vec![old_rsa_kid.clone(), new_rsa_kid.clone()];
    both_rsa.sort();
    assert_eq!(kids_of(&set, "RS256"), both_rsa, "and both RSA keys");
    let id_after = rs256_token(
        &flow.app,
        flow.app.clock.now() + SignedDuration::from_hours(1),
    )
    .await;
    assert_eq!(kid_of(&id_after), *new_rsa_kid);
    for token in [&id_before, &id_after] {
        let claims: Option<Value> = flow.app.core.verify_claims(token, false).await;
        assert_eq!(
            claims.unwrap()["nonce"],
            "n-1",
            "both RSA keys still verify"
        );
    }
    let valid = validate(&flow.app, &before).await;
    assert_eq!(valid["valid"], true, "a token of the old key: {valid}");
    assert!(verifies_offline(&flow.app, &before).await);
    assert!(verifies_offline(&flow.app, &after).await);

    // Once the last token of the old key can have expired (the longest a
    // session lives, counted from the rotation), it drops out.
    flow.app
        .clock
        .set(Timestamp::now() + SignedDuration::from_hours(13));
    eventually("the old keys drop out of the JWKS", || async {
        kids(&jwks(&flow.app).await).len() == 2
    })
    .await;
    let set = jwks(&flow.app).await;
    assert_eq!(kids_of(&set, "EdDSA"), std::slice::from_ref(&new_kid));
    assert_eq!(kids_of(&set, "RS256"), std::slice::from_ref(new_rsa_kid));
    assert!(!verifies_offline(&flow.app, &before).await);
    assert_eq!(validate(&flow.app, &before).await["valid"], false);
    let left: Vec<String> = stored_keys(&db).await.into_iter().map(|r| r.0).collect();
    assert_eq!(left, [new_kid], "the retired row is deleted");
    let left: Vec<String> = stored_rsa_keys(&db)
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(
        left,
        std::slice::from_ref(new_rsa_kid),
        "the retired RSA row too"
    );
    let gone: Option<Value> = flow.app.core.verify_claims(&id_before, true).await;
    assert!(
        gone.is_none(),
        "a token of a deleted key no longer verifies"
    );
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
    // The RSA key exists (the slow instance made it) before the rotation.
    jwks(&slow).await;
    let said = rotate(&db, &[]);
    assert_eq!(
        kids_of(&jwks(&slow).await, "EdDSA"),
        std::slice::from_ref(&old_kid),
        "not loaded yet"
    );
    eventually("the quick instance publishes the new key", || async {
        kids_of(&jwks(&flow.app).await, "EdDSA").len() == 2
    })
    .await;
    let token = flow.session().await;
    assert_ne!(kid_of(&token), old_kid);
    assert!(said.contains(&kid_of(&token)), "{said}");
    let valid = validate(&slow, &token).await;
    assert_eq!(valid["valid"], true, "{valid}");
    assert!(verifies_offline(&slow, &token).await, "and its JWKS has it");
}

#[tokio::test]
async fn a_fresh_server_makes_no_rsa_key_until_the_jwks_is_served_and_its_n_e_verify_rs256_tokens()
{
    let db = TestDb::fresh().await;
    let flow = Flow::start_on(start(&db, &[]).await.unwrap()).await;
    // A whole login needs no RSA key: generating one is not paid for.
    let session = flow.session().await;
    assert_eq!(validate(&flow.app, &session).await["valid"], true);
    assert_eq!(
        stored_rsa_keys(&db).await,
        [],
        "no RSA key before it is needed"
    );

    let set = jwks(&flow.app).await;
    let (kid, n, e) = rsa_jwk(&set);
    let rows = stored_rsa_keys(&db).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, kid);
    assert_eq!(e, "AQAB");
    let raw = flow.app.get("/.well-known/jwks.json").await;
    let raw = expect_json(raw, StatusCode::OK).await;
    let rsa = raw["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kty"] == "RSA")
        .unwrap();
    assert_eq!(rsa["alg"], "RS256");
    assert_eq!(rsa["use"], "sig");
    for private in ["d", "p", "q", "dp", "dq", "qi", "x", "crv"] {
        assert!(rsa.get(private).is_none(), "{private} in {rsa}");
    }

    let token = rs256_token(
        &flow.app,
        flow.app.clock.now() + SignedDuration::from_hours(1),
    )
    .await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some(kid.as_str()));
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert!(
        verifies_with_rsa(&token, &n, &e),
        "the published n/e verify it"
    );
    // Tampered, it does not.
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged_claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        json!({"iss": ISSUER, "sub": "admin", "aud": "client-1", "exp": 4_000_000_000i64})
            .to_string(),
    );
    parts[1] = &forged_claims;
    assert!(!verifies_with_rsa(&parts.join("."), &n, &e));

    // Serving the JWKS again makes nothing new.
    assert_eq!(rsa_jwk(&jwks(&flow.app).await).0, kid);
    assert_eq!(stored_rsa_keys(&db).await.len(), 1);
}

#[tokio::test]
async fn the_rsa_key_survives_a_restart_and_is_sealed_once_an_encryption_key_is_set() {
    let db = TestDb::fresh().await;
    let app = start(&db, &[]).await.unwrap();
    let (kid, n, e) = rsa_jwk(&jwks(&app).await);
    let exp = app.clock.now() + SignedDuration::from_hours(1);
    let token = rs256_token(&app, exp).await;
    app.stop().await;
    let rows = stored_rsa_keys(&db).await;
    assert!(is_clear_pkcs1(&rows[0].1), "no key set: stored in clear");

    let key = encryption_key(7);
    let app = start(&db, &["--signing-key-encryption-key", &key])
        .await
        .unwrap();
    let rows = stored_rsa_keys(&db).await;
    assert_eq!(rows.len(), 1, "no new RSA key is made: {rows:?}");
    assert_eq!(rows[0].0, kid);
    assert!(rows[0].1.starts_with("xchacha20poly1305:"), "{rows:?}");
    assert!(
        !is_clear_pkcs1(&rows[0].1),
        "the RSA key is stored in clear"
    );
    assert_eq!(
        rsa_jwk(&jwks(&app).await),
        (kid.clone(), n.clone(), e.clone())
    );
    let again = rs256_token(&app, exp).await;
    assert_eq!(
        kid_of(&again),
        kid,
        "signs with the same key after the restart"
    );
    assert!(verifies_with_rsa(&again, &n, &e));
    let claims: Option<Value> = app.core.verify_claims(&token, false).await;
    assert_eq!(
        claims.unwrap()["sub"],
        "user-1",
        "a token from before the restart"
    );
    app.stop().await;

    // Sealed, it locks the database like the Ed25519 key does.
    let refused = start(&db, &[])
        .await
        .err()
        .expect("refused without the key");
    assert!(format!("{refused:#}").contains("encrypted"), "{refused:#}");
    let wrong = start(&db, &["--signing-key-encryption-key", &encryption_key(8)])
        .await
        .err()
        .expect("refused with another key");
    assert!(format!("{wrong:#}").contains("does not open"), "{wrong:#}");
    assert_eq!(stored_rsa_keys(&db).await, rows, "nothing changes at rest");
}

/// Two instances asked for the RSA key at the same moment, on a fresh
/// database: one key is made and both publish it.
#[tokio::test]
async fn two_instances_making_the_rsa_key_at_once_agree_on_one() {
    let db = TestDb::fresh().await;
    let a = start(&db, &[]).await.unwrap();
    let b = start(&db, &[]).await.unwrap();
    let (from_a, from_b, again_a) = tokio::join!(jwks(&a), jwks(&b), jwks(&a));
    let kid = rsa_jwk(&from_a).0;
    assert_eq!(rsa_jwk(&from_b).0, kid);
    assert_eq!(rsa_jwk(&again_a).0, kid);
    let rows = stored_rsa_keys(&db).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, kid);
    let token = rs256_token(&b, b.clock.now() + SignedDuration::from_hours(1)).await;
    let claims: Option<Value> = a.core.verify_claims(&token, false).await;
    assert!(claims.is_some(), "a token of one verifies on the other");
}

/// An instance that has not loaded the RSA key yet verifies a token
/// another instance signed with it: the unknown kid makes it look.
#[tokio::test]
async fn a_token_of_an_rsa_key_made_elsewhere_verifies_at_once() {
    let db = TestDb::fresh().await;
    let maker = start(&db, &[]).await.unwrap();
    let other = start(&db, &["--signing-key-reload-secs", "3600"])
        .await
        .unwrap();
    let token = rs256_token(&maker, maker.clock.now() + SignedDuration::from_hours(1)).await;
    assert_eq!(other.core.signer().rsa_kid(), None, "not loaded yet");
    let claims: Option<Value> = other.core.verify_claims(&token, false).await;
    assert_eq!(claims.unwrap()["aud"], "client-1");
    assert_eq!(other.core.signer().rsa_kid(), Some(kid_of(&token).as_str()));
}

/// `verify_claims` judges expiry by the server's clock, and only for
/// our issuer's tokens.
#[tokio::test]
async fn verify_claims_refuses_an_expired_token_unless_allowed_and_another_issuer() {
    let app = start(&TestDb::fresh().await, &[]).await.unwrap();
    let now = app.clock.now();
    let token = rs256_token(&app, now + SignedDuration::from_mins(5)).await;
    let fresh: Option<Value> = app.core.verify_claims(&token, false).await;
    assert!(fresh.is_some());
    app.clock.set(now + SignedDuration::from_mins(6));
    let expired: Option<Value> = app.core.verify_claims(&token, false).await;
    assert!(expired.is_none(), "expired by the server's clock");
    let allowed: Option<Value> = app.core.verify_claims(&token, true).await;
    assert_eq!(allowed.unwrap()["nonce"], "n-1");

    let foreign = json!({"iss": "http://elsewhere.test", "sub": "u", "aud": "client-1",
        "exp": (now + SignedDuration::from_hours(1)).as_second()});
    let signer = app.core.signer();
    use central_auth::domain::signing::JwsAlgorithm;
    for alg in [JwsAlgorithm::RS256, JwsAlgorithm::EdDSA] {
        let token = signer.sign_claims(alg, &foreign).unwrap();
        let claims: Option<Value> = app.core.verify_claims(&token, true).await;
        assert!(claims.is_none(), "{alg:?}: another issuer");
    }
    // A session token is a JWS we signed too, and verifies as one.
    let flow = Flow::start_on(app).await;
    let session = flow.session().await;
    let claims: Option<Value> = flow.app.core.verify_claims(&session, true).await;
    assert_eq!(claims.unwrap()["iss"], ISSUER);
}
