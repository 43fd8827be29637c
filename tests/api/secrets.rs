//! Secrets appear only in the one response that issues them: no read answer
//! ever carries a password, an admin token, an API key, an auth key, a QR
//! token, a PIN or a session token, nor a field named after one. The sweep
//! takes the read routes from the served `/openapi.json`, so a GET route is
//! checked the day it is documented.
//!
//! Only GETs are swept: the answers that legitimately hand a secret out
//! (admin login, service registration and key rotation, mobile login, QR
//! generate and scan, PIN verify, validate-session) are POSTs, each the one
//! place its secret is issued or echoed to the party that sent it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flow::{Flow, text};
use crate::harness::{
    ADMIN_PASSWORD, Options, PASSWORD, TestApp, TestDb, cli, expect_json, run_cli,
};
use crate::openapi::{self, Operation};

/// Parts of a field name that say the field holds a secret wherever they
/// appear (`password_hash`, `client_secret`).
const SECRET_WORDS: [&str; 3] = ["password", "passwd", "secret"];

/// Last parts of a field name that say it holds a secret (`api_key`,
/// `auth_key`, `session_token`, `pin`, `pin_hash`); `token_type` or `key_id`
/// name no secret.
const SECRET_ENDINGS: [&str; 5] = ["key", "token", "pin", "hash", "salt"];

/// The members of a JSON Web Key that hold its private or symmetric part
/// (RFC 7518 §6): a published key set must carry none.
const PRIVATE_JWK_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Whether a field called `name` holds a secret, by its name.
fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let parts: Vec<&str> = name.split(['_', '-', '.']).collect();
    parts.iter().any(|p| SECRET_WORDS.contains(p))
        || parts.last().is_some_and(|p| SECRET_ENDINGS.contains(p))
}

/// The secret-named fields anywhere in `value`, as JSON paths.
fn secret_fields(value: &Value, at: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let is_jwk = map.contains_key("kty");
            for (key, member) in map {
                let path = format!("{at}.{key}");
                if is_secret_name(key) || (is_jwk && PRIVATE_JWK_MEMBERS.contains(&key.as_str())) {
                    found.push(path.clone());
                }
                secret_fields(member, &path, found);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                secret_fields(item, &format!("{at}[{i}]"), found);
            }
        }
        _ => {}
    }
}

