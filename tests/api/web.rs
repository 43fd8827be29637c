//! The pages and assets the binary serves: the app's module graph is whole
//! in its offline shell, and code is revalidated on every use so a page
//! never runs against the scripts of another version.

use std::collections::{BTreeSet, VecDeque};

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};

use crate::harness::TestApp;

/// The quoted strings of `from "…"` imports in a module's text.
fn imports(module: &str) -> Vec<String> {
    module
        .lines()
        .filter_map(|line| line.split_once(" from \""))
        .filter_map(|(_, rest)| rest.split_once('"').map(|(spec, _)| spec.to_owned()))
        .collect()
}

/// Resolves `./x.js` against the folder of `base` (`/assets/js/app.js`).
fn resolve(base: &str, spec: &str) -> String {
    let folder = base.rsplit_once('/').map_or("", |(folder, _)| folder);
    let rest = spec.strip_prefix("./").unwrap_or(spec);
    format!("{folder}/{rest}")
}

async fn text_of(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

/// Every module `app.js` reaches is served, cached by the service worker
/// for offline starts, and preloaded by the page.
#[tokio::test]
async fn every_module_of_the_app_is_in_its_offline_shell_and_preloaded() {
    let app = TestApp::spawn().await;
    let worker = text_of(&app, "/app/sw.js").await;
    let page = text_of(&app, "/app").await;
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from(["/assets/js/app.js".to_owned()]);
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let res = app.get(&path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let content_type = res.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
        assert!(
            content_type.starts_with("text/javascript"),
            "{path}: {content_type}"
        );
        let module = res.text().await.unwrap();
        queue.extend(imports(&module).iter().map(|spec| resolve(&path, spec)));
    }
    assert!(seen.len() > 1, "app.js imports no module: {seen:?}");
    for path in &seen {
        assert!(
            worker.contains(&format!("\"{path}\"")),
            "{path} is not in sw.js's SHELL"
        );
        if path != "/assets/js/app.js" {
            assert!(
                page.contains(&format!(r#"<link rel="modulepreload" href="{path}">"#)),
                "{path} is not preloaded by /app"
            );
        }
    }
}

/// Scripts and pages are asked for again on every use; an unchanged one
/// costs a 304 thanks to its ETag. Pictures may be kept for an hour.
#[tokio::test]
async fn code_is_revalidated_and_an_unchanged_file_is_a_304() {
    let app = TestApp::spawn().await;
    for path in ["/app", "/assets/js/app.js", "/assets/css/site.css"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()[CACHE_CONTROL], "no-cache", "{path}");
        let etag = res.headers()[ETAG].to_str().unwrap().to_owned();
        let again = app
            .client
            .get(app.url(path))
            .header(IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert!(again.bytes().await.unwrap().is_empty());
        let other = app
            .client
            .get(app.url(path))
            .header(IF_NONE_MATCH, "\"something else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), StatusCode::OK, "{path}");
    }
    let icon = app.get("/assets/img/icon-192.png").await;
    assert_eq!(icon.headers()[CACHE_CONTROL], "public, max-age=3600");
}
