//! The login flow as a relying service and a phone drive it: generate, scan,
//! deny, verify, validate and logout, so each login test reads as the promise
//! it checks rather than as the requests it sends.

use jiff::SignedDuration;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::harness::{
    PASSWORD, TestApp, WEEKDAYS, assert_problem, expect_json, test_start, utc_schedule,
};

/// The end user's browser as ServiceB reports it when it asks for a QR code.
pub const CLIENT_IP: &str = "203.0.113.7";
pub const CLIENT_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0";

/// The test clock `secs` seconds after the start, as API.md writes times.
pub fn at(secs: i64) -> String {
    (test_start() + SignedDuration::from_secs(secs)).to_string()
}

/// A PIN that differs from `pin` in every digit.
pub fn wrong_pin(pin: &str) -> String {
    pin.chars()
        .map(|c| char::from_digit((c.to_digit(10).unwrap() + 1) % 10, 10).unwrap())
        .collect()
}

/// The string `field` of a JSON body.
pub fn text(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no string {field:?} in {body}"))
        .to_owned()
}

/// Asserts the 503 of the schedule set by [`Flow::close`], at the start time:
/// closed until Thursday 08:00 UTC, 20 hours away.
pub async fn assert_closed(res: Response) {
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "system_closed").await;
    assert_eq!(body["opens_at"], "2026-11-26T08:00:00Z", "{body}");
    assert_eq!(retry_after.as_deref(), Some("72000"));
}

/// One server with an enrolled person (john, whose phone holds `auth_key`)
/// and one relying service (ServiceB).
pub struct Flow {
    pub app: TestApp,
    /// An admin access token.
    pub admin: String,
    pub user_id: String,
    pub auth_key: String,
    pub service_id: String,
    pub api_key: String,
}

impl Flow {
    pub async fn start() -> Flow {
        Self::start_on(TestApp::spawn().await).await
    }

    /// The same cast on a server started by the caller.
    pub async fn start_on(app: TestApp) -> Flow {
        let admin = app.admin_token().await;
        let mut flow = Flow {
            app,
            admin,
            user_id: String::new(),
            auth_key: String::new(),
            service_id: String::new(),
            api_key: String::new(),
        };
        (flow.user_id, flow.auth_key) = flow.enrolled("john").await;
        (flow.service_id, flow.api_key) = flow.new_service("ServiceB").await;
        flow
    }

    /// Registers, approves and enrolls the phone of `username`;
    /// returns (user_id, auth_key).
    pub async fn enrolled(&self, username: &str) -> (String, String) {
        let user_id = self.app.active_user(&self.admin, username).await;
        (user_id, self.phone_login(username).await)
    }

    /// Signs the authenticator app of `username` in again; returns the new key.
    pub async fn phone_login(&self, username: &str) -> String {
        let res = self.app.mobile_login(username, PASSWORD).await;
        text(&expect_json(res, StatusCode::OK).await, "auth_key")
    }

    /// Registers a service at `https://{name}.example`; returns (service_id, api_key).
    pub async fn new_service(&self, name: &str) -> (String, String) {
        let body = json!({"name": name, "url": format!("https://{}.example", name.to_lowercase())});
        let res = self
            .app
            .admin_post(&self.admin, "/api/services/register", Some(&body))
            .await;
        let created = expect_json(res, StatusCode::CREATED).await;
        (text(&created, "service_id"), text(&created, "api_key"))
    }

    pub fn advance(&self, secs: i64) {
        self.app.clock.advance(SignedDuration::from_secs(secs));
    }

    /// Sets the clock to `when` (RFC 3339), days away: signs the admin in
    /// again, as an admin token lasts an hour.
    pub async fn travel_to(&mut self, when: &str) {
        self.app.clock.set(when.parse().unwrap());
        self.admin = self.app.admin_token().await;
    }

    /// POSTs an admin action such as `/api/admin/users/{id}/deactivate`; expects 200.
    pub async fn admin_action(&self, path: &str) -> Value {
        let res = self.app.admin_post(&self.admin, path, None).await;
        expect_json(res, StatusCode::OK).await
    }

    /// `action` is `deactivate` or `activate`.
    pub async fn user_action(&self, user_id: &str, action: &str) {
        self.admin_action(&format!("/api/admin/users/{user_id}/{action}"))
            .await;
    }

    /// `action` is `deactivate`, `activate` or `rotate-key`.
    pub async fn service_action(&self, service_id: &str, action: &str) -> Value {
        self.admin_action(&format!("/api/services/{service_id}/{action}"))
            .await
    }

    /// Logins are closed from now (Wednesday 12:00 UTC) until Thursday 08:00.
    pub async fn close(&self) {
        let schedule = utc_schedule("08:00", "10:00", &WEEKDAYS);
        self.app.set_schedule(&self.admin, &schedule).await;
    }

    // --- generate and status ---

    /// A generate body for a service, with the requester ServiceB reports.
    pub fn generate_body(service_id: &str, api_key: &str) -> Value {
        json!({
            "service_id": service_id,
            "api_key": api_key,
            "client_ip": CLIENT_IP,
            "client_user_agent": CLIENT_UA,
        })
    }

    pub async fn generate_with(&self, body: &Value) -> Response {
        self.app.post("/api/auth/qr/generate", body).await
    }

    /// ServiceB asks for a QR code; returns the 201 body.
    pub async fn generate(&self) -> Value {
        let body = Self::generate_body(&self.service_id, &self.api_key);
        expect_json(self.generate_with(&body).await, StatusCode::CREATED).await
    }

    /// ServiceB asks for a QR code; returns its token.
    pub async fn qr(&self) -> String {
        text(&self.generate().await, "qr_token")
    }

