//! Admin bearer tokens: the cap on live tokens per admin (`ADMIN_TOKENS_MAX`),
//! what is recorded for each, and listing and revoking them in the console.

use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

use crate::console::{Browser, csrf_of};
use crate::harness::{
    ADMIN_PASSWORD, Api, Options, TestApp, assert_problem, cli, expect_json, run_cli,
};

/// A server with the given settings (as flags).
async fn app_with(args: &[&str]) -> TestApp {
    TestApp::spawn_with(Options {
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    })
    .await
}

/// Signs in `n` times, a second apart (so "oldest" is well defined).
async fn sign_in_times(app: &TestApp, n: usize) -> Vec<String> {
    let mut tokens = Vec::with_capacity(n);
    for _ in 0..n {
        tokens.push(app.admin_token().await);
        app.clock.advance(SignedDuration::from_secs(1));
    }
    tokens
}

async fn status_with(app: &TestApp, token: &str) -> StatusCode {
    app.admin_get(token, "/api/admin/pending").await.status()
}

#[tokio::test]
async fn signing_in_past_the_default_cap_of_ten_ends_the_two_oldest_tokens() {
    // The sign-in request rate is raised so only the token cap is tested.
    let app = app_with(&["--rate-signin-per-min", "600", "--rate-signin-burst", "100"]).await;
    let tokens = sign_in_times(&app, 12).await;
    for (i, token) in tokens.iter().enumerate() {
        let expected = if i < 2 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        assert_eq!(status_with(&app, token).await, expected, "token {i}");
    }
}

#[tokio::test]
async fn admin_tokens_max_sets_the_cap() {
    let app = app_with(&["--admin-tokens-max", "3"]).await;
    let tokens = sign_in_times(&app, 5).await;
    let statuses = statuses_of(&app, &tokens).await;
    assert_eq!(
        statuses,
        [401, 401, 200, 200, 200].map(|s| StatusCode::from_u16(s).unwrap())
    );
}

#[tokio::test]
async fn concurrent_sign_ins_leave_exactly_the_cap_of_live_tokens() {
    let app = app_with(&[
        "--admin-tokens-max",
        "3",
        "--rate-signin-per-min",
        "6000",
        "--rate-signin-burst",
        "1000",
    ])
    .await;
    let mut sign_ins = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let api = Api::new(app.url(""));
        sign_ins.spawn(async move { sign_in_past_contention(&api).await });
    }
    let tokens: Vec<String> = sign_ins.join_all().await;
    let statuses = statuses_of(&app, &tokens).await;
    let live = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(live, 3, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED)
    );
}

#[tokio::test]
async fn without_rate_limits_there_is_no_token_cap() {
    let app = app_with(&["--rate-limits", "off", "--admin-tokens-max", "2"]).await;
    let tokens = sign_in_times(&app, 4).await;
    for token in &tokens {
        assert_eq!(status_with(&app, token).await, StatusCode::OK);
    }
}

async fn statuses_of(app: &TestApp, tokens: &[String]) -> Vec<StatusCode> {
    let mut out = Vec::with_capacity(tokens.len());
    for token in tokens {
        out.push(status_with(app, token).await);
    }
    out
}

/// Signs in, trying again when the sign-in throttle's per-account
/// bookkeeping was contended by the other concurrent sign-ins (429).
pub async fn sign_in_past_contention(api: &Api) -> String {
    for _ in 0..50 {
        let res = api
            .post(
                "/api/admin/login",
                &json!({"username": "admin", "password": ADMIN_PASSWORD}),
            )
            .await;
        match res.status() {
            StatusCode::OK => {
                let body: Value = res.json().await.unwrap();
                return body["access_token"].as_str().unwrap().to_owned();
            }
            StatusCode::TOO_MANY_REQUESTS => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            other => panic!("admin login: {other}"),
        }
    }
    panic!("admin login stayed contended");
}

