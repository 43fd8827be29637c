//! Central Auth down or failing: a friendly page, never a crash.

use axum::Router;
use axum::http::StatusCode as AxumStatus;
use reqwest::StatusCode;
use tokio::net::TcpListener;

use crate::harness::{Browser, closed_port, start_site};

#[tokio::test]
async fn an_unreachable_central_auth_gets_a_friendly_page() {
    let nowhere = format!("http://{}", closed_port().await);
    let site = start_site(&nowhere, "svc", "cas_key").await;
    let browser = Browser::new(&site);

    let login = browser.get("/login").await;
    assert_eq!(login.status, StatusCode::BAD_GATEWAY);
    assert!(
        login.html.contains("Central Auth is not reachable"),
        "{}",
        login.html
    );

    browser.set_cookie("sb_session", "some.session.token");
    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::BAD_GATEWAY);
    assert!(home.html.contains(r#"<a id="home-link" href="/">"#));
    // Not known to be invalid, so kept for when Central Auth is back.
    assert_eq!(
        browser.cookie("sb_session").as_deref(),
        Some("some.session.token")
    );
}

#[tokio::test]
async fn a_failing_central_auth_gets_a_friendly_page() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let broken = Router::new().fallback(|| async {
        (
            AxumStatus::INTERNAL_SERVER_ERROR,
            [("content-type", "application/problem+json")],
            r#"{"type":"about:blank","title":"Internal error","status":500,"detail":"boom","code":"internal_error"}"#,
        )
    });
    tokio::spawn(async move { axum::serve(listener, broken).await });
    let site = start_site(&format!("http://{addr}"), "svc", "cas_key").await;
    let browser = Browser::new(&site);
    let login = browser.get("/login").await;
    assert_eq!(login.status, StatusCode::BAD_GATEWAY);
    assert!(
        login.html.contains("try again in a minute"),
        "{}",
        login.html
    );
}

#[tokio::test]
async fn wrong_credentials_say_the_site_is_not_set_up() {
    let world = crate::harness::World::start().await;
    let site = start_site(&world.central, &world.service_id, "cas_wrong").await;
    let browser = Browser::new(&site);
    let login = browser.get("/login").await;
    assert_eq!(login.status, StatusCode::BAD_GATEWAY);
    assert!(
        login.html.contains("not set up correctly"),
        "{}",
        login.html
    );
}
