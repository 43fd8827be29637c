//! PostgreSQL stops during a test: requests fail with a clean 503 problem
//! document within the pool's timeout (no hang, no panic), and succeed again
//! once it is back, without restarting Central Auth.

use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::expect_json;
use crate::instance::Instance;
use crate::required_env;

fn cluster(action: &str) {
    let dir = required_env("TEST_PG_OUTAGE_DIR");
    let url = required_env("TEST_PG_OUTAGE_URL");
    let port = url
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-cluster");
    let mut cmd = Command::new(script);
    cmd.arg(action).arg(&dir);
    if action == "start" {
        cmd.arg(port);
    }
    assert!(
        cmd.status().unwrap().success(),
        "pg-cluster {action} failed"
    );
}

/// Restarts the cluster even if the test fails half-way.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        if std::thread::panicking() {
            cluster("start");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_a_clean_503_and_service_resumes_after_it() {
    // This test alone uses the outage cluster, so stopping it disturbs no other.
    let admin_url = required_env("TEST_PG_OUTAGE_URL");
    let db = {
        use sqlx::Connection;
        let name = format!("ca_outage_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::postgres::PgConnection::connect(&admin_url)
            .await
            .unwrap();
        sqlx::Executor::execute(
            &mut conn,
            sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")),
        )
        .await
        .unwrap();
        let base = admin_url.rsplit_once('/').unwrap().0;
        format!("{base}/{name}")
    };
    let app = Instance::start(&db).await;
    let token = app.admin_token().await;
    let register = |name: &str| {
        json!({"email": format!("{name}@example.com"), "username": name,
               "password": "correct horse battery", "full_name": "John Smith"})
    };
    let res = app.post("/api/register", &register("before")).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let _restart = Restart;
    cluster("stop");

    let started = Instant::now();
    let res = app.post("/api/register", &register("during")).await;
    let elapsed = started.elapsed();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().get("retry-after").is_some());
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "service_unavailable", "{body}");
    assert!(
        elapsed < Duration::from_secs(8),
        "answered after {elapsed:?}"
    );
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let res = app.admin_post(&token, "/api/admin/approve/x", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "the process itself is fine"
    );

    cluster("start");
    let mut recovered = false;
    for _ in 0..100 {
        let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
        if ready.status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "readyz did not recover");
    let res = app.post("/api/register", &register("after")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // What was acknowledged is there; what was refused left nothing behind.
    let res = app
        .client
        .get(app.url("/api/admin/pending"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let pending = expect_json(res, StatusCode::OK).await;
    let names: Vec<&str> = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["before", "after"]);
}