/// Whether `body` shows `secret`. A PIN is all digits, so it counts only as
/// a whole number, not inside a longer one such as a timestamp or a count.
fn shows(body: &str, secret: &str) -> bool {
    if !secret.chars().all(|c| c.is_ascii_digit()) {
        return body.contains(secret);
    }
    body.match_indices(secret).any(|(at, _)| {
        let before = body[..at].chars().next_back();
        let after = body[at + secret.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// The path of `op` with each `{parameter}` replaced by the id it names.
/// A parameter the sweep cannot fill fails the test: a new route must not
/// escape the sweep because it has one.
fn fill_path(op: &Operation, ids: &[(&str, &str)]) -> String {
    let mut path = op.path.clone();
    for name in op.path_parameters() {
        let Some((_, value)) = ids.iter().find(|(known, _)| *known == name) else {
            panic!(
                "{} has the path parameter {{{name}}}, which the secrets sweep cannot fill: \
                 create the object it names in tests/api/secrets.rs and add it to `ids`",
                op.name()
            );
        };
        path = path.replace(&format!("{{{name}}}"), value);
    }
    path
}

/// The requests the sweep sends to `op`: the plain path, and once more for
/// each documented query parameter that names an object the sweep created
/// (`?user_id=` on the statistics adds that user's usage).
fn requests(op: &Operation, ids: &[(&str, &str)]) -> Vec<String> {
    let path = fill_path(op, ids);
    let mut requests = vec![path.clone()];
    for name in op.query_parameters() {
        if let Some((_, value)) = ids.iter().find(|(known, _)| *known == name) {
            requests.push(format!("{path}?{name}={value}"));
        }
    }
    requests
}

/// Every GET the served document lists, with the auth it documents and real
/// ids for its parameters, after every kind of secret has been issued:
/// passwords, the admin token, API keys before and after rotation, auth keys
/// of two phone logins, QR tokens (unscanned, scanned, denied, used), PINs
/// and session tokens (live and logged out). Every list answer must have
/// items, so no list is swept empty.
#[tokio::test]
async fn no_get_answer_shows_a_secret_or_a_secret_named_field() {
    let mut flow = Flow::start().await;
    let first_auth_key = flow.auth_key.clone();
    flow.auth_key = flow.phone_login("john").await;
    let first_api_key = flow.api_key.clone();
    let rotated = flow.service_action(&flow.service_id, "rotate-key").await;
    flow.api_key = text(&rotated, "api_key");
    let (other_service, other_api_key) = flow.new_service("ServiceC").await;
    // ServiceB is an OIDC client too, so its client settings are read.
    let oidc = json!({"redirect_uris": ["https://serviceb.example/callback"]});
    let res = flow
        .app
        .admin_put(
            &flow.admin,
            &format!("/api/services/{}/oidc", flow.service_id),
            &oidc,
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    flow.service_action(&other_service, "deactivate").await;

    // Someone in every state: active (john), pending, inactive, rejected.
    let app = &flow.app;
    app.register("pending").await;
    let inactive = app.active_user(&flow.admin, "inactive").await;
    flow.user_action(&inactive, "deactivate").await;
    let rejected = app.register("rejected").await;
    expect_json(
        app.reject(&flow.admin, &rejected, None).await,
        StatusCode::OK,
    )
    .await;

    // Login history of every kind, and the emails they send.
    let (used_qr, used_pin) = flow.scanned().await;
    let session = text(&flow.verify(&used_qr, &used_pin).await, "session_token");
    let ended_session = flow.session().await;
    let res = flow.logout_res(&ended_session).await;
    expect_json(res, StatusCode::OK).await;
    let (scanned_qr, scanned_pin) = flow.scanned().await;
    flow.wrong_pins(&scanned_qr, &scanned_pin, 1).await;
    let denied_qr = flow.qr().await;
    flow.deny(&denied_qr).await;
    let unscanned_qr = flow.qr().await;

    let secrets: [&str; 16] = [
        PASSWORD,
        ADMIN_PASSWORD,
        &flow.admin,
        &first_api_key,
        &flow.api_key,
        &other_api_key,
        &first_auth_key,
        &flow.auth_key,
        &used_qr,
        &scanned_qr,
        &denied_qr,
        &unscanned_qr,
        &used_pin,
        &scanned_pin,
        &session,
        &ended_session,
    ];
    let ids = [
        ("user_id", flow.user_id.as_str()),
        ("service_id", flow.service_id.as_str()),
    ];

    let doc = openapi::document(app).await;
    let reads: Vec<Operation> = openapi::operations(&doc)
        .into_iter()
        .filter(|op| op.method == reqwest::Method::GET)
        // The OAuth endpoints answer only to a client in the middle of a
        // flow (tests/api/oidc_flow.rs walks them with real tokens).
        .filter(|op| !op.path.starts_with("/oauth2/"))
        .collect();
    let mut leaks = Vec::new();
    for op in &reads {
        for path in requests(op, &ids) {
            let mut req = app.client.get(app.url(&path));
            for scheme in op.security_schemes() {
                match scheme {
                    "admin" => req = req.bearer_auth(&flow.admin),
                    other => panic!(
                        "{} needs the security scheme {other:?}, which the secrets sweep \
                         cannot satisfy: teach it in tests/api/secrets.rs",
                        op.name()
                    ),
                }
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            let body = res.text().await.unwrap();
            assert!(status.is_success(), "GET {path} answered {status}: {body}");
            for (i, secret) in secrets.iter().enumerate() {
                if shows(&body, secret) {
                    leaks.push(format!("GET {path} shows secret #{i} ({secret})"));
                }
            }
            let Ok(json) = serde_json::from_str::<Value>(&body) else {
                continue;
            };
            let mut fields = Vec::new();
            secret_fields(&json, "", &mut fields);
            for field in fields {
                leaks.push(format!("GET {path} has the secret-named field {field}"));
            }
            if let Some(items) = json["items"].as_array() {
                assert!(
                    !items.is_empty(),
                    "GET {path} lists nothing, so the sweep checks no item: create one"
                );
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "secrets in the {} GET operations of /openapi.json:\n{}",
        reads.len(),
        leaks.join("\n")
    );
}

/// The rule the sweep judges field names by: the names of secrets this
/// server issues are caught, the names its answers use for other things are not.
#[test]
fn secret_named_fields_are_told_apart_from_their_neighbours() {
    for secret in [
        "password",
        "password_hash",
        "api_key",
        "auth_key",
        "access_token",
        "session_token",
        "qr_token",
        "pin",
        "pin_hash",
        "client_secret",
    ] {
        assert!(is_secret_name(secret), "{secret} is not taken for a secret");
    }
    for harmless in [
        "token_type",
        "key_id",
        "keys",
        "kid",
        "next_cursor",
        "opening_time",
        "expires_in",
        "jwks_uri",
    ] {
        assert!(
            !is_secret_name(harmless),
            "{harmless} is taken for a secret"
        );
    }
    assert!(shows(r#"{"pin":"042137"}"#, "042137"));
    assert!(!shows(r#"{"attempts":10421370}"#, "042137"));
}

/// A GET route with a path parameter the sweep cannot fill fails the sweep
/// rather than leaving the route unchecked.
#[test]
#[should_panic(expected = "which the secrets sweep cannot fill")]
fn a_path_parameter_the_sweep_cannot_fill_fails_it() {
    let op = Operation {
        method: reqwest::Method::GET,
        path: "/api/admin/devices/{device_id}".to_owned(),
        spec: Value::Null,
    };
    fill_path(&op, &[("user_id", "some-user")]);
}

/// Without `ADMIN_PASSWORD` the first start makes a password. With no
/// terminal attached (a service manager, a container) it must not reach the
/// log: it goes to a file only the server's user can read, beside the SQLite
/// database or, for PostgreSQL, in the working directory.
#[tokio::test]
async fn a_generated_first_admin_password_is_written_to_a_private_file_never_to_the_log() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::fresh().await;
    let work = tempfile::tempdir().unwrap();
    let mut init = cli(&db, &["init-db"]);
    init.current_dir(work.path())
        .env_remove("ADMIN_PASSWORD")
        .env("RUST_LOG", "info");
    let out = run_cli(init);
    let file = if db.is_postgres() {
        work.path().join("first-admin-password.txt")
    } else {
        let path = db.url.strip_prefix("sqlite://").unwrap();
        std::path::Path::new(path).with_file_name("first-admin-password.txt")
    };
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", file.display());
    let password = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert!(password.len() >= 16, "a generated password: {password:?}");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !log.contains(&password),
        "the password reached the log: {log}"
    );
    assert!(
        log.contains(&file.display().to_string()),
        "the log names the file: {log}"
    );

    let app = TestApp::spawn_with(Options {
        database: Some(db),
        ..Default::default()
    })
    .await;
    let res = app
        .post(
            "/api/admin/login",
            &json!({"username": "admin", "password": password}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}
