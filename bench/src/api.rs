//! The Central Auth calls the harness makes, each timed and recorded by the
//! virtual client that makes it. Only the public HTTP API is used.

use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::http::{Conn, Endpoint};
use crate::record::{Kind, Recorder};

/// A service registered for the run; it asks for the QR codes.
#[derive(Debug, Clone, Deserialize)]
pub struct Service {
    pub service_id: String,
    pub api_key: String,
}

/// An approved user whose "phone" has enrolled, i.e. holds an `auth_key`.
#[derive(Debug, Clone)]
pub struct User {
    pub username: String,
    pub auth_key: String,
}

/// One simulated client: its own connection and its own measurements.
pub struct VClient {
    pub conn: Conn,
    pub rec: Recorder,
}

#[derive(Deserialize)]
struct AccessToken {
    access_token: String,
}

#[derive(Deserialize)]
struct Registered {
    user_id: String,
}

#[derive(Deserialize)]
struct Enrolled {
    auth_key: String,
}

#[derive(Deserialize)]
struct Generated {
    qr_token: String,
}

#[derive(Deserialize)]
struct Scanned {
    pin: String,
}

#[derive(Deserialize)]
struct Verified {
    session_token: String,
}

#[derive(Deserialize)]
struct Validated {
    valid: bool,
}

#[derive(Deserialize)]
struct LoggedOut {
    logged_out: bool,
}