    /// A QR code that `service_id` asked for; returns its token.
    pub async fn qr_for(&self, service_id: &str, api_key: &str) -> String {
        let body = Self::generate_body(service_id, api_key);
        let res = self.generate_with(&body).await;
        text(&expect_json(res, StatusCode::CREATED).await, "qr_token")
    }

    pub async fn status_res(&self, qr: &str) -> Response {
        self.app
            .post("/api/auth/qr/status", &json!({"qr_token": qr}))
            .await
    }

    pub async fn status(&self, qr: &str) -> Value {
        expect_json(self.status_res(qr).await, StatusCode::OK).await
    }

    // --- the phone: scan and deny ---

    pub async fn scan_as(&self, qr: &str, auth_key: &str) -> Response {
        let body = json!({"qr_token": qr, "auth_key": auth_key});
        self.app.post("/api/auth/qr/scan", &body).await
    }

    /// John's phone scans `qr`.
    pub async fn scan_res(&self, qr: &str) -> Response {
        self.scan_as(qr, &self.auth_key).await
    }

    /// John's phone scans `qr`; returns the 200 body.
    pub async fn scan(&self, qr: &str) -> Value {
        expect_json(self.scan_res(qr).await, StatusCode::OK).await
    }

    /// A QR code of ServiceB that John's phone scanned; returns (qr_token, pin).
    pub async fn scanned(&self) -> (String, String) {
        let qr = self.qr().await;
        let pin = text(&self.scan(&qr).await, "pin");
        (qr, pin)
    }

    pub async fn deny_as(&self, qr: &str, auth_key: &str) -> Response {
        let body = json!({"qr_token": qr, "auth_key": auth_key});
        self.app.post("/api/auth/qr/deny", &body).await
    }

    /// John's phone denies `qr`; expects 200 `{"denied": true}`.
    pub async fn deny(&self, qr: &str) {
        let res = self.deny_as(qr, &self.auth_key).await;
        assert_eq!(
            expect_json(res, StatusCode::OK).await,
            json!({"denied": true})
        );
    }

    // --- the service: verify ---

    /// A verify body with ServiceB's credentials.
    pub fn verify_body(&self, qr: &str, pin: &str) -> Value {
        json!({"qr_token": qr, "pin": pin, "service_id": self.service_id, "api_key": self.api_key})
    }

    pub async fn verify_with(&self, body: &Value) -> Response {
        self.app.post("/api/auth/pin/verify", body).await
    }

    /// ServiceB verifies `pin` for `qr`, sending its credentials.
    pub async fn verify_res(&self, qr: &str, pin: &str) -> Response {
        self.verify_with(&self.verify_body(qr, pin)).await
    }

    /// ServiceB verifies `pin` for `qr`; returns the 200 body.
    pub async fn verify(&self, qr: &str, pin: &str) -> Value {
        expect_json(self.verify_res(qr, pin).await, StatusCode::OK).await
    }

    /// Sends `count` wrong PINs for `qr`, each expected to be 401 `invalid_pin`.
    pub async fn wrong_pins(&self, qr: &str, pin: &str, count: usize) {
        for _ in 0..count {
            let res = self.verify_res(qr, &wrong_pin(pin)).await;
            assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_pin").await;
        }
    }

    /// John logs in to ServiceB; returns the verify body.
    pub async fn login(&self) -> Value {
        let (qr, pin) = self.scanned().await;
        self.verify(&qr, &pin).await
    }

    /// The person holding `auth_key` logs in to a service; returns the verify body.
    pub async fn login_with(&self, auth_key: &str, service_id: &str, api_key: &str) -> Value {
        let qr = self.qr_for(service_id, api_key).await;
        let scan = expect_json(self.scan_as(&qr, auth_key).await, StatusCode::OK).await;
        let body = json!({
            "qr_token": qr, "pin": text(&scan, "pin"), "service_id": service_id, "api_key": api_key,
        });
        expect_json(self.verify_with(&body).await, StatusCode::OK).await
    }

    /// John logs in to ServiceB; returns the session token.
    pub async fn session(&self) -> String {
        text(&self.login().await, "session_token")
    }

    // --- sessions ---

    /// `POST /api/auth/validate-session` with `body`; expects 200.
    pub async fn validate_with(&self, body: &Value) -> Value {
        let res = self.app.post("/api/auth/validate-session", body).await;
        expect_json(res, StatusCode::OK).await
    }

    /// Validates as ServiceB does: naming itself.
    pub async fn validate(&self, token: &str) -> Value {
        self.validate_with(&json!({"session_token": token, "service_id": self.service_id}))
            .await
    }

    pub async fn logout_res(&self, token: &str) -> Response {
        self.app
            .post("/api/auth/logout", &json!({"session_token": token}))
            .await
    }

    // --- admin reports ---

    /// The login-history rows for `query` (e.g. `outcome=success`), first page of 500.
    pub async fn history(&self, query: &str) -> Vec<Value> {
        let path = format!("/api/admin/login-history?limit=500&{query}");
        let body = self.app.admin_json(&self.admin, &path).await;
        body["items"].as_array().unwrap().clone()
    }

    /// The only login-history row with `outcome`.
    pub async fn only_row(&self, outcome: &str) -> Value {
        let rows = self.history(&format!("outcome={outcome}")).await;
        assert_eq!(rows.len(), 1, "rows with outcome {outcome}: {rows:?}");
        rows[0].clone()
    }

    pub async fn stats(&self, query: &str) -> Value {
        let path = format!("/api/admin/stats{query}");
        self.app.admin_json(&self.admin, &path).await
    }
}
