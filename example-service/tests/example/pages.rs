//! What every page promises regardless of the login: the headers, the
//! logged-out home page, the site's own script.

use reqwest::StatusCode;

use crate::harness::World;

#[tokio::test]
async fn every_page_sends_the_strict_content_security_policy() {
    let world = World::start().await;
    for path in [
        "/",
        "/login",
        "/login/status",
        "/static/login.js",
        "/nowhere",
    ] {
        let res = world.browser.get_raw(path).await;
        assert_eq!(
            res.headers()["content-security-policy"],
            example_service::web::CSP,
            "{path}"
        );
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    }
    assert_eq!(
        example_service::web::CSP,
        "default-src 'self'; img-src 'self' data:"
    );
}

#[tokio::test]
async fn home_without_a_session_offers_the_login_button() {
    let world = World::start().await;
    let home = world.browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.html
            .contains(r#"<p id="logged-out">You are logged out.</p>"#)
    );
    assert!(home.html.contains(
        r#"<a id="login-link" class="button" href="/login">Log in with Central Auth</a>"#
    ));
    assert!(!home.html.contains("session-ended"));
}

#[tokio::test]
async fn no_page_has_an_inline_script() {
    let world = World::start().await;
    for path in ["/", "/login"] {
        let html = world.browser.get(path).await.html;
        for (i, _) in html.match_indices("<script") {
            let tag = &html[i..i + html[i..].find('>').unwrap()];
            assert!(tag.contains(" src=\"/static/"), "{path}: {tag}");
        }
        assert!(!html.contains(" style=\""), "{path}");
        assert!(!html.contains(" onclick="), "{path}");
    }
    let js = world.browser.get_raw("/static/login.js").await;
    assert_eq!(js.status(), StatusCode::OK);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(js.text().await.unwrap().contains("dataset.poll"));
}

#[tokio::test]
async fn unknown_paths_get_a_friendly_404_page() {
    let world = World::start().await;
    let page = world.browser.get("/admin").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.html.contains("Page not found"));
}
