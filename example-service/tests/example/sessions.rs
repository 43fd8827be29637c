//! The session after the login: its cookie, its validation on every page
//! load, logout, and its end at Central Auth.

use jiff::SignedDuration;
use reqwest::StatusCode;

use crate::harness::{World, set_cookies};

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let world = World::start().await;
    let john = world.person("john").await;
    let login = world.browser.get("/login").await;
    let pin = world.pin(&login.html, &john).await;
    let csrf = crate::harness::csrf_of(&login.html);
    let res = world
        .browser
        .post_form_raw("/login/pin", &[("csrf", &csrf), ("pin", &pin)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/");
    let cookies = set_cookies(&res);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("sb_session="))
        .unwrap_or_else(|| panic!("no session cookie in {cookies:?}"));
    assert!(session.contains("; HttpOnly"), "{session}");
    assert!(session.contains("; SameSite=Lax"), "{session}");
    // The site is served over plain http here, so not `Secure`.
    assert!(!session.contains("Secure"), "{session}");
}

#[tokio::test]
async fn every_page_load_validates_and_stores_the_renewed_token() {
    let world = World::start().await;
    let john = world.person("john").await;
    world.log_in(&john).await;
    world.clock.advance(SignedDuration::from_mins(20));
    let res = world.browser.get_raw("/").await;
    assert_eq!(res.status(), StatusCode::OK);
    let renewed = set_cookies(&res)
        .into_iter()
        .find(|c| c.starts_with("sb_session="))
        .expect("the renewed token is stored");
    assert!(res.text().await.unwrap().contains("Welcome, John Smith"));
    // 20 more minutes: 40 after the login, but only 20 after the renewal.
    world.clock.advance(SignedDuration::from_mins(20));
    let home = world.browser.get("/").await;
    assert!(home.html.contains("Welcome, John Smith"), "{}", home.html);
    assert!(renewed.contains("; HttpOnly"));
}

#[tokio::test]
async fn an_idle_session_ends_and_the_page_says_why() {
    let world = World::start().await;
    let john = world.person("john").await;
    world.log_in(&john).await;
    world.clock.advance(SignedDuration::from_mins(31));
    let home = world.browser.get("/").await;
    assert!(
        home.html
            .contains(r#"<p id="logged-out">You are logged out.</p>"#)
    );
    assert!(
        home.html.contains(r#"data-reason="expired""#),
        "{}",
        home.html
    );
    assert_eq!(world.browser.cookie("sb_session"), None);
}

#[tokio::test]
async fn logout_ends_the_session_at_central_auth() {
    let world = World::start().await;
    let john = world.person("john").await;
    let home = world.log_in(&john).await;
    let token = world.browser.cookie("sb_session").expect("session cookie");
    assert_eq!(world.validate(&token).await["valid"], true);

    let after = world.browser.log_out(&home).await;
    assert_eq!(after.path, "/");
    assert!(
        after
            .html
            .contains(r#"<p id="logged-out">You are logged out.</p>"#),
        "{}",
        after.html
    );
    assert!(after.html.contains(r#"<a id="login-link""#));
    assert_eq!(world.browser.cookie("sb_session"), None);
    let verdict = world.validate(&token).await;
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["reason"], "logged_out");
}

#[tokio::test]
async fn logout_needs_the_visitors_csrf_token() {
    let world = World::start().await;
    let john = world.person("john").await;
    world.log_in(&john).await;
    let page = world
        .browser
        .post_form("/logout", &[("csrf", "forged")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let token = world.browser.cookie("sb_session").expect("still logged in");
    assert_eq!(world.validate(&token).await["valid"], true);
}

#[tokio::test]
async fn a_deactivated_users_session_shows_logged_out() {
    let world = World::start().await;
    let john = world.person("john").await;
    world.log_in(&john).await;
    world
        .admin_post(&format!("/api/admin/users/{}/deactivate", john.user_id))
        .await;
    let home = world.browser.get("/").await;
    assert!(
        home.html
            .contains(r#"<p id="logged-out">You are logged out.</p>"#)
    );
    assert!(
        home.html.contains(r#"data-reason="user_inactive""#),
        "{}",
        home.html
    );
    assert!(home.html.contains("your account was deactivated"));
    assert!(!home.html.contains("Welcome"));
    assert_eq!(world.browser.cookie("sb_session"), None);
}

#[tokio::test]
async fn a_forged_session_cookie_is_cleared() {
    let world = World::start().await;
    world.browser.set_cookie("sb_session", "not.a.jwt");
    let home = world.browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.html.contains(r#"data-reason="invalid""#),
        "{}",
        home.html
    );
    assert_eq!(world.browser.cookie("sb_session"), None);
}

#[tokio::test]
async fn a_logged_in_visitor_opening_login_goes_home() {
    let world = World::start().await;
    let john = world.person("john").await;
    world.log_in(&john).await;
    let page = world.browser.get("/login").await;
    assert_eq!(page.path, "/");
    assert!(page.html.contains("Welcome, John Smith"));
}
