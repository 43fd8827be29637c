//! Request rates (issue 13): per address on register, scan, deny, verify
//! and status polling, per service on generate; 429 `rate_limited` with a
//! whole-second `Retry-After`, recovery, and `--rate-limits off`.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Options, TestApp, assert_problem};

async fn spawn(args: &[&str]) -> TestApp {
    TestApp::spawn_with(Options {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        ..Default::default()
    })
    .await
}

fn retry_after(res: &Response) -> u64 {
    res.headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn assert_limited(res: Response) -> u64 {
    let secs = retry_after(&res);
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    secs
}

fn device_body() -> Value {
    json!({"qr_token": "no-such-token", "auth_key": "no-such-key"})
}

#[tokio::test]
async fn status_polling_past_its_rate_is_429_with_retry_after_and_recovers() {
    // 60 a minute: one more request every second, after a burst of 3.
    let app = spawn(&["--rate-status-per-min", "60", "--rate-status-burst", "3"]).await;
    let body = json!({"qr_token": "no-such-token"});
    for _ in 0..3 {
        let res = app.post("/api/auth/qr/status", &body).await;
        assert_problem(res, StatusCode::NOT_FOUND, "qr_not_found").await;
    }
    let res = app.post("/api/auth/qr/status", &body).await;
    assert_eq!(assert_limited(res).await, 1);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res = app.post("/api/auth/qr/status", &body).await;
    assert_problem(res, StatusCode::NOT_FOUND, "qr_not_found").await;
}

#[tokio::test]
async fn register_scan_deny_and_verify_each_refuse_past_their_own_rate() {
    let app = spawn(&[
        "--rate-register-per-min",
        "1",
        "--rate-register-burst",
        "2",
        "--rate-scan-per-min",
        "2",
        "--rate-scan-burst",
        "2",
        "--rate-deny-per-min",
        "3",
        "--rate-deny-burst",
        "2",
        "--rate-verify-per-min",
        "4",
        "--rate-verify-burst",
        "2",
    ])
    .await;
    let cases = [
        ("/api/register", json!({}), 60),
        ("/api/auth/qr/scan", device_body(), 30),
        ("/api/auth/qr/deny", device_body(), 20),
        (
            "/api/auth/pin/verify",
            json!({"qr_token": "no-such-token", "pin": "123456"}),
            15,
        ),
    ];
    for (path, body, period) in cases {
        for _ in 0..2 {
            let res = app.post(path, &body).await;
            assert_ne!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
        }
        let secs = assert_limited(app.post(path, &body).await).await;
        // Retry-After is the wait for one replenished request, in whole seconds.
        assert!(
            secs <= period && secs >= period - 1,
            "{path}: Retry-After {secs}, period {period}"
        );
    }
    // A route without a limit of its own is not affected.
    let res = app
        .post("/api/auth/qr/status", &json!({"qr_token": "x"}))
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "qr_not_found").await;
}

#[tokio::test]
async fn generate_is_limited_per_authenticated_service() {
    let app = spawn(&[
        "--rate-generate-per-min",
        "60",
        "--rate-generate-burst",
        "2",
    ])
    .await;
    let token = app.admin_token().await;
    let (id_a, key_a) = app.service(&token, "ServiceA").await;
    let (id_b, key_b) = app.service(&token, "ServiceB").await;
    let generate = |id: &str, key: &str| json!({"service_id": id, "api_key": key});
    // Wrong keys under A's id do not spend A's budget.
    for _ in 0..5 {
        let res = app
            .post("/api/auth/qr/generate", &generate(&id_a, "cas_wrong"))
            .await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_api_key").await;
    }
    for _ in 0..2 {
        let res = app
            .post("/api/auth/qr/generate", &generate(&id_a, &key_a))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .post("/api/auth/qr/generate", &generate(&id_a, &key_a))
        .await;
    assert_eq!(assert_limited(res).await, 1);
    // Another service has its own budget.
    let res = app
        .post("/api/auth/qr/generate", &generate(&id_b, &key_b))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let res = app
        .post("/api/auth/qr/generate", &generate(&id_a, &key_a))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn rate_limits_off_disables_every_rate() {
    let app = spawn(&[
        "--rate-limits",
        "off",
        "--rate-status-per-min",
        "1",
        "--rate-status-burst",
        "1",
        "--rate-register-per-min",
        "1",
        "--rate-register-burst",
        "1",
        "--rate-generate-per-min",
        "1",
        "--rate-generate-burst",
        "1",
    ])
    .await;
    for _ in 0..10 {
        let res = app
            .post("/api/auth/qr/status", &json!({"qr_token": "x"}))
            .await;
        assert_problem(res, StatusCode::NOT_FOUND, "qr_not_found").await;
        let res = app.post("/api/register", &json!({})).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    app.register("alice").await;
    let token = app.admin_token().await;
    let (id, key) = app.service(&token, "ServiceA").await;
    for _ in 0..5 {
        let res = app
            .post(
                "/api/auth/qr/generate",
                &json!({"service_id": id, "api_key": key}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
}
