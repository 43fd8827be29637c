//! Admin bearer tokens: the cap on live tokens per admin (`ADMIN_TOKENS_MAX`),
//! what is recorded for each, and listing and revoking them in the console.

use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{ADMIN_PASSWORD, Api, Options, TestApp};

/// A server with the given settings (as flags).
async fn app_with(args: &[&str]) -> TestApp {
    TestApp::spawn_with(Options {
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    })
    .await
}

/// Signs in `n` times, a second apart (so "oldest" is well defined).
async fn sign_in_times(app: &TestApp, n: usize) -> Vec<String> {
    let mut tokens = Vec::with_capacity(n);
    for _ in 0..n {
        tokens.push(app.admin_token().await);
        app.clock.advance(SignedDuration::from_secs(1));
    }
    tokens
}

async fn status_with(app: &TestApp, token: &str) -> StatusCode {
    app.admin_get(token, "/api/admin/pending").await.status()
}

#[tokio::test]
async fn signing_in_past_the_default_cap_of_ten_ends_the_two_oldest_tokens() {
    // The sign-in request rate is raised so only the token cap is tested.
    let app = app_with(&["--rate-signin-per-min", "600", "--rate-signin-burst", "100"]).await;
    let tokens = sign_in_times(&app, 12).await;
    for (i, token) in tokens.iter().enumerate() {
        let expected = if i < 2 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(status_with(&app, token).await, expected, "token {i}");
    }
}

#[tokio::test]
async fn admin_tokens_max_sets_the_cap() {
    let app = app_with(&["--admin-tokens-max", "3"]).await;
    let tokens = sign_in_times(&app, 5).await;
    let statuses = statuses_of(&app, &tokens).await;
    assert_eq!(
        statuses,
        [401, 401, 200, 200, 200].map(|s| StatusCode::from_u16(s).unwrap())
    );
}

#[tokio::test]
async fn concurrent_sign_ins_leave_exactly_the_cap_of_live_tokens() {
    let app = app_with(&[
        "--admin-tokens-max",
        "3",
        "--rate-signin-per-min",
        "6000",
        "--rate-signin-burst",
        "1000",
    ])
    .await;
    let mut sign_ins = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let api = Api::new(app.url(""));
        sign_ins.spawn(async move { sign_in_past_contention(&api).await });
    }
    let tokens: Vec<String> = sign_ins.join_all().await;
    let statuses = statuses_of(&app, &tokens).await;
    let live = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(live, 3, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED)
    );
}

#[tokio::test]
async fn without_rate_limits_there_is_no_token_cap() {
    let app = app_with(&["--rate-limits", "off", "--admin-tokens-max", "2"]).await;
    let tokens = sign_in_times(&app, 4).await;
    for token in &tokens {
        assert_eq!(status_with(&app, token).await, StatusCode::OK);
    }
}

async fn statuses_of(app: &TestApp, tokens: &[String]) -> Vec<StatusCode> {
    let mut out = Vec::with_capacity(tokens.len());
    for token in tokens {
        out.push(status_with(app, token).await);
    }
    out
}

/// Signs in, trying again when the sign-in throttle's per-account
/// bookkeeping was contended by the other concurrent sign-ins (429).
pub async fn sign_in_past_contention(api: &Api) -> String {
    for _ in 0..50 {
        let res = api
            .post(
                "/api/admin/login",
                &json!({"username": "admin", "password": ADMIN_PASSWORD}),
            )
            .await;
        match res.status() {
            StatusCode::OK => {
                let body: Value = res.json().await.unwrap();
                return body["access_token"].as_str().unwrap().to_owned();
            }
            StatusCode::TOO_MANY_REQUESTS => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            other => panic!("admin login: {other}"),
        }
    }
    panic!("admin login stayed contended");
}
