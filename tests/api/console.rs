//! The Admin Control Center over HTTP, as a browser uses it: a cookie
//! session, CSRF tokens on every form, server-rendered pages.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode, redirect};

use crate::harness::{ADMIN_PASSWORD, TestApp, registration};

/// A browser-like client: no automatic redirects, cookies kept by hand.
pub(crate) struct Browser {
    client: reqwest::Client,
    cookies: Vec<(String, String)>,
}

fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

impl Browser {
    pub(crate) fn new() -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, res: &Response) {
        for header in res.headers().get_all(SET_COOKIE) {
            let text = header.to_str().unwrap();
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, url: &str) -> Response {
        let res = self
            .client
            .get(url)
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&res);
        res
    }

    async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Response {
        let res = self
            .client
            .post(url)
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(&res);
        res
    }

    /// Fills and sends the sign-in form as `admin` with `password`.
    pub(crate) async fn submit_sign_in(&mut self, app: &TestApp, password: &str) -> Response {
        let page = self
            .get(&app.url("/admin/login"))
            .await
            .text()
            .await
            .unwrap();
        let form = [
            ("csrf", csrf_of(&page)),
            ("username", "admin".to_owned()),
            ("password", password.to_owned()),
        ];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.post(&app.url("/admin/login"), &form).await
    }

    /// Signs in through the form; returns the CSRF token of the session.
    async fn sign_in(&mut self, app: &TestApp) -> String {
        let res = self.submit_sign_in(app, ADMIN_PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()[LOCATION], "/admin");
        let dashboard = self.get(&app.url("/admin")).await.text().await.unwrap();
        csrf_of(&dashboard)
    }
}

#[tokio::test]
async fn console_pages_need_a_signed_in_admin() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new();
    for page in [
        "/admin",
        "/admin/pending",
        "/admin/users",
        "/admin/history",
        "/admin/services",
        "/admin/system",
    ] {
        let res = browser.get(&app.url(page)).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{page}");
        assert_eq!(res.headers()[LOCATION], "/admin/login");
    }
}

#[tokio::test]
async fn sign_in_sets_a_strict_httponly_cookie_and_shows_the_dashboard() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new();
    let res = browser.submit_sign_in(&app, ADMIN_PASSWORD).await;
    let cookie = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("ca_admin="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "served over plain http in tests: {cookie}"
    );
    let dashboard = browser.get(&app.url("/admin")).await;
    assert_eq!(dashboard.status(), StatusCode::OK);
    let csp = dashboard.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = dashboard.text().await.unwrap();
    assert!(
        html.contains("id=\"logins-chart\""),
        "the chart is an SVG picture"
    );
    assert!(!html.contains("<script>"), "no inline script");
}

