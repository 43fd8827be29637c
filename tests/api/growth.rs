//! Nothing grows without bound (issue 13): the pending queue has caps per
//! address and overall, admins get one digest instead of an email per
//! registration in a flood, and what is over (QR codes, sessions, admin
//! tokens, delivered emails) is purged on a timer while the history stays.

use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::flow::{Flow, at, text};
use crate::harness::{Options, TestApp, assert_problem, registration};

async fn spawn(args: &[&str]) -> TestApp {
    TestApp::spawn_with(Options {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        ..Default::default()
    })
    .await
}

async fn register(app: &TestApp, username: &str) -> Response {
    app.post("/api/register", &registration(username)).await
}

async fn assert_queue_full(res: Response) {
    let wait: u64 = res
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(wait, 600, "the queue empties only as admins work it");
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
}

/// The outbox's messages of `kind`, as (recipient, subject).
async fn mails(app: &TestApp, token: &str, kind: &str) -> Vec<(String, String)> {
    let body = app.admin_json(token, "/api/admin/outbox?limit=500").await;
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == kind)
        .map(|m| (text(m, "recipient"), text(m, "subject")))
        .collect()
}

/// Polls `check` (the server's upkeep runs every second in these tests)
/// for up to 15 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 15 s");
}

#[tokio::test]
async fn the_pending_queue_is_capped_per_address_until_an_admin_works_it() {
    let app = spawn(&["--registration-pending-per-address", "2"]).await;
    let token = app.admin_token().await;
    let first = app.register("ann").await;
    app.register("bob").await;
    assert_queue_full(register(&app, "cid").await).await;
    // The refusal reserved nothing: the name is free once there is room.
    let res = app.reject(&token, &first, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(register(&app, "cid").await.status(), StatusCode::CREATED);
    assert_queue_full(register(&app, "dan").await).await;
    let pending = app.admin_json(&token, "/api/admin/pending").await;
    let mut names: Vec<&str> = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["username"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["bob", "cid"]);
}

#[tokio::test]
async fn the_pending_queue_has_an_overall_cap_and_rate_limits_off_lifts_both() {
    let app = spawn(&["--registration-pending-max", "3"]).await;
    let token = app.admin_token().await;
    app.register("ann").await;
    app.register("bob").await;
    let cid = app.register("cid").await;
    assert_queue_full(register(&app, "dan").await).await;
    // Approval takes a registration out of the queue.
    assert_eq!(app.approve(&token, &cid).await.status(), StatusCode::OK);
    assert_eq!(register(&app, "dan").await.status(), StatusCode::CREATED);

    let off = spawn(&[
        "--registration-pending-max",
        "1",
        "--registration-pending-per-address",
        "1",
        "--rate-limits",
        "off",
    ])
    .await;
    for name in ["ann", "bob", "cid"] {
        assert_eq!(register(&off, name).await.status(), StatusCode::CREATED);
    }
}

#[tokio::test]
async fn past_a_few_registrations_an_hour_admins_get_one_digest() {
    let app = spawn(&[
        "--registration-digest-after",
        "2",
        "--registration-digest-every-mins",
        "15",
        "--upkeep-every-secs",
        "1",
        "--registration-pending-per-address",
        "0",
        "--rate-register-per-min",
        "0",
    ])
    .await;
    let token = app.admin_token().await;
    for name in ["ann", "bob", "cid", "dan", "eve"] {
        app.register(name).await;
    }
    let one_by_one = mails(&app, &token, "registration_received").await;
    assert_eq!(one_by_one.len(), 2, "{one_by_one:?}");
    // The digest waits until its oldest registration has waited 15 minutes.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(mails(&app, &token, "registration_digest").await.is_empty());
    app.clock.advance(jiff::SignedDuration::from_mins(15));
    eventually("the digest", || async {
        !mails(&app, &token, "registration_digest").await.is_empty()
    })
    .await;
    let digests = mails(&app, &token, "registration_digest").await;
    assert_eq!(
        digests,
        [(
            "ops@example.com".to_owned(),
            "3 new registrations waiting for approval".to_owned()
        )],
        "one digest per admin, naming the three that had no email"
    );
    // Within the same hour a new registration waits for the next digest.
    app.register("fay").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(mails(&app, &token, "registration_received").await.len(), 2);
    assert_eq!(mails(&app, &token, "registration_digest").await.len(), 1);
    app.clock.advance(jiff::SignedDuration::from_mins(16));
    eventually("the second digest", || async {
        mails(&app, &token, "registration_digest").await.len() == 2
    })
    .await;
}

#[tokio::test]
async fn the_purge_deletes_what_is_over_and_keeps_the_history() {
    let app = spawn(&[
        "--upkeep-every-secs",
        "1",
        "--purge-after-hours",
        "24",
        "--outbox-keep-days",
        "2",
    ])
    .await;
    let mut flow = Flow::start_on(app).await;
    let unscanned = flow.qr().await;
    let left_to_expire = flow.session().await;
    let logged_out = flow.session().await;
    assert_eq!(flow.logout_res(&logged_out).await.status(), StatusCode::OK);
    let approval_mails = mails(&flow.app, &flow.admin, "approved").await;
    assert_eq!(approval_mails.len(), 1);

    // Within the retention the answers stay precise.
    flow.travel_to(&at(23 * 3600)).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(flow.status(&unscanned).await["status"], "expired");

    // Past it, the QR code and both sessions are gone.
    flow.travel_to(&at(25 * 3600)).await;
    eventually("the QR code's purge", || async {
        flow.status_res(&unscanned).await.status() == StatusCode::NOT_FOUND
    })
    .await;
    let res = flow.status_res(&unscanned).await;
    assert_problem(res, StatusCode::NOT_FOUND, "qr_not_found").await;
    for token in [&left_to_expire, &logged_out] {
        let answer: Value = flow.validate(token).await;
        assert_eq!(answer["valid"], false);
        assert_eq!(answer["reason"], "invalid", "a purged session is unknown");
    }
    // The history stays; the session that expired unnoticed is closed at
    // the moment it expired (30 minutes idle), not left open.
    let rows = flow.history("outcome=success").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let mut reasons: Vec<(&str, &Value)> = rows
        .iter()
        .map(|r| (r["ended_reason"].as_str().unwrap(), &r["logout_at"]))
        .collect();
    reasons.sort_by_key(|(reason, _)| *reason);
    assert_eq!(reasons[0], ("expired", &Value::String(at(1800))));
    assert_eq!(reasons[1].0, "logged_out");
    // Emails are kept for days, not hours.
    assert_eq!(mails(&flow.app, &flow.admin, "approved").await.len(), 1);
    flow.travel_to(&at(49 * 3600)).await;
    eventually("the outbox's purge", || async {
        mails(&flow.app, &flow.admin, "approved").await.is_empty()
    })
    .await;
}
