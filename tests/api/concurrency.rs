//! Races: many clients at once must get exactly the answers one at a time
//! would give, and never a 500 from a locked database. These tests run on a
//! multi-threaded runtime so the server really handles requests in parallel.

use std::future::Future;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::harness::{Options, TestApp, expect_json, registration};

const CLIENTS: usize = 20;

/// Runs `CLIENTS` copies of `call` at once; returns each (status, body).
/// These tests race many registrations from one address on purpose; the
/// per-address registration rate (tests/api/rates.rs) would answer most of
/// them 429, so it is off here, and so is the per-address cap on the queue.
async fn unlimited() -> TestApp {
    TestApp::spawn_with(Options {
        args: vec![
            "--rate-register-per-min".into(),
            "0".into(),
            "--registration-pending-per-address".into(),
            "0".into(),
        ],
        ..Default::default()
    })
    .await
}

async fn all_at_once<F, Fut>(app: &Arc<TestApp>, call: F) -> Vec<(StatusCode, Value)>
where
    F: Fn(Arc<TestApp>, usize) -> Fut,
    Fut: Future<Output = reqwest::Response> + Send + 'static,
{
    let mut set = JoinSet::new();
    for i in 0..CLIENTS {
        let res = call(Arc::clone(app), i);
        set.spawn(async move {
            let res = res.await;
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        });
    }
    set.join_all().await
}

/// How many answers had `status` (and, for errors, `code`).
fn count(answers: &[(StatusCode, Value)], status: StatusCode, code: Option<&str>) -> usize {
    answers
        .iter()
        .filter(|(s, body)| *s == status && code.is_none_or(|c| body["code"] == c))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_approvals_of_one_user_give_one_200_and_the_rest_409_not_pending() {
    let app = Arc::new(unlimited().await);
    let token = app.admin_token().await;
    let id = app.register("john").await;
    let answers = all_at_once(&app, |app, _| {
        let (token, id) = (token.clone(), id.clone());
        async move { app.approve(&token, &id).await }
    })
    .await;
    assert_eq!(count(&answers, StatusCode::OK, None), 1, "{answers:?}");
    let conflicts = count(&answers, StatusCode::CONFLICT, Some("not_pending"));
    assert_eq!(conflicts, CLIENTS - 1, "{answers:?}");
    let users = app.admin_json(&token, "/api/admin/users").await;
    assert_eq!(users["items"].as_array().unwrap().len(), 1, "{users}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_one_username_give_one_201_and_the_rest_409() {
    let app = Arc::new(unlimited().await);
    let answers = all_at_once(&app, |app, i| async move {
        let mut body = registration("john");
        body["email"] = json!(format!("john{i}@example.com"));
        app.post("/api/register", &body).await
    })
    .await;
    assert_eq!(count(&answers, StatusCode::CREATED, None), 1, "{answers:?}");
    let conflicts = count(&answers, StatusCode::CONFLICT, Some("username_taken"));
    assert_eq!(conflicts, CLIENTS - 1, "{answers:?}");
    let token = app.admin_token().await;
    let pending = app.admin_json(&token, "/api/admin/pending").await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 1, "{pending}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_one_email_give_one_201_and_the_rest_409() {
    let app = Arc::new(unlimited().await);
    let answers = all_at_once(&app, |app, i| async move {
        let mut body = registration(&format!("john{i}"));
        body["email"] = json!("john@example.com");
        app.post("/api/register", &body).await
    })
    .await;
    assert_eq!(count(&answers, StatusCode::CREATED, None), 1, "{answers:?}");
    let conflicts = count(&answers, StatusCode::CONFLICT, Some("email_taken"));
    assert_eq!(conflicts, CLIENTS - 1, "{answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_of_different_users_all_succeed() {
    let app = Arc::new(unlimited().await);
    let answers = all_at_once(&app, |app, i| async move {
        app.post("/api/register", &registration(&format!("user{i}")))
            .await
    })
    .await;
    assert_eq!(
        count(&answers, StatusCode::CREATED, None),
        CLIENTS,
        "{answers:?}"
    );
    let token = app.admin_token().await;
    let pending = app.admin_json(&token, "/api/admin/pending").await;
    assert_eq!(
        pending["items"].as_array().unwrap().len(),
        CLIENTS,
        "{pending}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_approvals_of_different_users_all_succeed() {
    let app = Arc::new(unlimited().await);
    let token = app.admin_token().await;
    let mut ids = Vec::new();
    for i in 0..CLIENTS {
        ids.push(app.register(&format!("user{i}")).await);
    }
    let ids = Arc::new(ids);
    let answers = all_at_once(&app, |app, i| {
        let (token, ids) = (token.clone(), Arc::clone(&ids));
        async move { app.approve(&token, &ids[i]).await }
    })
    .await;
    assert_eq!(
        count(&answers, StatusCode::OK, None),
        CLIENTS,
        "{answers:?}"
    );
    let users = app.admin_json(&token, "/api/admin/users").await;
    assert_eq!(users["items"].as_array().unwrap().len(), CLIENTS);
    let res = app.admin_get(&token, "/api/admin/pending").await;
    assert_eq!(expect_json(res, StatusCode::OK).await["items"], json!([]));
}
