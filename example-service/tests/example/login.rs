//! Logging in: the QR page, the status line, the PIN form and what it says
//! for each answer of `pin/verify`.

use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{BROWSER_UA, World, between, csrf_of, qr_token_of, wrong_pin};

#[tokio::test]
async fn login_page_shows_a_qr_code_and_a_pin_form() {
    let world = World::start().await;
    let page = world.browser.get("/login").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.html;
    assert!(
        html.contains(r#"<img id="qr" src="data:image/png;base64,"#),
        "{html}"
    );
    assert!(html.contains(r#"alt="QR code to scan with the Central Auth app""#));
    assert!(html.contains("Scan with the Central Auth app"));
    assert!(html.contains(r#"id="status""#));
    assert!(html.contains(r#"<form id="pin-form" method="post" action="/login/pin">"#));
    assert!(html.contains(r#"<label for="pin">"#));
    assert!(html.contains(r#"<input id="pin" name="pin""#));
    assert!(html.contains(r#"<button id="pin-submit" type="submit">"#));
    assert_eq!(csrf_of(html).len(), 64);
    // The image is a real QR code that a phone can read.
    assert!(!qr_token_of(html).is_empty());
}

#[tokio::test]
async fn the_qr_token_stays_on_the_server() {
    let world = World::start().await;
    let page = world.browser.get("/login").await;
    let token = qr_token_of(&page.html);
    assert!(!page.html.contains(&token), "the token is in the page");
    let cookies = world.browser.cookie("sb_visitor").unwrap();
    assert!(!cookies.contains(&token));
}

#[tokio::test]
async fn the_phone_sees_this_service_and_the_visitors_browser() {
    let world = World::start().await;
    let john = world.person("john").await;
    let page = world.browser.get("/login").await;
    let scan = world.scan(&page.html, &john).await;
    assert_eq!(scan["service"]["name"], "ServiceB");
    assert_eq!(scan["requester"]["user_agent"], BROWSER_UA);
    assert_eq!(scan["requester"]["ip"], "127.0.0.1");
}

#[tokio::test]
async fn status_says_scanned_before_the_pin_is_entered() {
    let world = World::start().await;
    let john = world.person("john").await;
    let page = world.browser.get("/login").await;
    let before = world.browser.login_status().await;
    assert_eq!(before["status"], "pending");
    assert_eq!(before["ended"], false);
    world.scan(&page.html, &john).await;
    let after = world.browser.login_status().await;
    assert_eq!(after["status"], "scanned");
    assert_eq!(
        after["message"],
        "scanned — enter the PIN shown on your phone"
    );
    assert_eq!(after["ended"], false);
}

#[tokio::test]
async fn the_right_pin_logs_in_and_welcomes_the_person_by_name() {
    let world = World::start().await;
    let john = world.person("john").await;
    let home = world.log_in(&john).await;
    assert_eq!(home.status, StatusCode::OK);
    assert_eq!(home.path, "/");
    assert!(
        home.html
            .contains(r#"<h1 id="welcome">Welcome, John Smith</h1>"#),
        "{}",
        home.html
    );
    assert!(home.html.contains(r#"<strong id="username">john</strong>"#));
    assert!(home.html.contains(r#"<button id="logout" type="submit">"#));
    // After the login the code is used up: the status endpoint has none.
    assert_eq!(world.browser.login_status().await["status"], "none");
}

#[tokio::test]
async fn a_wrong_pin_shows_the_attempts_remaining_and_keeps_the_code() {
    let world = World::start().await;
    let john = world.person("john").await;
    let login = world.browser.get("/login").await;
    let pin = world.pin(&login.html, &john).await;
    let wrong = world.browser.submit_pin(&login, &wrong_pin(&pin)).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .html
            .contains(r#"data-code="invalid_pin">Wrong PIN — 4 attempts remaining.</p>"#),
        "{}",
        wrong.html
    );
    // The same code, ready for another try.
    assert_eq!(qr_token_of(&wrong.html), qr_token_of(&login.html));
    let home = world.browser.submit_pin(&wrong, &pin).await;
    assert!(home.html.contains("Welcome, John Smith"), "{}", home.html);
}

#[tokio::test]
async fn a_malformed_pin_is_caught_here_and_costs_no_attempt() {
    let world = World::start().await;
    let john = world.person("john").await;
    let login = world.browser.get("/login").await;
    let pin = world.pin(&login.html, &john).await;
    let page = world.browser.submit_pin(&login, "12ab").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.html
            .contains("The PIN is the 6 digits shown on your phone.")
    );
    let page = world.browser.submit_pin(&page, &wrong_pin(&pin)).await;
    assert!(page.html.contains("4 attempts remaining"), "{}", page.html);
}

#[tokio::test]
async fn five_wrong_pins_lock_the_code_and_offer_a_new_one() {
    let world = World::start().await;
    let john = world.person("john").await;
    let login = world.browser.get("/login").await;
    let pin = world.pin(&login.html, &john).await;
    let wrong = wrong_pin(&pin);
    let csrf = csrf_of(&login.html);
    let mut page = login;
    for left in (1..=4).rev() {
        page = world.browser.submit_pin(&page, &wrong).await;
        let expected = if left == 1 {
            "1 attempt remaining".to_owned()
        } else {
            format!("{left} attempts remaining")
        };
        assert!(page.html.contains(&expected), "{}", page.html);
    }
    let last = world.browser.submit_pin(&page, &wrong).await;
    assert!(last.html.contains("no attempts are left"), "{}", last.html);
    assert!(
        last.html
            .contains(r#"<a id="new-code" class="button" href="/login">"#)
    );
    assert!(!last.html.contains(r#"id="pin-form""#));
    // The right PIN is too late now; the form is gone, so post it by hand.
    let late = world
        .browser
        .post_form("/login/pin", &[("csrf", &csrf), ("pin", &pin)])
        .await;
    assert!(
        late.html.contains(r#"data-code="no_login""#),
        "{}",
        late.html
    );
}

#[tokio::test]
async fn the_locked_code_answers_too_many_attempts() {
    let world = World::start().await;
    let john = world.person("john").await;
    let login = world.browser.get("/login").await;
    let token = qr_token_of(&login.html);
    let pin = world.pin(&login.html, &john).await;
    // Someone who got hold of the token but not ServiceB's key cannot spend
    // its attempts: without credentials the PIN is not even checked.
    let stranger = world
        .api
        .post(format!("{}/api/auth/pin/verify", world.central))
        .json(&json!({"qr_token": token, "pin": wrong_pin(&pin)}))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
    // Five wrong PINs sent as ServiceB (another of its instances, say) lock
    // the code; the page then says so rather than failing.
    for _ in 0..5 {
        world
            .api
            .post(format!("{}/api/auth/pin/verify", world.central))
            .json(&json!({
                "qr_token": token,
                "pin": wrong_pin(&pin),
                "service_id": world.service_id,
                "api_key": world.api_key,
            }))
            .send()
            .await
            .unwrap();
    }
    let page = world.browser.submit_pin(&login, &pin).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        page.html.contains(r#"data-code="too_many_attempts""#),
        "{}",
        page.html
    );
    assert!(page.html.contains(r#"id="new-code""#));
    assert_eq!(world.browser.login_status().await["status"], "none");
}

#[tokio::test]
async fn an_expired_code_says_expired_and_offers_a_new_one() {
    let world = World::start().await;
    let login = world.browser.get("/login").await;
    world.clock.advance(SignedDuration::from_secs(121));
    let status = world.browser.login_status().await;
    assert_eq!(status["status"], "expired");
    assert_eq!(status["message"], "expired");
    assert_eq!(status["offer_new_code"], true);
    assert_eq!(status["ended"], true);
    let page = world.browser.submit_pin(&login, "123456").await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(
        page.html.contains(r#"data-code="qr_expired""#),
        "{}",
        page.html
    );
    assert!(page.html.contains(r#"id="new-code""#));
}

#[tokio::test]
async fn a_denied_login_says_denied() {
    let world = World::start().await;
    let john = world.person("john").await;
    let login = world.browser.get("/login").await;
    let res = world
        .api
        .post(format!("{}/api/auth/qr/deny", world.central))
        .json(&json!({"qr_token": qr_token_of(&login.html), "auth_key": john.auth_key}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let status = world.browser.login_status().await;
    assert_eq!(status["status"], "denied");
    assert_eq!(status["message"], "denied");
    let page = world.browser.submit_pin(&login, "123456").await;
    assert!(
        page.html.contains(r#"data-code="qr_denied""#),
        "{}",
        page.html
    );
}

#[tokio::test]
async fn a_pin_form_without_the_visitors_csrf_token_is_refused() {
    let world = World::start().await;
    let john = world.person("john").await;
    let login = world.browser.get("/login").await;
    let pin = world.pin(&login.html, &john).await;
    for csrf in ["", "0000", &"a".repeat(64)] {
        let page = world
            .browser
            .post_form("/login/pin", &[("csrf", csrf), ("pin", &pin)])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.html.contains("This form has expired"), "{}", page.html);
    }
    // Refused before Central Auth was asked: the PIN still works.
    let home = world.browser.submit_pin(&login, &pin).await;
    assert!(home.html.contains("Welcome, John Smith"));
}

#[tokio::test]
async fn the_status_line_is_set_by_a_script_of_the_site() {
    let world = World::start().await;
    let page = world.browser.get("/login").await;
    let poll = between(&page.html, r#"data-poll=""#, "\"");
    assert_eq!(poll, "/login/status");
    assert!(
        page.html
            .contains(r#"<script src="/static/login.js" defer></script>"#)
    );
}
