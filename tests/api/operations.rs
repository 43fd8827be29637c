//! Operations: health, readiness, Prometheus metrics, the OpenAPI document
//! and the offline API docs.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::harness::{TestApp, expect_json};

/// Every API route of this issue, as (method, OpenAPI path). The document
/// itself and the docs page are served beside the API, not described in it.
const ROUTES: [(&str, &str); 20] = [
    ("post", "/api/register"),
    ("post", "/api/admin/login"),
    ("get", "/api/admin/pending"),
    ("post", "/api/admin/approve/{user_id}"),
    ("post", "/api/admin/reject/{user_id}"),
    ("get", "/api/admin/users"),
    ("post", "/api/admin/users/{user_id}/deactivate"),
    ("post", "/api/admin/users/{user_id}/activate"),
    ("post", "/api/services/register"),
    ("get", "/api/services"),
    ("post", "/api/services/{service_id}/deactivate"),
    ("post", "/api/services/{service_id}/activate"),
    ("post", "/api/services/{service_id}/rotate-key"),
    ("post", "/api/mobile/login"),
    ("get", "/api/system/status"),
    ("get", "/api/admin/schedule"),
    ("put", "/api/admin/schedule"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
];

async fn text_of(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    res.text().await.unwrap()
}

async fn metrics(app: &TestApp) -> String {
    text_of(app, "/metrics").await
}

/// The values of `attr="..."` (or single-quoted) attributes in `html`.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let mut values = Vec::new();
    for quote in ['"', '\''] {
        let needle = format!("{attr}={quote}");
        for (at, _) in html.match_indices(&needle) {
            let preceded_by_name_char = html[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
            if preceded_by_name_char {
                continue;
            }
            let rest = &html[at + needle.len()..];
            values.push(&rest[..rest.find(quote).unwrap()]);
        }
    }
    values
}

fn is_external(url: &str) -> bool {
    let url = url.trim().to_ascii_lowercase();
    url.starts_with("http://") || url.starts_with("https://") || url.starts_with("//")
}

/// GET /docs (following its redirect): the final URL and the page.
async fn docs_page(app: &TestApp) -> (reqwest::Url, String) {
    let res = app.get("/docs").await;
    assert_eq!(res.status(), StatusCode::OK);
    let url = res.url().clone();
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    (url, res.text().await.unwrap())
}

#[tokio::test]
async fn healthz_is_200() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn readyz_is_200_when_the_database_answers() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let app = TestApp::spawn().await;
    app.get("/healthz").await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = res.text().await.unwrap();
    assert!(
        text.contains("# TYPE http_requests_total counter"),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let app = TestApp::spawn().await;
    app.register("john").await;
    let text = metrics(&app).await;
    let line = text
        .lines()
        .find(|l| l.starts_with("http_requests_total{") && l.contains(r#"route="/api/register""#))
        .unwrap_or_else(|| panic!("no request counter for /api/register in:\n{text}"));
    assert!(line.contains(r#"method="POST""#), "{line}");
    assert!(line.contains(r#"status="201""#), "{line}");
    assert!(line.ends_with(" 1"), "{line}");
}

#[tokio::test]
async fn metrics_have_a_latency_histogram() {
    let app = TestApp::spawn().await;
    app.register("john").await;
    let text = metrics(&app).await;
    let buckets: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("http_request_duration_seconds_bucket{"))
        .filter(|l| l.contains(r#"route="/api/register""#))
        .collect();
    assert!(
        buckets.len() > 1,
        "no latency buckets for /api/register in:\n{text}"
    );
    assert!(
        buckets.iter().any(|l| l.contains(r#"le="+Inf""#)),
        "{buckets:?}"
    );
    assert!(
        text.contains("http_request_duration_seconds_count{"),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_label_the_route_template_not_the_id() {
    let app = TestApp::spawn().await;
    let token = app.admin_token().await;
    let id = app.active_user(&token, "john").await;
    let text = metrics(&app).await;
    assert!(
        text.contains(r#"route="/api/admin/approve/{user_id}""#),
        "{text}"
    );
    assert!(
        !text.contains(&id),
        "a user id leaked into the metrics:\n{text}"
    );
}

#[tokio::test]
async fn openapi_document_is_openapi_3_1() {
    let app = TestApp::spawn().await;
    let doc = expect_json(app.get("/openapi.json").await, StatusCode::OK).await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1"), "openapi = {version}");
    assert!(doc["info"]["title"].is_string(), "{}", doc["info"]);
}

#[tokio::test]
async fn openapi_document_lists_every_route_with_its_method() {
    let app = TestApp::spawn().await;
    let doc = expect_json(app.get("/openapi.json").await, StatusCode::OK).await;
    let paths = &doc["paths"];
    let missing: Vec<String> = ROUTES
        .iter()
        .filter(|(method, path)| paths[*path][*method] == Value::Null)
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(missing.is_empty(), "not in /openapi.json: {missing:?}");
}

#[tokio::test]
async fn openapi_document_lists_no_route_the_server_lacks() {
    let app = TestApp::spawn().await;
    let doc = expect_json(app.get("/openapi.json").await, StatusCode::OK).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path.replace(['{', '}'], "");
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
        ] {
            if !item[method.as_str().to_lowercase()].is_object() {
                continue;
            }
            let res = app
                .client
                .request(method.clone(), app.url(&concrete))
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body = res.text().await.unwrap();
            // A documented route may refuse the empty request, but must exist.
            let unrouted = status == StatusCode::METHOD_NOT_ALLOWED
                || (status == StatusCode::NOT_FOUND && body.contains(r#""code":"not_found""#));
            assert!(
                !unrouted,
                "{method} {path} is documented but answers {status}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn docs_redirect_to_an_html_page() {
    let app = TestApp::spawn().await;
    let (url, html) = docs_page(&app).await;
    assert_eq!(url.path(), "/docs/");
    assert!(html.to_ascii_lowercase().contains("<html"), "{html}");
}

#[tokio::test]
async fn docs_page_loads_only_local_scripts_and_stylesheets() {
    let app = TestApp::spawn().await;
    let (url, html) = docs_page(&app).await;
    let mut references = attribute_values(&html, "src");
    references.extend(attribute_values(&html, "href"));
    assert!(!references.is_empty(), "no assets found in:\n{html}");
    let external: Vec<&&str> = references.iter().filter(|r| is_external(r)).collect();
    assert!(external.is_empty(), "external assets: {external:?}");
    for reference in references {
        let asset = url.join(reference).unwrap();
        let res = app.client.get(asset.clone()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
    }
}

#[tokio::test]
async fn docs_initializer_points_at_openapi_json_and_nothing_external() {
    let app = TestApp::spawn().await;
    let (url, html) = docs_page(&app).await;
    let initializer = attribute_values(&html, "src")
        .into_iter()
        .find(|s| s.contains("swagger-initializer.js"))
        .unwrap_or_else(|| panic!("no swagger-initializer.js in:\n{html}"));
    let script = app
        .client
        .get(url.join(initializer).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    let script = script.text().await.unwrap();
    assert!(script.contains("/openapi.json"), "{script}");
    assert!(!script.contains("http://"), "{script}");
    assert!(!script.contains("https://"), "{script}");
}
