//! Starts a server per test and offers the calls tests repeat.

use std::sync::Arc;

use central_auth::clock::ManualClock;
use central_auth::config::{Cli, DatabaseArgs, ServeArgs};
use central_auth::startup::Application;
use clap::Parser as _;
use jiff::Timestamp;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN_PASSWORD: &str = "test console passphrase";

pub struct TestApp {
    api: Api,
    pub clock: ManualClock,
    /// The server's domain core, for what no route exposes.
    pub core: central_auth::domain::Core,
    database: TestDb,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

/// A Wednesday noon (UTC), so schedules have a known "now".
pub fn test_start() -> Timestamp {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

/// A database of the test's own: a SQLite file in a temporary folder, or,
/// when `TEST_DATABASE_URL` names a PostgreSQL server, a new database on it.
#[derive(Clone)]
pub struct TestDb {
    pub url: String,
    _dir: Option<Arc<TempDir>>,
}

impl TestDb {
    pub async fn fresh() -> TestDb {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin) if admin.starts_with("postgres") => Self::postgres(&admin).await,
            _ => {
                let dir = tempfile::tempdir().unwrap();
                TestDb {
                    url: format!("sqlite://{}", dir.path().join("central-auth.db").display()),
                    _dir: Some(Arc::new(dir)),
                }
            }
        }
    }

    async fn postgres(admin: &str) -> TestDb {
        use sqlx::Connection;
        let name = format!("ca_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::postgres::PgConnection::connect(admin).await.unwrap();
        sqlx::Executor::execute(
            &mut conn,
            sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")),
        )
        .await
        .unwrap();
        let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
        TestDb {
            url: format!("{base}/{name}"),
            _dir: None,
        }
    }

    #[allow(dead_code)] // used by the postgres test binary
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }
}

/// How a test server is started; `TestApp::spawn()` uses the defaults.
#[derive(Default)]
pub struct Options {
    /// Deliver email over SMTP to this loopback port (else: to the log).
    pub smtp_port: Option<u16>,
    /// Reuse this database (a restart, or a second instance), else a fresh one.
    pub database: Option<TestDb>,
    /// Start the clock here, else at `test_start()`.
    pub now: Option<Timestamp>,
    /// Behind a trusted proxy: the test client's loopback address is one
    /// (`--trusted-proxies`), so `X-Forwarded-For` names the client.
    pub trust_proxy_headers: bool,
    /// Listen here, else on a free loopback port.
    pub bind: Option<std::net::SocketAddr>,
    /// More settings, as command-line flags: `["--rate-limits", "off"]`.
    pub args: Vec<String>,
}

