//! CORS (`CORS_ALLOWED_ORIGINS`): the public routes answer a page of a listed
//! origin with CORS headers, and nobody else; admin routes, the console, the
//! phone's routes and `qr/generate` never do.

use reqwest::{Method, Response, StatusCode};

use crate::harness::{Options, TestApp, TestDb, cli};

const ALLOWED: &str = "http://serviceb.example:3000";
const OTHER: &str = "https://evil.example";

async fn app_allowing(origins: &str) -> TestApp {
    TestApp::spawn_with(Options {
        args: vec!["--cors-allowed-origins".into(), origins.into()],
        ..Options::default()
    })
    .await
}

/// The browser's preflight before a JSON `POST` (or a `GET`) from `origin`.
async fn preflight(app: &TestApp, path: &str, method: &str, origin: &str) -> Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap()
}

fn allow_origin(res: &Response) -> Option<&str> {
    res.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_gets_the_cors_headers() {
    let app = app_allowing(&format!("https://a.example, {ALLOWED}")).await;
    for path in [
        "/api/register",
        "/api/auth/qr/status",
        "/api/auth/pin/verify",
        "/api/auth/validate-session",
        "/api/auth/logout",
    ] {
        let res = preflight(&app, path, "POST", ALLOWED).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(allow_origin(&res), Some(ALLOWED), "{path}");
        let methods = res.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap();
        assert!(methods.contains("POST"), "{methods}");
        let headers = res.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap();
        assert!(headers.contains("content-type"), "{headers}");
        assert!(
            res.headers()
                .get("access-control-allow-credentials")
                .is_none(),
            "no credentials mode"
        );
    }
    let res = preflight(&app, "/api/system/status", "GET", "https://a.example").await;
    assert_eq!(allow_origin(&res), Some("https://a.example"));
}

#[tokio::test]
async fn the_answer_itself_carries_the_origin_and_exposes_retry_after() {
    let app = app_allowing(ALLOWED).await;
    let res = app
        .client
        .get(app.url("/api/system/status"))
        .header("origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(allow_origin(&res), Some(ALLOWED));
    let vary = res.headers()["vary"].to_str().unwrap().to_ascii_lowercase();
    assert!(vary.contains("origin"), "caches keep origins apart: {vary}");
    let res = app
        .client
        .post(app.url("/api/register"))
        .header("origin", ALLOWED)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(allow_origin(&res), Some(ALLOWED), "errors are readable too");
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(exposed.contains("retry-after"), "{exposed}");
}

#[tokio::test]
async fn a_preflight_from_a_refused_origin_gets_no_cors_headers() {
    let app = app_allowing(ALLOWED).await;
    for origin in [
        OTHER,
        "http://serviceb.example",
        "http://serviceb.example:3001",
    ] {
        let res = preflight(&app, "/api/register", "POST", origin).await;
        assert_eq!(allow_origin(&res), None, "{origin}");
    }
    let res = app
        .client
        .get(app.url("/api/system/status"))
        .header("origin", OTHER)
        .send()
        .await
        .unwrap();
    assert_eq!(allow_origin(&res), None);
}

#[tokio::test]
async fn admin_console_mobile_and_generate_routes_never_answer_cross_origin() {
    let app = app_allowing(ALLOWED).await;
    for (path, method) in [
        ("/api/admin/login", "POST"),
        ("/api/admin/pending", "GET"),
        ("/api/services/register", "POST"),
        ("/api/mobile/login", "POST"),
        ("/api/auth/qr/scan", "POST"),
        ("/api/auth/qr/deny", "POST"),
        ("/api/auth/qr/generate", "POST"),
        ("/console", "GET"),
        ("/metrics", "GET"),
    ] {
        let res = preflight(&app, path, method, ALLOWED).await;
        assert_eq!(allow_origin(&res), None, "{path}");
        assert!(
            res.headers().get("access-control-allow-methods").is_none(),
            "{path}"
        );
    }
    let token = app.admin_token().await;
    let res = app
        .client
        .get(app.url("/api/admin/pending"))
        .bearer_auth(&token)
        .header("origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(allow_origin(&res), None);
}

#[tokio::test]
async fn by_default_no_origin_gets_cors_headers() {
    let app = TestApp::spawn().await;
    let res = preflight(&app, "/api/register", "POST", ALLOWED).await;
    assert_eq!(allow_origin(&res), None);
    let res = app
        .client
        .get(app.url("/api/system/status"))
        .header("origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(allow_origin(&res), None);
}

#[tokio::test]
async fn a_wildcard_origin_is_refused_at_start() {
    let db = TestDb::fresh().await;
    let out = cli(&db, &["serve", "--bind", "127.0.0.1:0"])
        .env("CORS_ALLOWED_ORIGINS", "*")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("wildcards are not allowed in CORS_ALLOWED_ORIGINS"),
        "{stderr}"
    );
}
