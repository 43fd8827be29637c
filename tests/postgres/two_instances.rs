//! Two instances on one PostgreSQL database behave as one server: every step
//! of a login may land on either, the single-use guarantees hold across
//! them, and a logout or deactivation on one is seen by the other at once.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::harness::{ADMIN_PASSWORD, Api, TestDb, expect_json};
use crate::instance::{Instance, text};
use crate::required_env;

struct Pair {
    a: Instance,
    b: Instance,
    admin: String,
    user_id: String,
    auth_key: String,
    service_id: String,
    api_key: String,
}

async fn pair() -> Pair {
    required_env("TEST_DATABASE_URL");
    let db = TestDb::fresh().await;
    assert!(db.is_postgres());
    // Started together: migrations and first-start setup must not race.
    let (a, b) = tokio::join!(Instance::start(&db.url), Instance::start(&db.url));
    let admin = a.admin_token().await;
    let res = a
        .post(
            "/api/register",
            &json!({"email": "john@example.com", "username": "john",
                    "password": "correct horse battery", "full_name": "John Smith"}),
        )
        .await;
    let user_id = text(&expect_json(res, StatusCode::CREATED).await, "user_id");
    // Approved on the other instance.
    let res = b
        .admin_post(&admin, &format!("/api/admin/approve/{user_id}"), None)
        .await;
    expect_json(res, StatusCode::OK).await;
    let res = a
        .post(
            "/api/mobile/login",
            &json!({"username": "john", "password": "correct horse battery"}),
        )
        .await;
    let auth_key = text(&expect_json(res, StatusCode::OK).await, "auth_key");
    let res = b
        .admin_post(
            &admin,
            "/api/services/register",
            Some(&json!({"name": "ServiceB"})),
        )
        .await;
    let service = expect_json(res, StatusCode::CREATED).await;
    Pair {
        a,
        b,
        admin,
        user_id,
        auth_key,
        service_id: text(&service, "service_id"),
        api_key: text(&service, "api_key"),
    }
}

impl Pair {
    async fn generate_on(&self, on: &Instance) -> String {
        let body = json!({"service_id": self.service_id, "api_key": self.api_key});
        let res = on.post("/api/auth/qr/generate", &body).await;
        text(&expect_json(res, StatusCode::CREATED).await, "qr_token")
    }

    /// A full login with each step on alternating instances; the session token.
    async fn login(&self) -> String {
        let qr = self.generate_on(&self.a).await;
        let res = self
            .b
            .post(
                "/api/auth/qr/scan",
                &json!({"qr_token": qr, "auth_key": self.auth_key}),
            )
            .await;
        let pin = text(&expect_json(res, StatusCode::OK).await, "pin");
        let body = json!({"qr_token": qr, "pin": pin, "service_id": self.service_id, "api_key": self.api_key});
        let res = self.a.post("/api/auth/pin/verify", &body).await;
        text(&expect_json(res, StatusCode::OK).await, "session_token")
    }