fn serve_args(options: &Options) -> ServeArgs {
    // The settings are parsed as the binary parses them, so a test names a
    // setting by its flag (`Options::args`) and every other one keeps its
    // documented default.
    let bind = options
        .bind
        .unwrap_or_else(|| "127.0.0.1:0".parse().unwrap())
        .to_string();
    let mut argv: Vec<String> = [
        "central-auth",
        "--bind",
        &bind,
        "--admin-password",
        ADMIN_PASSWORD,
        "--admin-email",
        "ops@example.com",
        "--smtp-from",
        "Central Auth <auth@example.com>",
        "--smtp-tls",
        "none",
        "--smtp-timeout-secs",
        "2",
        "--outbox-poll-ms",
        "100",
        "--operating-hours-enabled",
        "false",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if let Some(port) = options.smtp_port {
        argv.extend(["--smtp-host".into(), "127.0.0.1".into()]);
        argv.extend(["--smtp-port".into(), port.to_string()]);
    }
    if options.trust_proxy_headers {
        argv.extend(["--trusted-proxies".into(), "127.0.0.1/32,::1/128".into()]);
    }
    argv.extend(options.args.iter().cloned());
    Cli::try_parse_from(argv)
        .expect("test settings parse")
        .serve
}

/// The real `central-auth` binary with `args` on `db`, as an operator runs
/// it next to a running server.
#[allow(dead_code)] // not every test binary that includes the harness runs the CLI
pub fn cli(db: &TestDb, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_central-auth"));
    command
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn");
    command
}

/// Runs `command` to its end; panics with its stderr when it fails.
#[allow(dead_code)]
pub fn run_cli(mut command: std::process::Command) -> std::process::Output {
    let out = command.output().expect("the central-auth binary runs");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// HTTP to one Central Auth server, as its clients speak it. A `TestApp`
/// (and, in tests/postgres, a server process) derefs to one.
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
}

impl Api {
    pub fn new(base: String) -> Api {
        Api {
            base,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// `POST /api/admin/login` as `username`; the answer as it came.
    pub async fn admin_login(&self, username: &str, password: &str) -> Response {
        self.post(
            "/api/admin/login",
            &json!({"username": username, "password": password}),
        )
        .await
    }

    pub async fn admin_token(&self) -> String {
        let res = self.admin_login("admin", ADMIN_PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn admin_get(&self, token: &str, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
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
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

impl std::ops::Deref for TestApp {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> TestApp {
        Self::try_spawn_with(options).await.expect("server starts")
    }

    /// Starts a server, or says why it could not.
    pub async fn try_spawn_with(options: Options) -> anyhow::Result<TestApp> {
        let db = match options.database.clone() {
            Some(db) => db,
            None => TestDb::fresh().await,
        };
        let database = DatabaseArgs {
            database_url: db.url.clone(),
            database_max_connections: 10,
            database_acquire_timeout_secs: 10,
            sqlite_synchronous: central_auth::config::SqliteSynchronous::Normal,
        };
        let clock = ManualClock::new(options.now.unwrap_or_else(test_start));
        let app =
            Application::build(&database, &serve_args(&options), Arc::new(clock.clone())).await?;
        let addr = app.local_addr().unwrap();
        let core = app.core();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run(async move {
            let _ = stopped.await;
        }));
        Ok(TestApp {
            api: Api::new(format!("http://{addr}")),
            clock,
            core,
            database: db,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// This server's database, to start another server on it.
    pub fn database(&self) -> TestDb {
        self.database.clone()
    }

    /// Stops the server and waits until it has shut down.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
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
        let res = self
            .admin_post(token, &format!("/api/admin/approve/{id}"), None)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        id
    }

    /// Registers a service; returns (service_id, api_key).
    pub async fn service(&self, token: &str, name: &str) -> (String, String) {
        let res = self
            .admin_post(
                token,
                "/api/services/register",
                Some(&json!({"name": name})),
            )
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
    assert!(
        fields.contains(&field),
        "expected an error on {field}, got {body}"
    );
    body
}

/// The password of every user the harness registers.
pub const PASSWORD: &str = "correct horse battery";

/// Asserts `status` and returns the JSON body (printed on failure).
pub async fn expect_json(res: Response, status: StatusCode) -> Value {
    let actual = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(actual, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The `field` of every error in a 422 body.
pub fn error_fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

/// An enabled UTC schedule with one window per listed day.
pub fn utc_schedule(opening: &str, closing: &str, days: &[&str]) -> Value {
    json!({
        "enabled": true,
        "timezone": "UTC",
        "opening_time": opening,
        "closing_time": closing,
        "days": days,
    })
}

pub const WEEKDAYS: [&str; 5] = ["mon", "tue", "wed", "thu", "fri"];

impl TestApp {
    pub async fn approve(&self, token: &str, user_id: &str) -> Response {
        self.admin_post(token, &format!("/api/admin/approve/{user_id}"), None)
            .await
    }

    pub async fn reject(&self, token: &str, user_id: &str, body: Option<&Value>) -> Response {
        self.admin_post(token, &format!("/api/admin/reject/{user_id}"), body)
            .await
    }

    pub async fn mobile_login(&self, username: &str, password: &str) -> Response {
        self.post(
            "/api/mobile/login",
            &json!({"username": username, "password": password}),
        )
        .await
    }

    /// Replaces the operating hours; panics unless the server accepts them.
    pub async fn set_schedule(&self, token: &str, schedule: &Value) {
        let res = self.admin_put(token, "/api/admin/schedule", schedule).await;
        expect_json(res, StatusCode::OK).await;
    }

    /// One admin GET answered 200, as JSON.
    pub async fn admin_json(&self, token: &str, path: &str) -> Value {
        expect_json(self.admin_get(token, path).await, StatusCode::OK).await
    }

    /// Walks a paginated admin list `limit` items at a time; returns the pages.
    pub async fn pages(&self, token: &str, path: &str, limit: u32) -> Vec<Vec<Value>> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{path}{sep}limit={limit}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let body = self.admin_json(token, &url).await;
            pages.push(body["items"].as_array().unwrap().clone());
            match body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => {
                    assert!(body["next_cursor"].is_null(), "next_cursor: {body}");
                    return pages;
                }
            }
            assert!(pages.len() < 100, "pagination does not end");
        }
    }

    /// Asserts that a paginated admin list refuses limit 0, limit 501 and a
    /// cursor it never issued, each with 422 naming the parameter.
    pub async fn assert_paging_rules(&self, token: &str, path: &str) {
        let sep = if path.contains('?') { '&' } else { '?' };
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=501", "limit"),
            ("cursor=not-a-cursor!", "cursor"),
        ] {
            let res = self.admin_get(token, &format!("{path}{sep}{query}")).await;
            assert_invalid_field(res, field).await;
        }
    }
}

/// The values of a list field of each item, e.g. every `username`.
pub fn field_of<'a>(items: &'a [Value], field: &str) -> Vec<&'a str> {
    items.iter().map(|i| i[field].as_str().unwrap()).collect()
}

/// Asserts a problem document with `status` and some `code` (for failures
/// whose code API.md leaves open); returns its body.
pub async fn assert_some_problem(res: Response, status: StatusCode) -> Value {
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/problem+json")),
        "content type was {content_type:?}"
    );
    let body = expect_json(res, status).await;
    assert!(
        body["code"].as_str().is_some_and(|c| !c.is_empty()),
        "no code: {body}"
    );
    assert_eq!(body["status"], status.as_u16());
    assert!(body["title"].is_string() && body["type"].is_string() && body["detail"].is_string());
    body
}

/// Like [`field_of`], sorted: for lists whose order API.md leaves open.
pub fn sorted_field(items: &[Value], field: &str) -> Vec<String> {
    let mut values: Vec<String> = field_of(items, field)
        .into_iter()
        .map(str::to_owned)
        .collect();
    values.sort_unstable();
    values
}
