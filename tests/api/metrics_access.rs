//! `/metrics` may be restricted: to client addresses (`METRICS_ALLOW`, 403
//! `forbidden`) and to a bearer token (`METRICS_BEARER_TOKEN`, 401
//! `unauthorized`). Without either, anyone may read it, as before.

use reqwest::StatusCode;

use crate::harness::{Options, TestApp, assert_problem};

const TOKEN: &str = "a metrics scrape secret";

async fn app_with(args: &[&str]) -> TestApp {
    TestApp::spawn_with(Options {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        ..Options::default()
    })
    .await
}

async fn scrape(app: &TestApp, token: Option<&str>, forwarded: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(app.url("/metrics"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(forwarded) = forwarded {
        req = req.header("x-forwarded-for", forwarded);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn by_default_anyone_may_read_metrics() {
    let app = TestApp::spawn().await;
    app.get("/healthz").await;
    let res = scrape(&app, None, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("http_requests_total"));
}

#[tokio::test]
async fn an_address_outside_metrics_allow_is_403() {
    let app = app_with(&["--metrics-allow", "10.0.0.0/8,::1/128"]).await;
    assert_problem(
        scrape(&app, None, None).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let app = app_with(&["--metrics-allow", "10.0.0.0/8,127.0.0.1"]).await;
    assert_eq!(scrape(&app, None, None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_client_address_is_checked() {
    let app = app_with(&[
        "--metrics-allow",
        "10.0.0.0/8",
        "--trusted-proxies",
        "127.0.0.1/32",
    ])
    .await;
    assert_eq!(
        scrape(&app, None, Some("10.0.0.5")).await.status(),
        StatusCode::OK
    );
    let res = scrape(&app, None, Some("10.0.0.5, 203.0.113.9")).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    // The proxy itself is not in the list.
    assert_problem(
        scrape(&app, None, None).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn with_a_bearer_token_a_missing_or_wrong_one_is_401() {
    let app = app_with(&["--metrics-bearer-token", TOKEN]).await;
    let res = scrape(&app, None, None).await;
    assert_eq!(
        res.headers()["www-authenticate"].to_str().unwrap(),
        "Bearer realm=\"metrics\""
    );
    let body = assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    assert!(!body.to_string().contains(TOKEN));
    let res = scrape(&app, Some("a metrics scrape secreT"), None).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    let res = scrape(&app, Some(TOKEN), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.text().await.unwrap().contains(TOKEN));
}

#[tokio::test]
async fn a_short_token_is_refused_at_start_without_showing_it() {
    let err = TestApp::try_spawn_with(Options {
        args: vec!["--metrics-bearer-token".into(), "tiny secret".into()],
        ..Options::default()
    })
    .await
    .err()
    .expect("the server refuses to start")
    .to_string();
    assert!(err.contains("at least 16 characters"), "{err}");
    assert!(!err.contains("tiny secret"), "{err}");
}

#[tokio::test]
async fn with_both_the_address_is_checked_before_the_token() {
    let app = app_with(&[
        "--metrics-allow",
        "10.0.0.0/8",
        "--metrics-bearer-token",
        TOKEN,
    ])
    .await;
    let res = scrape(&app, Some(TOKEN), None).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let app = app_with(&[
        "--metrics-allow",
        "127.0.0.0/8",
        "--metrics-bearer-token",
        TOKEN,
    ])
    .await;
    assert_eq!(
        scrape(&app, Some(TOKEN), None).await.status(),
        StatusCode::OK
    );
    let res = scrape(&app, None, None).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
}
