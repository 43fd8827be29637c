//! Operations: health, readiness, Prometheus metrics, the OpenAPI document
//! and the offline API docs.

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{Options, TestApp, expect_json};
use crate::openapi;

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

/// Made-up HTTP methods are one `other` label, not a series each: an
/// unauthenticated client must not be able to grow `/metrics` (and the
/// server's memory) without bound.
#[tokio::test]
async fn metrics_put_made_up_methods_under_one_label() {
    let app = TestApp::spawn().await;
    for n in 0..50 {
        let method = reqwest::Method::from_bytes(format!("BOGUS{n}").as_bytes()).unwrap();
        app.client
            .request(method, app.url("/healthz"))
            .send()
            .await
            .unwrap();
    }
    let text = metrics(&app).await;
    assert!(
        !text.contains("BOGUS"),
        "a made-up method became a label:\n{text}"
    );
    let others = text
        .lines()
        .filter(|l| l.starts_with("http_requests_total{") && l.contains(r#"method="other""#))
        .count();
    assert_eq!(others, 1, "{text}");
}

#[tokio::test]
async fn openapi_document_is_openapi_3_1() {
    let app = TestApp::spawn().await;
    let doc = expect_json(app.get("/openapi.json").await, StatusCode::OK).await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1"), "openapi = {version}");
    assert!(doc["info"]["title"].is_string(), "{}", doc["info"]);
}

/// Every operation the document lists is served, and guarded as documented:
/// a client that follows the document never meets a 404 or 405, and learns
/// from `security` which routes want the admin token. Each is called without
/// a body or a token; a documented route may refuse that, but must exist, and
/// a guarded one must refuse it for the token before anything else.
#[tokio::test]
async fn every_documented_operation_is_routed_and_guarded_as_documented() {
    let app = TestApp::spawn().await;
    let doc = openapi::document(&app).await;
    let mut wrong = Vec::new();
    for op in openapi::operations(&doc) {
        let concrete = op.path.replace(['{', '}'], "");
        let res = app
            .client
            .request(op.method.clone(), app.url(&concrete))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        let code = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|b| b["code"].as_str().map(str::to_owned));
        let unrouted = status == StatusCode::METHOD_NOT_ALLOWED
            || (status == StatusCode::NOT_FOUND && code.as_deref() == Some("not_found"));
        let guarded = !op.security_schemes().is_empty();
        // A bearer-guarded OAuth endpoint refuses as RFC 6750 says.
        let oauth_refusal = serde_json::from_str::<Value>(&body)
            .ok()
            .is_some_and(|b| b["error"] == "invalid_token");
        let refused = status == StatusCode::UNAUTHORIZED
            && (code.as_deref() == Some("unauthorized") || oauth_refusal);
        let disagreement = if unrouted {
            Some("is documented but not served")
        } else if guarded && !refused {
            Some("documents a token but serves a request without one")
        } else if !guarded && refused {
            Some("documents no token but asks for one")
        } else {
            None
        };
        if let Some(disagreement) = disagreement {
            wrong.push(format!("{} {disagreement}: {status} {body}", op.name()));
        }
    }
    assert!(
        wrong.is_empty(),
        "/openapi.json and the server disagree:\n{}",
        wrong.join("\n")
    );
}

/// Every operation tells a client what it does, where it belongs and what it
/// answers: a summary, a declared tag, a unique operation id (client
/// generators name methods after it), each path parameter, a described 2xx
/// with a body, and every error as an RFC 9457 problem document, with 401
/// among them wherever a token is required.
#[tokio::test]
async fn every_documented_operation_has_a_summary_a_tag_and_its_answers() {
    let app = TestApp::spawn().await;
    let doc = openapi::document(&app).await;
    let declared = |section: &Value, name: &str| match section {
        Value::Array(tags) => tags.iter().any(|t| t["name"] == name),
        Value::Object(map) => map.contains_key(name),
        _ => false,
    };
    let problem = serde_json::json!({"$ref": "#/components/schemas/Problem"});
    let oauth_error = serde_json::json!({"$ref": "#/components/schemas/OAuthErrorBody"});
    let mut ids = std::collections::BTreeMap::<&str, Vec<String>>::new();
    let mut wrong = Vec::new();
    let operations = openapi::operations(&doc);
    for op in &operations {
        let name = op.name();
        let spec = &op.spec;
        let mut fail = |what: String| wrong.push(format!("{name}: {what}"));
        if spec["summary"].as_str().is_none_or(|s| s.trim().is_empty()) {
            fail("no summary".to_owned());
        }
        let tags = spec["tags"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if tags.is_empty() {
            fail("no tag".to_owned());
        }
        for tag in tags.iter().filter_map(Value::as_str) {
            if !declared(&doc["tags"], tag) {
                fail(format!(
                    "tag {tag:?} is not declared in the document's tags"
                ));
            }
        }
        match spec["operationId"].as_str() {
            Some(id) if !id.is_empty() => ids.entry(id).or_default().push(name.clone()),
            _ => fail("no operationId".to_owned()),
        }
        let parameters = spec["parameters"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for parameter in op.path_parameters() {
            let documented = parameters
                .iter()
                .any(|p| p["in"] == "path" && p["name"] == parameter && p["required"] == true);
            if !documented {
                fail(format!(
                    "path parameter {parameter} is not documented as required"
                ));
            }
        }
        let schemes = op.security_schemes();
        for scheme in &schemes {
            if !declared(&doc["components"]["securitySchemes"], scheme) {
                fail(format!("security scheme {scheme:?} is not declared"));
            }
        }
        let responses = spec["responses"].as_object().cloned().unwrap_or_default();
        // The OAuth endpoints speak OAuth: a browser endpoint answers with
        // a redirect (303) or a page, an API endpoint's errors are
        // `{error, error_description}` (RFC 6749 §5.2), not problems.
        let oauth = op.path.starts_with("/oauth2/");
        let successes: Vec<&String> = responses
            .keys()
            .filter(|s| s.starts_with('2') || (oauth && s.starts_with('3')))
            .collect();
        if successes.is_empty() {
            fail("no 2xx response".to_owned());
        }
        for (status, response) in &responses {
            if response["description"]
                .as_str()
                .is_none_or(|d| d.trim().is_empty())
            {
                fail(format!("{status} has no description"));
            }
            let content = response["content"].as_object().cloned().unwrap_or_default();
            // A 204 is an answer without a body by definition.
            if status.starts_with('2') && status != "204" && content.is_empty() && !oauth {
                fail(format!("{status} documents no body"));
            }
            if oauth && (status.starts_with('4') || status.starts_with('5')) {
                let page = content.contains_key("text/html");
                let error = content
                    .get("application/json")
                    .is_some_and(|c| c["schema"] == oauth_error);
                if !page && !error {
                    fail(format!("{status} is neither an OAuth error nor a page"));
                }
            } else if status.starts_with('4') || status.starts_with('5') {
                let types: Vec<&String> = content.keys().collect();
                if types != ["application/problem+json"] {
                    fail(format!(
                        "{status} is {types:?}, not application/problem+json"
                    ));
                } else if content["application/problem+json"]["schema"] != problem {
                    fail(format!("{status} is not the Problem schema"));
                }
            }
        }
        if !schemes.is_empty() && !responses.contains_key("401") {
            fail("needs a token but documents no 401".to_owned());
        }
    }
    for (id, names) in ids {
        if names.len() > 1 {
            wrong.push(format!("operationId {id} is used by {names:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "under-documented operations (of {}):\n{}",
        operations.len(),
        wrong.join("\n")
    );
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

/// Where the reviewed OpenAPI document is committed.
fn snapshot_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/snapshots/openapi.json")
}

/// The served document is the committed one, so no change to the contract
/// (a route, a field, a status, a description) reaches clients unreviewed.
/// `UPDATE_SNAPSHOTS=1` writes the served document instead, to commit.
#[tokio::test]
async fn openapi_snapshot_is_the_served_document() {
    let app = TestApp::spawn().await;
    let served = openapi::document(&app).await;
    let text = openapi::snapshot_text(&served);
    let path = snapshot_path();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        eprintln!("wrote {}", path.display());
        return;
    }
    let accept = "If the change is intended, review it, then accept it with\n    \
        UPDATE_SNAPSHOTS=1 cargo test -p central-auth --test api openapi_snapshot\n\
        and commit tests/api/snapshots/openapi.json.";
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no OpenAPI snapshot at {} ({e}).\n{accept}", path.display()));
    if committed == text {
        return;
    }
    let changes = match serde_json::from_str::<Value>(&committed) {
        Ok(old) => {
            let changes = openapi::changes(&old, &served);
            if changes.is_empty() {
                "  (same document, different text: formatting or key order)".to_owned()
            } else {
                changes
                    .iter()
                    .map(|c| format!("  {c}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }
        Err(e) => format!("  (the committed file is not JSON: {e})"),
    };
    panic!(
        "/openapi.json differs from the snapshot {} (+ added, - removed, ~ changed):\n{changes}\n{accept}",
        path.display()
    );
}

/// A taken address is a sentence a person can act on: it names the
/// address and the setting that picks another.
#[tokio::test]
async fn a_busy_address_names_itself_and_how_to_pick_another() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let refused = TestApp::try_spawn_with(Options {
        bind: Some(addr),
        ..Options::default()
    })
    .await;
    let message = format!("{:#}", refused.err().expect("the address is taken"));
    assert!(message.contains(&addr.to_string()), "{message}");
    assert!(message.contains("--bind"), "{message}");
    assert!(message.contains("BIND_ADDR"), "{message}");
}
