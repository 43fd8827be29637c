//! Password guessing (issue 13): failed sign-ins are counted per account
//! name in the database and per client address; past a few free failures
//! each attempt waits a growing delay, refused meanwhile with 429 and the
//! right `Retry-After`, and the right password works once it has passed.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::harness::{ADMIN_PASSWORD, Options, TestApp, assert_problem, expect_json};

const RIGHT: &str = "correct horse battery";
const WRONG: &str = "not the password at all";

/// Only the per-account delay: the per-address limits off.
const ACCOUNT_ONLY: [&str; 4] = [
    "--rate-signin-per-min",
    "0",
    "--rate-signin-failures-per-min",
    "0",
];

async fn spawn(args: &[&str]) -> TestApp {
    TestApp::spawn_with(Options {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        ..Default::default()
    })
    .await
}

/// The status and, for a 429, its `Retry-After` in seconds.
fn answer(res: &Response) -> (StatusCode, Option<u64>) {
    let wait = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (res.status(), wait)
}

async fn refused(res: Response, wait: u64) {
    assert_eq!(answer(&res), (StatusCode::TOO_MANY_REQUESTS, Some(wait)));
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

/// The statuses and waits of the sequence the delay tests drive: three
/// free failures, the delay, a failure after it, the doubled delay.
async fn drive_delays(app: &TestApp, username: &str) -> Vec<(StatusCode, Option<u64>)> {
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(answer(&app.mobile_login(username, WRONG).await));
    }
    seen.push(answer(&app.mobile_login(username, WRONG).await));
    app.clock.advance(SignedDuration::from_secs(1));
    seen.push(answer(&app.mobile_login(username, WRONG).await));
    seen.push(answer(&app.mobile_login(username, WRONG).await));
    seen
}

