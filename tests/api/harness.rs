//! Starts a server per test and offers the calls tests repeat.

use std::sync::Arc;

use central_auth::clock::ManualClock;
use central_auth::config::{DatabaseArgs, InitialHours, ServeArgs};
use central_auth::startup::Application;
use jiff::Timestamp;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;

pub const ADMIN_PASSWORD: &str = "admin password for tests";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub clock: ManualClock,
    _dir: TempDir,
    _stop: oneshot::Sender<()>,
}

/// A Wednesday noon (UTC), so schedules have a known "now".
pub fn test_start() -> Timestamp {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let database = DatabaseArgs {
            database_url: format!("sqlite://{}", dir.path().join("central-auth.db").display()),
            database_max_connections: 10,
            database_acquire_timeout_secs: 10,
        };
        let serve = ServeArgs {
            bind: "127.0.0.1:0".parse().unwrap(),
            public_url: None,
            admin_password: Some(ADMIN_PASSWORD.to_owned()),
            admin_email: Some("ops@example.com".to_owned()),
            admin_token_ttl_secs: 3600,
            hours: InitialHours {
                operating_hours_enabled: false,
                timezone: "UTC".to_owned(),
                opening_time: "08:00".to_owned(),
                closing_time: "18:00".to_owned(),
                operating_days: "mon,tue,wed,thu,fri".to_owned(),
            },
        };
        let clock = ManualClock::new(test_start());
        let app = Application::build(&database, &serve, Arc::new(clock.clone()))
            .await
            .expect("server starts");
        let addr = app.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run(async move {
            let _ = stopped.await;
        }));
        TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            clock,
            _dir: dir,
            _stop: stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.unwrap()
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn admin_token(&self) -> String {
        let res = self
            .post("/api/admin/login", &json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn admin_get(&self, token: &str, path: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    pub async fn admin_post(&self, token: &str, path: &str, body: Option<&Value>) -> Response {
        let req = self.client.post(self.url(path)).bearer_auth(token);
        let req = match body {
            Some(b) => req.json(b),
            None => req,
        };
        req.send().await.unwrap()
    }

    pub async fn admin_put(&self, token: &str, path: &str, body: &Value) -> Response {
        self.client.put(self.url(path)).bearer_auth(token).json(body).send().await.unwrap()
    }

    /// Registers `username` (email `username@example.com`), returns its id.
    pub async fn register(&self, username: &str) -> String {
        let res = self.post("/api/register", &registration(username)).await;
        assert_eq!(res.status(), StatusCode::CREATED, "registering {username}");
        let body: Value = res.json().await.unwrap();
        body["user_id"].as_str().unwrap().to_owned()
    }

    /// Registers and approves `username`; returns its id.
    pub async fn active_user(&self, token: &str, username: &str) -> String {
        let id = self.register(username).await;
        let res = self.admin_post(token, &format!("/api/admin/approve/{id}"), None).await;
        assert_eq!(res.status(), StatusCode::OK);
        id
    }

    /// Registers a service; returns (service_id, api_key).
    pub async fn service(&self, token: &str, name: &str) -> (String, String) {
        let res = self
            .admin_post(token, "/api/services/register", Some(&json!({"name": name})))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        (
            body["service_id"].as_str().unwrap().to_owned(),
            body["api_key"].as_str().unwrap().to_owned(),
        )
    }
}

/// A valid registration body for `username`.
pub fn registration(username: &str) -> Value {
    json!({
        "email": format!("{username}@example.com"),
        "username": username,
        "password": "correct horse battery",
        "full_name": "John Smith",
        "phone": "+15551234567"
    })
}

/// Asserts a problem document with `status` and `code`; returns its body.
pub async fn assert_problem(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "status for expected code {code}");
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type was {content_type:?}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "problem body: {body}");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["title"].is_string() && body["type"].is_string() && body["detail"].is_string());
    body
}

/// Asserts a 422 whose errors name `field`.
pub async fn assert_invalid_field(res: Response, field: &str) -> Value {
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&field), "expected an error on {field}, got {body}");
    body
}