impl VClient {
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            conn: Conn::new(endpoint),
            rec: Recorder::default(),
        }
    }

    pub async fn healthz(&mut self) -> Option<()> {
        let (elapsed, _) = self
            .exchange(Kind::Healthz, Method::GET, "/healthz", None, None)
            .await?;
        self.rec.ok(Kind::Healthz, elapsed);
        Some(())
    }

    /// `Some(valid)`; a `valid: false` is counted apart, not as an error.
    /// Names the service, as every service should (and one that requires
    /// its credentials must).
    pub async fn validate(&mut self, session_token: &str, service: &Service) -> Option<bool> {
        let answer: Validated = self
            .post(
                Kind::Validate,
                "/api/auth/validate-session",
                None,
                &json!({ "session_token": session_token, "service_id": service.service_id }),
            )
            .await?;
        if !answer.valid {
            self.rec.invalid(Kind::Validate);
        }
        Some(answer.valid)
    }

    /// The full login as a service and a phone do it: generate → scan →
    /// verify, in order, on this one client. Returns the session token.
    pub async fn login(&mut self, service: &Service, user: &User) -> Option<String> {
        let started = Instant::now();
        let qr: Generated = self
            .post(
                Kind::Generate,
                "/api/auth/qr/generate",
                None,
                &json!({
                    "service_id": service.service_id,
                    "api_key": service.api_key,
                    "client_ip": "127.0.0.1",
                    "client_user_agent": "central-auth-bench",
                }),
            )
            .await?;
        let scanned: Scanned = self
            .post(
                Kind::Scan,
                "/api/auth/qr/scan",
                None,
                &json!({ "qr_token": qr.qr_token, "auth_key": user.auth_key }),
            )
            .await?;
        let verified: Verified = self
            .post(
                Kind::Verify,
                "/api/auth/pin/verify",
                None,
                &json!({
                    "qr_token": qr.qr_token,
                    "pin": scanned.pin,
                    "service_id": service.service_id,
                    "api_key": service.api_key,
                }),
            )
            .await?;
        self.rec.ok(Kind::Login, started.elapsed());
        Some(verified.session_token)
    }

    pub async fn logout(&mut self, session_token: &str) -> Option<()> {
        let answer: LoggedOut = self
            .post(
                Kind::Logout,
                "/api/auth/logout",
                None,
                &json!({ "session_token": session_token }),
            )
            .await?;
        if !answer.logged_out {
            self.rec
                .error(Kind::Logout, "answered logged_out: false".to_owned());
            return None;
        }
        Some(())
    }

    /// A new registration (pending until approved); returns its `user_id`.
    pub async fn register(&mut self, username: &str, password: &str) -> Option<String> {
        let answer: Registered = self
            .post(
                Kind::Register,
                "/api/register",
                None,
                &json!({
                    "email": format!("{username}@bench.example.com"),
                    "username": username,
                    "password": password,
                    "full_name": format!("Bench {username}"),
                }),
            )
            .await?;
        Some(answer.user_id)
    }

    /// Returns an admin bearer token.
    pub async fn admin_login(&mut self, username: &str, password: &str) -> Option<String> {
        let answer: AccessToken = self
            .post(
                Kind::AdminLogin,
                "/api/admin/login",
                None,
                &json!({ "username": username, "password": password }),
            )
            .await?;
        Some(answer.access_token)
    }

    pub async fn approve(&mut self, admin_token: &str, user_id: &str) -> Option<()> {
        let path = format!("/api/admin/approve/{user_id}");
        let (elapsed, _) = self
            .exchange(Kind::Approve, Method::POST, &path, Some(admin_token), None)
            .await?;
        self.rec.ok(Kind::Approve, elapsed);
        Some(())
    }

    /// The phone enrols and receives the user's `auth_key`.
    pub async fn mobile_login(&mut self, username: &str, password: &str) -> Option<String> {
        let answer: Enrolled = self
            .post(
                Kind::MobileLogin,
                "/api/mobile/login",
                None,
                &json!({ "username": username, "password": password }),
            )
            .await?;
        Some(answer.auth_key)
    }

    /// One wrong password for `username`, as a guessing script sends it: a
    /// 401 means the server checked it, a 429 that it refused to (the
    /// account's delay, a rate, a full hashing queue). Anything else is an
    /// error — a 200 above all, since the password is wrong.
    pub async fn guess(&mut self, username: &str, password: &str) {
        let body = json!({ "username": username, "password": password }).to_string();
        let started = Instant::now();
        let answer = self
            .conn
            .request(
                Method::POST,
                "/api/mobile/login",
                None,
                Some(body.into_bytes()),
            )
            .await;
        match answer {
            Ok(r) if r.status == StatusCode::UNAUTHORIZED => {
                self.rec.ok(Kind::GuessChecked, started.elapsed());
            }
            Ok(r) if r.status == StatusCode::TOO_MANY_REQUESTS => {
                self.rec.ok(Kind::GuessRefused, started.elapsed());
            }
            Ok(r) => self.rec.error(
                Kind::GuessChecked,
                format!("{} {}", r.status.as_u16(), snippet(&r.body)),
            ),
            Err(e) => self
                .rec
                .error(Kind::GuessChecked, format!("transport: {e}")),
        }
    }

    pub async fn register_service(&mut self, admin_token: &str, name: &str) -> Option<Service> {
        self.post(
            Kind::RegisterService,
            "/api/services/register",
            Some(admin_token),
            &json!({
                "name": name,
                "description": "Load generator of the benchmark harness",
                "url": "https://bench.example.com",
            }),
        )
        .await
    }

    /// POSTs JSON and reads a JSON answer; records exactly one success or
    /// one error for the request.
    async fn post<T: DeserializeOwned>(
        &mut self,
        kind: Kind,
        path: &str,
        bearer: Option<&str>,
        body: &Value,
    ) -> Option<T> {
        let body = match serde_json::to_vec(body) {
            Ok(body) => body,
            Err(e) => {
                self.rec.error(kind, format!("encoding the request: {e}"));
                return None;
            }
        };
        let (elapsed, answer) = self
            .exchange(kind, Method::POST, path, bearer, Some(body))
            .await?;
        match serde_json::from_slice(&answer) {
            Ok(value) => {
                self.rec.ok(kind, elapsed);
                Some(value)
            }
            Err(e) => {
                self.rec
                    .error(kind, format!("unexpected body ({e}): {}", snippet(&answer)));
                None
            }
        }
    }

    /// Sends a request; a non-2xx answer or a transport failure is recorded
    /// as an error here, a success is left to the caller to record.
    async fn exchange(
        &mut self,
        kind: Kind,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Option<(Duration, Bytes)> {
        let started = Instant::now();
        match self.conn.request(method, path, bearer, body).await {
            Ok(response) if response.status.is_success() => {
                Some((started.elapsed(), response.body))
            }
            Ok(response) => {
                self.rec.error(
                    kind,
                    format!("{} {}", response.status.as_u16(), snippet(&response.body)),
                );
                None
            }
            Err(e) => {
                self.rec.error(kind, format!("transport: {e}"));
                None
            }
        }
    }
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}