#[tokio::test]
async fn the_delay_grows_and_the_right_password_after_it_works() {
    let app = spawn(&ACCOUNT_ONLY).await;
    let token = app.admin_token().await;
    app.active_user(&token, "alice").await;
    let unauthorized = (StatusCode::UNAUTHORIZED, None);
    let wait = |s| (StatusCode::TOO_MANY_REQUESTS, Some(s));
    assert_eq!(
        drive_delays(&app, "alice").await,
        [
            unauthorized,
            unauthorized,
            unauthorized,
            wait(1),
            unauthorized,
            wait(2)
        ]
    );
    // During the delay even the right password is refused, unchecked…
    refused(app.mobile_login("alice", RIGHT).await, 2).await;
    app.clock.advance(SignedDuration::from_millis(1500));
    refused(app.mobile_login("alice", RIGHT).await, 1).await;
    // …and once it has passed, it works (no lockout) and clears the count.
    app.clock.advance(SignedDuration::from_millis(500));
    expect_json(app.mobile_login("alice", RIGHT).await, StatusCode::OK).await;
    for _ in 0..3 {
        let res = app.mobile_login("alice", WRONG).await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    refused(app.mobile_login("alice", WRONG).await, 1).await;
}

#[tokio::test]
async fn the_delay_is_capped_and_forgotten_after_a_quiet_night() {
    let app = spawn(&[&ACCOUNT_ONLY[..], &["--signin-delay-max-secs", "5"]].concat()).await;
    for expected in [
        None,
        None,
        None,
        Some(1),
        Some(2),
        Some(4),
        Some(5),
        Some(5),
    ] {
        let res = app.mobile_login("carol", WRONG).await;
        match expected {
            None => assert_eq!(res.status(), StatusCode::UNAUTHORIZED),
            Some(wait) => {
                refused(res, wait).await;
                app.clock.advance(SignedDuration::from_secs(wait as i64));
                let res = app.mobile_login("carol", WRONG).await;
                assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "after {wait} s");
            }
        }
    }
    // Twelve quiet hours later the count starts again: three free failures.
    app.clock.advance(SignedDuration::from_hours(13));
    for _ in 0..3 {
        assert_eq!(
            app.mobile_login("carol", WRONG).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn an_unknown_name_gets_the_same_answers_as_a_known_one() {
    let app = spawn(&ACCOUNT_ONLY).await;
    let token = app.admin_token().await;
    app.active_user(&token, "alice").await;
    let known = drive_delays(&app, "alice").await;
    let unknown = drive_delays(&app, "nobody").await;
    assert_eq!(known, unknown);
    // A name is counted as typed, whatever its case or spaces (alice's
    // 2 s wait is half over: the clock moved on for "nobody").
    refused(app.mobile_login("  ALICE ", RIGHT).await, 1).await;
}

#[tokio::test]
async fn admins_are_counted_apart_from_people_and_the_api_shares_with_the_console() {
    let app = spawn(&ACCOUNT_ONLY).await;
    for _ in 0..3 {
        let res = app.admin_login("admin", WRONG).await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    refused(app.admin_login("admin", ADMIN_PASSWORD).await, 1).await;
    // A person named "admin" on the phone has a count of their own.
    let res = app.mobile_login("admin", WRONG).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    app.clock.advance(SignedDuration::from_secs(1));
    expect_json(
        app.admin_login("admin", ADMIN_PASSWORD).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn rate_limits_off_lifts_the_delays() {
    let app = spawn(&["--rate-limits", "off"]).await;
    for _ in 0..8 {
        let res = app.mobile_login("alice", WRONG).await;
        assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    for _ in 0..8 {
        let res = app.admin_login("admin", WRONG).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    expect_json(
        app.admin_login("admin", ADMIN_PASSWORD).await,
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn failed_and_refused_sign_ins_are_in_the_history_with_their_address() {
    let app = spawn(&ACCOUNT_ONLY).await;
    let token = app.admin_token().await;
    let alice = app.active_user(&token, "alice").await;
    for _ in 0..4 {
        app.mobile_login("alice", WRONG).await;
    }
    for _ in 0..4 {
        app.admin_login("root", WRONG).await;
    }
    let body = app
        .admin_json(&token, "/api/admin/login-history?limit=100")
        .await;
    let rows: Vec<&Value> = body["items"].as_array().unwrap().iter().collect();
    let mut seen: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for row in &rows {
        assert_eq!(row["ip"], "127.0.0.1", "{row}");
        assert!(row["service_id"].is_null(), "{row}");
        let key = (
            row["sign_in"].as_str().unwrap().to_owned(),
            row["username"].as_str().unwrap().to_owned(),
            row["outcome"].as_str().unwrap().to_owned(),
        );
        *seen.entry(key).or_default() += 1;
    }
    let key = |k: &str, u: &str, o: &str| (k.to_owned(), u.to_owned(), o.to_owned());
    assert_eq!(
        seen,
        BTreeMap::from([
            (key("admin", "root", "invalid_credentials"), 3),
            (key("admin", "root", "rate_limited"), 1),
            (key("mobile", "alice", "invalid_credentials"), 3),
            (key("mobile", "alice", "rate_limited"), 1),
        ])
    );
    // A known person's failures are theirs: the filter by user finds them.
    let mine = app
        .admin_json(
            &token,
            &format!("/api/admin/login-history?user_id={alice}&outcome=invalid_credentials"),
        )
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 3);
    // The admin's own successful sign-in is not an attempt of the history
    // (it is not a login to a service), so nothing else is there.
    assert_eq!(rows.len(), 8);
}

#[tokio::test]
async fn fifty_parallel_guesses_get_only_the_free_checks_through() {
    let app = spawn(&ACCOUNT_ONLY).await;
    let token = app.admin_token().await;
    app.active_user(&token, "bob").await;
    let mut guesses = JoinSet::new();
    for i in 0..50 {
        let guess = json!({"username": "bob", "password": format!("guess number {i}")});
        let request = app.client.post(app.url("/api/mobile/login")).json(&guess);
        guesses.spawn(async move { request.send().await.unwrap().status() });
    }
    let mut counts: BTreeMap<u16, usize> = BTreeMap::new();
    while let Some(status) = guesses.join_next().await {
        *counts.entry(status.unwrap().as_u16()).or_default() += 1;
    }
    assert_eq!(counts, BTreeMap::from([(401, 3), (429, 47)]));
}

#[tokio::test]
async fn one_address_spraying_many_names_is_slowed_too() {
    let app = spawn(&[
        "--rate-signin-per-min",
        "0",
        "--rate-signin-failures-per-min",
        "10",
        "--rate-signin-failures-burst",
        "5",
    ])
    .await;
    for i in 0..5 {
        let res = app.mobile_login(&format!("user{i}"), WRONG).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // A sixth name, never tried, is refused: the address spent its budget.
    refused(app.mobile_login("user5", WRONG).await, 6).await;
    refused(app.admin_login("admin", ADMIN_PASSWORD).await, 6).await;
    // One failure comes back every 6 s (10 a minute).
    app.clock.advance(SignedDuration::from_secs(6));
    assert_eq!(
        app.mobile_login("user5", WRONG).await.status(),
        StatusCode::UNAUTHORIZED
    );
    refused(app.mobile_login("user6", WRONG).await, 6).await;
}

#[tokio::test]
async fn sign_in_requests_have_a_rate_per_address() {
    let app = spawn(&["--rate-signin-per-min", "1", "--rate-signin-burst", "2"]).await;
    let token = app.admin_token().await;
    app.active_user(&token, "alice").await;
    // The admin sign-in above used one of this route's two; mobile has its own.
    expect_json(app.mobile_login("alice", RIGHT).await, StatusCode::OK).await;
    expect_json(app.mobile_login("alice", RIGHT).await, StatusCode::OK).await;
    let res = app.mobile_login("alice", RIGHT).await;
    let (status, wait) = answer(&res);
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=60).contains(&wait.unwrap()), "{wait:?}");
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

#[tokio::test]
async fn a_flood_of_phone_sign_ins_is_bounded_and_admins_still_get_in() {
    let app = spawn(&[
        "--rate-signin-per-min",
        "0",
        "--rate-signin-failures-per-min",
        "0",
        "--hash-queue-max",
        "2",
    ])
    .await;
    let mut flood = JoinSet::new();
    for i in 0..40 {
        let guess = json!({"username": format!("flood{i}"), "password": WRONG});
        let request = app.client.post(app.url("/api/mobile/login")).json(&guess);
        flood.spawn(async move {
            let res = request.send().await.unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            (status, body["code"].as_str().unwrap_or_default().to_owned())
        });
    }
    // The admins' lane is apart: in the middle of the flood, an admin signs in.
    expect_json(
        app.admin_login("admin", ADMIN_PASSWORD).await,
        StatusCode::OK,
    )
    .await;
    let mut counts: BTreeMap<(u16, String), usize> = BTreeMap::new();
    while let Some(answer) = flood.join_next().await {
        let (status, code) = answer.unwrap();
        *counts.entry((status.as_u16(), code)).or_default() += 1;
    }
    let refused = counts
        .get(&(429, "rate_limited".to_owned()))
        .copied()
        .unwrap_or(0);
    let checked = counts
        .get(&(401, "invalid_credentials".to_owned()))
        .copied()
        .unwrap_or(0);
    assert_eq!(refused + checked, 40, "{counts:?}");
    assert!(
        refused > 0,
        "a queue of 2 cannot hold 40 at once: {counts:?}"
    );
}

/// A sign-in refused by the per-address request rate is held before its
/// 429 goes out (`RATE_SIGNIN_HOLD_SECS`), so a script that guesses in a
/// loop waits too; the hold is taken off the `Retry-After`, which counts
/// from the answer.
#[tokio::test]
async fn a_sign_in_refused_by_its_rate_is_held_and_retry_after_counts_from_the_answer() {
    let app = spawn(&[
        "--rate-signin-per-min",
        "1",
        "--rate-signin-burst",
        "1",
        "--rate-signin-hold-secs",
        "2",
    ])
    .await;
    let first = app.mobile_login("nobody", WRONG).await;
    assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
    let started = std::time::Instant::now();
    let res = app.mobile_login("nobody", WRONG).await;
    let held = started.elapsed();
    let (status, wait) = answer(&res);
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // A lower bound only: the hold is a floor, the machine may add to it.
    assert!(held >= std::time::Duration::from_secs(2), "{held:?}");
    // One request a minute: the next is due 60 s after the first, 2 of
    // which went by in the hold.
    let wait = wait.unwrap();
    assert!((55..=58).contains(&wait), "{wait}");
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}