    async fn validate_on(&self, on: &Instance, token: &str) -> Value {
        let res = on
            .post(
                "/api/auth/validate-session",
                &json!({"session_token": token, "service_id": self.service_id}),
            )
            .await;
        expect_json(res, StatusCode::OK).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_may_hop_between_instances() {
    let p = pair().await;
    let token = p.login().await;
    // The token was signed on A; B verifies it with the same key.
    let valid = p.validate_on(&p.b, &token).await;
    assert_eq!(valid["valid"], true, "{valid}");
    assert_eq!(valid["user"]["user_id"], p.user_id.as_str());
    let res =
        p.b.post("/api/auth/logout", &json!({"session_token": token}))
            .await;
    assert_eq!(expect_json(res, StatusCode::OK).await["logged_out"], true);
    // Seen by the other instance at once.
    let after = p.validate_on(&p.a, &token).await;
    assert_eq!(after["valid"], false);
    assert_eq!(after["reason"], "logged_out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_scans_across_two_instances_give_one_pin() {
    let p = pair().await;
    let qr = p.generate_on(&p.a).await;
    let mut scans = JoinSet::new();
    for i in 0..20 {
        let base = if i % 2 == 0 {
            p.a.base.clone()
        } else {
            p.b.base.clone()
        };
        let client = p.a.client.clone();
        let body = json!({"qr_token": qr, "auth_key": p.auth_key});
        scans.spawn(async move {
            let res = client
                .post(format!("{base}/api/auth/qr/scan"))
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            (status, body)
        });
    }
    let mut pins = 0;
    while let Some(done) = scans.join_next().await {
        let (status, body) = done.unwrap();
        match status {
            StatusCode::OK => pins += 1,
            StatusCode::CONFLICT => assert_eq!(body["code"], "qr_already_scanned", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(pins, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deactivating_a_user_on_one_instance_ends_sessions_on_the_other() {
    let p = pair().await;
    let token = p.login().await;
    assert_eq!(p.validate_on(&p.b, &token).await["valid"], true);
    let res =
        p.a.admin_post(
            &p.admin,
            &format!("/api/admin/users/{}/deactivate", p.user_id),
            None,
        )
        .await;
    expect_json(res, StatusCode::OK).await;
    let after = p.validate_on(&p.b, &token).await;
    assert_eq!(after["valid"], false);
    assert_eq!(after["reason"], "user_inactive");
}

/// Guessing a password over two instances is one count: the delay earned
/// on one holds on the other.
#[tokio::test]
async fn sign_in_failures_are_counted_across_instances() {
    let p = pair().await;
    for on in [&p.a, &p.b, &p.a] {
        let res = on
            .post(
                "/api/mobile/login",
                &json!({"username": "john", "password": "a wrong guess"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res =
        p.b.post(
            "/api/mobile/login",
            &json!({"username": "john", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "1");
    // Once the second has passed, the right password works on either.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res =
        p.a.post(
            "/api/mobile/login",
            &json!({"username": "john", "password": "correct horse battery"}),
        )
        .await;
    expect_json(res, StatusCode::OK).await;
}

/// Signs in as the admin, trying again while the sign-in throttle's
/// per-account bookkeeping is contended by the other sign-ins (429).
async fn admin_sign_in(on: &Api) -> String {
    for _ in 0..100 {
        let res = on
            .post(
                "/api/admin/login",
                &json!({"username": "admin", "password": ADMIN_PASSWORD}),
            )
            .await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        }
        return text(&expect_json(res, StatusCode::OK).await, "access_token");
    }
    panic!("admin sign-in stayed contended");
}

/// Sign-ins racing on two instances never leave more live tokens than
/// `ADMIN_TOKENS_MAX`: each sign-in stores its token and ends the oldest in
/// one transaction that first locks the admin's row.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_admin_token_cap_holds_for_sign_ins_racing_on_two_instances() {
    required_env("TEST_DATABASE_URL");
    let db = TestDb::fresh().await;
    let env = [
        ("ADMIN_TOKENS_MAX", "3"),
        ("RATE_SIGNIN_PER_MIN", "6000"),
        ("RATE_SIGNIN_BURST", "1000"),
    ];
    let (a, b) = tokio::join!(
        Instance::start_with(&db.url, &env),
        Instance::start_with(&db.url, &env)
    );
    let mut sign_ins = JoinSet::new();
    for i in 0..16 {
        let api = Api::new(if i % 2 == 0 {
            a.base.clone()
        } else {
            b.base.clone()
        });
        sign_ins.spawn(async move { admin_sign_in(&api).await });
    }
    let tokens = sign_ins.join_all().await;
    let mut live = 0;
    for token in &tokens {
        for on in [&a, &b] {
            let status = on.admin_get(token, "/api/admin/pending").await.status();
            assert!(
                status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
                "{status}"
            );
            if on.base == a.base && status == StatusCode::OK {
                live += 1;
            }
        }
    }
    assert_eq!(live, 3, "live tokens after 16 racing sign-ins");
}

/// A token revoked on one instance is refused by the other at once: the
/// revocation is the row's deletion, and every instance reads admin tokens
/// from the database.
#[tokio::test]
async fn an_admin_token_revoked_on_one_instance_is_refused_by_the_other() {
    let p = pair().await;
    let victim = admin_sign_in(&p.b).await;
    let body = expect_json(
        p.a.admin_get(&p.admin, "/api/admin/tokens").await,
        StatusCode::OK,
    )
    .await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{body}");
    let id = items.iter().find(|t| t["current"] == false).unwrap()["token_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        p.b.admin_get(&victim, "/api/admin/pending").await.status(),
        StatusCode::OK
    );
    let res =
        p.a.client
            .delete(p.a.url(&format!("/api/admin/tokens/{id}")))
            .bearer_auth(&p.admin)
            .send()
            .await
            .unwrap();
    expect_json(res, StatusCode::OK).await;
    assert_eq!(
        p.b.admin_get(&victim, "/api/admin/pending").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The RSA key is made on first need, not at start: two processes asked
/// for the JWKS at the same moment make one key between them and both
/// publish it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_asked_for_the_jwks_at_once_publish_one_rsa_key() {
    required_env("TEST_DATABASE_URL");
    let db = TestDb::fresh().await;
    let (a, b) = tokio::join!(Instance::start(&db.url), Instance::start(&db.url));
    let rsa_kids = |set: Value| -> Vec<String> {
        set["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["kty"] == "RSA")
            .map(|k| text(k, "kid"))
            .collect()
    };
    let (on_a, on_b) = tokio::join!(
        a.get("/.well-known/jwks.json"),
        b.get("/.well-known/jwks.json")
    );
    let (on_a, on_b) = (
        rsa_kids(expect_json(on_a, StatusCode::OK).await),
        rsa_kids(expect_json(on_b, StatusCode::OK).await),
    );
    assert_eq!(on_a.len(), 1, "{on_a:?}");
    assert_eq!(on_a, on_b, "both publish the same RSA key");
}