/// Signs in through the API as `username`, with a browser of `user_agent`.
async fn api_sign_in_as(app: &TestApp, username: &str, password: &str, user_agent: &str) -> String {
    let res = app
        .client
        .post(app.url("/api/admin/login"))
        .header(reqwest::header::USER_AGENT, user_agent)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// The rows of the sign-ins page: (token_id, whether it is this session,
/// the row's HTML).
fn rows_of(page: &str) -> Vec<(String, bool, String)> {
    page.split("<tr id=\"token-")
        .skip(1)
        .map(|rest| {
            let row = &rest[..rest.find("</tr>").unwrap()];
            let id = row[..row.find('"').unwrap()].to_owned();
            (id, row.contains("this session"), row.to_owned())
        })
        .collect()
}

/// The sign-ins page of a signed-in browser, with its CSRF token.
async fn sign_ins_page(browser: &mut Browser, app: &TestApp) -> (String, String) {
    let res = browser.get(&app.url("/admin/tokens")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let csrf = csrf_of(&page);
    (page, csrf)
}

/// The one row that is not this session.
fn other_row(page: &str) -> (String, String) {
    let others: Vec<_> = rows_of(page).into_iter().filter(|r| !r.1).collect();
    assert_eq!(others.len(), 1, "{page}");
    let (id, _, row) = others.into_iter().next().unwrap();
    (id, row)
}

#[tokio::test]
async fn the_sign_ins_page_lists_the_admins_tokens_with_address_browser_and_this_session() {
    let app = TestApp::spawn().await;
    let api_token = api_sign_in_as(&app, "admin", ADMIN_PASSWORD, "ops-script/1.0").await;
    let mut browser = Browser::new();
    browser.sign_in(&app).await;
    // The account's name in the header leads to the page.
    let dashboard = browser.get(&app.url("/admin")).await.text().await.unwrap();
    assert!(dashboard.contains("href=\"/admin/tokens\""), "{dashboard}");

    let (page, _) = sign_ins_page(&mut browser, &app).await;
    let rows = rows_of(&page);
    assert_eq!(rows.len(), 2, "{page}");
    assert_eq!(
        rows.iter().filter(|r| r.1).count(),
        1,
        "one is this session"
    );
    let (_, row) = other_row(&page);
    assert!(row.contains("ops-script/1.0"), "{row}");
    assert!(row.contains("127.0.0.1"), "{row}");
    assert!(row.contains("2026-11-25T12:00:00Z"), "{row}");
    // Neither bearer secret is in the page, nor is the cookie's.
    assert!(!page.contains(&api_token));
    let cookie = browser.cookie_header();
    let console_token = cookie.split("ca_admin=").nth(1).unwrap();
    let console_token = console_token.split(';').next().unwrap();
    assert!(!page.contains(console_token));
}

#[tokio::test]
async fn revoking_a_token_in_the_console_makes_it_401_at_once() {
    let app = TestApp::spawn().await;
    let api_token = api_sign_in_as(&app, "admin", ADMIN_PASSWORD, "ops-script/1.0").await;
    let mut browser = Browser::new();
    browser.sign_in(&app).await;
    let (page, csrf) = sign_ins_page(&mut browser, &app).await;
    let (id, _) = other_row(&page);

    let url = app.url(&format!("/admin/tokens/{id}/revoke"));
    let res = browser.post(&url, &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/admin/tokens?notice=")
    );
    assert_eq!(
        status_with(&app, &api_token).await,
        StatusCode::UNAUTHORIZED
    );

    // This session goes on; the list has only it left.
    let (page, _) = sign_ins_page(&mut browser, &app).await;
    let rows = rows_of(&page);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].1);
    // Revoking it again is no error: it has ended.
    let res = browser.post(&url, &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn revoking_without_the_csrf_token_is_refused_and_the_token_lives() {
    let app = TestApp::spawn().await;
    let api_token = api_sign_in_as(&app, "admin", ADMIN_PASSWORD, "ops-script/1.0").await;
    let mut browser = Browser::new();
    browser.sign_in(&app).await;
    let (page, _) = sign_ins_page(&mut browser, &app).await;
    let (id, _) = other_row(&page);
    for form in [vec![], vec![("csrf", "forged")]] {
        let res = browser
            .post(&app.url(&format!("/admin/tokens/{id}/revoke")), &form)
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = browser
            .post(&app.url("/admin/tokens/sign-out-others"), &form)
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(status_with(&app, &api_token).await, StatusCode::OK);
}

#[tokio::test]
async fn sign_out_everywhere_else_ends_every_token_but_this_session() {
    let app = TestApp::spawn().await;
    let first = api_sign_in_as(&app, "admin", ADMIN_PASSWORD, "a").await;
    let second = api_sign_in_as(&app, "admin", ADMIN_PASSWORD, "b").await;
    let mut other_browser = Browser::new();
    other_browser.sign_in(&app).await;
    let mut browser = Browser::new();
    browser.sign_in(&app).await;
    let (_, csrf) = sign_ins_page(&mut browser, &app).await;

    let res = browser
        .post(
            &app.url("/admin/tokens/sign-out-others"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.contains("Signed+out+3+other"), "{location}");
    for token in [&first, &second] {
        assert_eq!(status_with(&app, token).await, StatusCode::UNAUTHORIZED);
    }
    let res = other_browser.get(&app.url("/admin")).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the other console is signed out"
    );
    let (page, _) = sign_ins_page(&mut browser, &app).await;
    let rows = rows_of(&page);
    assert_eq!(rows.len(), 1);
    assert!(rows[0].1);
}

/// A second admin, `other`, made with the CLI; returns its password.
fn create_other_admin(app: &TestApp) -> &'static str {
    let password = "Second-admin-pass-for-tokens";
    run_cli(cli(
        &app.database(),
        &[
            "create-admin",
            "--username",
            "other",
            "--password",
            password,
        ],
    ));
    password
}

#[tokio::test]
async fn an_admin_sees_and_revokes_only_its_own_tokens() {
    let app = TestApp::spawn().await;
    let password = create_other_admin(&app);
    let mut other = Browser::new();
    let res = other.submit_sign_in_as(&app, "other", password).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (page, _) = sign_ins_page(&mut other, &app).await;
    let others_id = rows_of(&page)[0].0.clone();

    let mut browser = Browser::new();
    browser.sign_in(&app).await;
    let (page, csrf) = sign_ins_page(&mut browser, &app).await;
    assert!(
        !page.contains(&others_id),
        "another admin's token is not listed"
    );
    assert_eq!(rows_of(&page).len(), 1);
    let res = browser
        .post(
            &app.url(&format!("/admin/tokens/{others_id}/revoke")),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.headers()[LOCATION]
            .to_str()
            .unwrap()
            .contains("already+ended")
    );
    let res = browser
        .post(
            &app.url("/admin/tokens/sign-out-others"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The other admin is still signed in.
    let res = other.get(&app.url("/admin/tokens")).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn last_use_is_recorded_at_most_once_a_minute() {
    let app = TestApp::spawn().await;
    let api_token = api_sign_in_as(&app, "admin", ADMIN_PASSWORD, "ops-script/1.0").await;
    let mut browser = Browser::new();
    browser.sign_in(&app).await;
    let last_used = |page: &str| {
        let (_, row) = other_row(page);
        let cells: Vec<&str> = row.split("<td").collect();
        cells[4].to_owned()
    };
    // Signing in counts as a use.
    let (page, _) = sign_ins_page(&mut browser, &app).await;
    assert!(last_used(&page).contains("2026-11-25T12:00:00Z"), "{page}");

    // Used again 30 s later: not written (less than a minute since).
    app.clock.advance(SignedDuration::from_secs(30));
    assert_eq!(status_with(&app, &api_token).await, StatusCode::OK);
    let (page, _) = sign_ins_page(&mut browser, &app).await;
    assert!(last_used(&page).contains("2026-11-25T12:00:00Z"), "{page}");

    // Used 61 s after the recorded use: written.
    app.clock.advance(SignedDuration::from_secs(31));
    assert_eq!(status_with(&app, &api_token).await, StatusCode::OK);
    let (page, _) = sign_ins_page(&mut browser, &app).await;
    assert!(last_used(&page).contains("2026-11-25T12:01:01Z"), "{page}");
}

async fn admin_delete(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn get_admin_tokens_lists_the_admins_live_tokens_with_the_presented_one_current() {
    let app = TestApp::spawn().await;
    let older = api_sign_in_as(&app, "admin", ADMIN_PASSWORD, "ops-script/1.0").await;
    app.clock.advance(SignedDuration::from_secs(5));
    let newer = api_sign_in_as(&app, "admin", ADMIN_PASSWORD, "laptop").await;
    let body = expect_json(
        app.admin_get(&newer, "/api/admin/tokens").await,
        StatusCode::OK,
    )
    .await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{body}");
    assert_eq!(body["next_cursor"], Value::Null);
    // Newest first; the presented token is `current`.
    assert_eq!(items[0]["current"], true);
    assert_eq!(items[0]["user_agent"], "laptop");
    assert_eq!(items[0]["created_at"], "2026-11-25T12:00:05Z");
    assert_eq!(items[1]["current"], false);
    assert_eq!(items[1]["user_agent"], "ops-script/1.0");
    assert_eq!(items[1]["created_from"], "127.0.0.1");
    assert_eq!(items[1]["created_at"], "2026-11-25T12:00:00Z");
    assert_eq!(items[1]["last_used_at"], "2026-11-25T12:00:00Z");
    assert_eq!(items[1]["expires_at"], "2026-11-25T13:00:00Z");
    assert_ne!(items[0]["token_id"], items[1]["token_id"]);
    let text = body.to_string();
    assert!(
        !text.contains(&older) && !text.contains(&newer),
        "no secret in the list"
    );
}

#[tokio::test]
async fn admin_tokens_are_paginated() {
    let app = TestApp::spawn().await;
    let tokens = sign_in_times(&app, 3).await;
    let first = expect_json(
        app.admin_get(&tokens[0], "/api/admin/tokens?limit=2").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = expect_json(
        app.admin_get(
            &tokens[0],
            &format!("/api/admin/tokens?limit=2&cursor={cursor}"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let rest = second["items"].as_array().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
    // The oldest comes last, and it is the presented one.
    assert_eq!(rest[0]["current"], true);
    let res = app.admin_get(&tokens[0], "/api/admin/tokens?limit=0").await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}

#[tokio::test]
async fn delete_admin_token_revokes_it_at_once_and_then_is_404() {
    let app = TestApp::spawn().await;
    let victim = app.admin_token().await;
    let keeper = app.admin_token().await;
    let body = expect_json(
        app.admin_get(&keeper, "/api/admin/tokens").await,
        StatusCode::OK,
    )
    .await;
    let id = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["current"] == false)
        .unwrap()["token_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/admin/tokens/{id}");
    let res = admin_delete(&app, &keeper, &path).await;
    let body = expect_json(res, StatusCode::OK).await;
    assert_eq!(body, json!({"token_id": id, "revoked": true}));
    assert_eq!(status_with(&app, &victim).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_with(&app, &keeper).await, StatusCode::OK);
    let res = admin_delete(&app, &keeper, &path).await;
    assert_problem(res, StatusCode::NOT_FOUND, "token_not_found").await;
}

#[tokio::test]
async fn an_admin_cannot_list_or_revoke_another_admins_tokens_over_the_api() {
    let app = TestApp::spawn().await;
    let password = create_other_admin(&app);
    let other = api_sign_in_as(&app, "other", password, "other's laptop").await;
    let body = expect_json(
        app.admin_get(&other, "/api/admin/tokens").await,
        StatusCode::OK,
    )
    .await;
    let others_id = body["items"][0]["token_id"].as_str().unwrap().to_owned();

    let admin = app.admin_token().await;
    let body = expect_json(
        app.admin_get(&admin, "/api/admin/tokens").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert!(!body.to_string().contains(&others_id));
    let res = admin_delete(&app, &admin, &format!("/api/admin/tokens/{others_id}")).await;
    assert_problem(res, StatusCode::NOT_FOUND, "token_not_found").await;
    assert_eq!(status_with(&app, &other).await, StatusCode::OK);
}

#[tokio::test]
async fn the_token_routes_need_an_admin_token() {
    let app = TestApp::spawn().await;
    for token in ["", "caa_not-a-token"] {
        let res = app.admin_get(token, "/api/admin/tokens").await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let res = admin_delete(&app, token, "/api/admin/tokens/some-id").await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
    }
}

#[tokio::test]
async fn an_expired_token_is_not_listed_nor_revocable() {
    let app = TestApp::spawn().await;
    let old = app.admin_token().await;
    let body = expect_json(
        app.admin_get(&old, "/api/admin/tokens").await,
        StatusCode::OK,
    )
    .await;
    let old_id = body["items"][0]["token_id"].as_str().unwrap().to_owned();
    // Past its hour.
    app.clock.advance(SignedDuration::from_secs(3601));
    assert_eq!(status_with(&app, &old).await, StatusCode::UNAUTHORIZED);
    let fresh = app.admin_token().await;
    let body = expect_json(
        app.admin_get(&fresh, "/api/admin/tokens").await,
        StatusCode::OK,
    )
    .await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["current"], true);
    let res = admin_delete(&app, &fresh, &format!("/api/admin/tokens/{old_id}")).await;
    assert_problem(res, StatusCode::NOT_FOUND, "token_not_found").await;
}