#[tokio::test]
async fn a_wrong_password_or_a_forged_sign_in_form_is_refused() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new();
    let res = browser.submit_sign_in(&app, "wrong password!").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Wrong username or password.")
    );
    let mut stranger = Browser::new();
    let res = stranger
        .post(
            &app.url("/admin/login"),
            &[
                ("csrf", "forged"),
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn approving_from_the_console_needs_the_csrf_token() {
    let app = TestApp::spawn().await;
    let user_id = app.register("john").await;
    let mut browser = Browser::new();
    let csrf = browser.sign_in(&app).await;
    let pending = browser
        .get(&app.url("/admin/pending"))
        .await
        .text()
        .await
        .unwrap();
    assert!(pending.contains("id=\"approve-john\""));
    let action = app.url(&format!("/admin/pending/{user_id}/approve"));
    let forged = browser.post(&action, &[("csrf", "not the token")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let res = browser.post(&action, &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let token = app.admin_token().await;
    let users = app.admin_json(&token, "/api/admin/users").await;
    assert_eq!(users["items"][0]["username"], "john");
    assert_eq!(users["items"][0]["status"], "active");
}

#[tokio::test]
async fn what_users_typed_is_escaped_on_console_pages() {
    let app = TestApp::spawn().await;
    let mut body = registration("mallory");
    body["full_name"] = serde_json::json!("<script>alert(1)</script>");
    assert_eq!(
        app.post("/api/register", &body).await.status(),
        StatusCode::CREATED
    );
    let mut browser = Browser::new();
    browser.sign_in(&app).await;
    let html = browser
        .get(&app.url("/admin/pending"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || html.contains("&lt;script&gt;")
    );
}

#[tokio::test]
async fn a_registered_service_shows_its_key_once() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new();
    let csrf = browser.sign_in(&app).await;
    let res = browser
        .post(
            &app.url("/admin/services"),
            &[("csrf", &csrf), ("name", "ServiceB"), ("url", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"new-api-key\">cas_"), "the key is shown");
    assert!(html.contains("shown only this once"));
    let again = browser
        .get(&app.url("/admin/services"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!again.contains("cas_"), "and never again");
}

#[tokio::test]
async fn the_schedule_editor_saves_and_refuses_bad_input() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new();
    let csrf = browser.sign_in(&app).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("enabled", "true"),
        ("timezone", "Europe/Berlin"),
        ("opening_time", "09:00"),
        ("closing_time", "17:30"),
        ("days", "mon"),
        ("days", "fri"),
    ];
    let res = browser
        .post(&app.url("/admin/system/schedule"), &form)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let token = app.admin_token().await;
    let schedule = app.admin_json(&token, "/api/admin/schedule").await;
    assert_eq!(schedule["timezone"], "Europe/Berlin");
    assert_eq!(schedule["closing_time"], "17:30");
    assert_eq!(schedule["days"], serde_json::json!(["mon", "fri"]));
    let mut bad = form;
    bad[2] = ("timezone", "Mars/Olympus");
    let res = browser.post(&app.url("/admin/system/schedule"), &bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("timezone"));
}

#[tokio::test]
async fn sign_out_ends_the_console_session() {
    let app = TestApp::spawn().await;
    let mut browser = Browser::new();
    let csrf = browser.sign_in(&app).await;
    let stolen = browser.cookie_header();
    let res = browser
        .post(&app.url("/admin/logout"), &[("csrf", &csrf)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The old cookie no longer opens the console.
    let res = reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/admin"))
        .header(COOKIE, stolen)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// An admin who hits an error (here: approving a registration a second
/// time) gets an HTML page in the console's frame that says why and links
/// back, with the error's own status, never a bare problem document.
#[tokio::test]
async fn a_console_error_is_a_page_in_the_console_with_a_way_back() {
    let app = TestApp::spawn().await;
    let user_id = app.register("john").await;
    let mut browser = Browser::new();
    let csrf = browser.sign_in(&app).await;
    let action = app.url(&format!("/admin/pending/{user_id}/approve"));
    let first = browser.post(&action, &[("csrf", &csrf)]).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);

    let again = browser.post(&action, &[("csrf", &csrf)]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let content_type = again.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = again.text().await.unwrap();
    assert!(page.contains("Registration is not pending"), "{page}");
    assert!(page.contains("The registration is not pending."), "{page}");
    assert!(
        page.contains("id=\"sign-out\""),
        "no console frame:\n{page}"
    );
    assert!(
        page.contains(r#"href="/admin/pending" id="error-back""#),
        "no way back:\n{page}"
    );
}

/// A form without its session's CSRF token is refused with a page too.
#[tokio::test]
async fn a_forged_console_form_is_refused_with_a_page() {
    let app = TestApp::spawn().await;
    let user_id = app.register("john").await;
    let mut browser = Browser::new();
    browser.sign_in(&app).await;
    let action = app.url(&format!("/admin/pending/{user_id}/approve"));
    let forged = browser.post(&action, &[("csrf", "not the token")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let content_type = forged.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = forged.text().await.unwrap();
    assert!(page.contains("The form expired"), "{page}");
    assert!(page.contains(r#"href="/admin""#), "{page}");
}

/// Guessing the admin's password in the console waits as on the API (one
/// count for both), and the refusal is the sign-in page with the wait in
/// words, not JSON; past the wait the right password signs in.
#[tokio::test]
async fn guessing_in_the_console_waits_and_says_so_on_the_page() {
    let app = TestApp::spawn_with(crate::harness::Options {
        args: ["--rate-signin-per-min", "0"].map(str::to_owned).to_vec(),
        ..Default::default()
    })
    .await;
    let mut browser = Browser::new();
    for _ in 0..2 {
        let res = browser.submit_sign_in(&app, "a wrong password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // The third failure on the API: the count is the admin's, not the form's.
    let res = app
        .post(
            "/api/admin/login",
            &serde_json::json!({"username": "admin", "password": "a wrong password"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = browser.submit_sign_in(&app, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "1");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = res.text().await.unwrap();
    assert!(page.contains("wait 1 seconds"), "{page}");
    assert!(
        page.contains("name=\"password\""),
        "the form is there to retry"
    );
    app.clock.advance(jiff::SignedDuration::from_secs(1));
    browser.sign_in(&app).await;
}

/// The per-address request rate on the form is a page as well.
#[tokio::test]
async fn the_sign_in_form_past_its_request_rate_is_a_page() {
    let app = TestApp::spawn_with(crate::harness::Options {
        args: ["--rate-signin-per-min", "1", "--rate-signin-burst", "1"]
            .map(str::to_owned)
            .to_vec(),
        ..Default::default()
    })
    .await;
    let mut browser = Browser::new();
    browser.sign_in(&app).await;
    let res = browser.submit_sign_in(&app, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let page = res.text().await.unwrap();
    assert!(page.contains("<html"), "{page}");
    assert!(page.contains("/admin"), "a way back: {page}");
}
