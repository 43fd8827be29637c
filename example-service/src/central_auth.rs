//! The four calls of the integration guide (plus the status poll), over
//! plain HTTP + JSON. This is the only module that talks to Central Auth.

use std::time::Duration;

use reqwest::header::RETRY_AFTER;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::{BaseUrl, Config};
use crate::secret::{ApiKey, QrToken, SessionToken};

/// Central Auth as this service sees it: its address and our credentials.
pub struct CentralAuth {
    http: reqwest::Client,
    base: BaseUrl,
    service_id: String,
    api_key: ApiKey,
}

/// Why a call did not succeed.
#[derive(Debug)]
pub enum CallError {
    /// Central Auth answered with a problem document: switch on its `code`.
    Refused(Problem),
    /// Not reachable, too slow, a 5xx, or an answer we could not read.
    /// The detail is for the log, not for visitors.
    Unavailable(String),
}

/// An RFC 9457 problem document, with the fields this service uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Problem {
    pub status: u16,
    pub code: String,
    #[serde(default)]
    pub title: String,
    /// On `invalid_pin`: wrong PINs still allowed for this QR code.
    pub attempts_remaining: Option<i64>,
    /// On `system_closed`: the next opening (RFC 3339), if any.
    pub opens_at: Option<String>,
    /// From the `Retry-After` header (`rate_limited`, `system_closed`).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub struct NewQrCode {
    pub qr_token: String,
    /// Plain base64 PNG, for `data:image/png;base64,…`.
    pub qr_image: String,
    pub expires_in: i64,
}

#[derive(Debug, Deserialize)]
pub struct QrStatus {
    /// `pending`, `scanned`, `verified`, `expired`, `locked` or `denied`.
    pub status: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub username: String,
    pub full_name: String,
}

#[derive(Debug)]
pub struct Login {
    pub session_token: SessionToken,
    pub user: User,
}

/// The verdict of `validate-session`.
#[derive(Debug)]
pub enum Verdict {
    /// Still good; keep the returned token (it may be a fresh one).
    Valid {
        session_token: SessionToken,
        user: User,
    },
    /// Ended: `expired`, `logged_out`, `revoked`, `user_inactive`, …
    Ended { reason: String },
}

#[derive(Deserialize)]
struct LoginBody {
    session_token: String,
    user: User,
}

#[derive(Deserialize)]
struct VerdictBody {
    valid: bool,
    reason: Option<String>,
    session_token: Option<String>,
    user: Option<User>,
}

#[derive(Deserialize)]
struct Ignored {}

/// What we know of the visitor's browser; shown on the phone before the PIN.
#[derive(Debug, Default)]
pub struct Requester {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl CentralAuth {
    pub fn new(config: &Config) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("example-service/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base: config.central_auth_url.clone(),
            service_id: config.service_id.clone(),
            api_key: config.api_key.clone(),
        })
    }

    /// Step 2 of the guide: a QR code for this visitor.
    pub async fn generate_qr(&self, requester: &Requester) -> Result<NewQrCode, CallError> {
        #[derive(Serialize)]
        struct Body<'a> {
            service_id: &'a str,
            api_key: &'a str,
            client_ip: Option<&'a str>,
            client_user_agent: Option<&'a str>,
        }
        let body = Body {
            service_id: &self.service_id,
            api_key: self.api_key.expose(),
            client_ip: requester.ip.as_deref(),
            client_user_agent: requester.user_agent.as_deref(),
        };
        self.post("/api/auth/qr/generate", &body).await
    }

    /// Where the visitor's QR code stands, for the waiting page.
    pub async fn qr_status(&self, qr_token: &QrToken) -> Result<QrStatus, CallError> {
        #[derive(Serialize)]
        struct Body<'a> {
            qr_token: &'a str,
        }
        let body = Body {
            qr_token: qr_token.expose(),
        };
        self.post("/api/auth/qr/status", &body).await
    }

    /// Step 3: trade the PIN for a session. Our credentials go along so a QR
    /// token stolen from another service cannot be redeemed here.
    pub async fn verify_pin(&self, qr_token: &QrToken, pin: &Pin) -> Result<Login, CallError> {
        #[derive(Serialize)]
        struct Body<'a> {
            qr_token: &'a str,
            pin: &'a str,
            service_id: &'a str,
            api_key: &'a str,
        }
        let body = Body {
            qr_token: qr_token.expose(),
            pin: pin.as_str(),
            service_id: &self.service_id,
            api_key: self.api_key.expose(),
        };
        let login: LoginBody = self.post("/api/auth/pin/verify", &body).await?;
        Ok(Login {
            session_token: SessionToken::new(login.session_token),
            user: login.user,
        })
    }

    /// Step 4: is the session still good? Sends our `service_id`, so a token
    /// issued to another service is refused (`wrong_service`).
    pub async fn validate_session(&self, token: &SessionToken) -> Result<Verdict, CallError> {
        #[derive(Serialize)]
        struct Body<'a> {
            session_token: &'a str,
            service_id: &'a str,
        }
        let body = Body {
            session_token: token.expose(),
            service_id: &self.service_id,
        };
        let verdict: VerdictBody = self.post("/api/auth/validate-session", &body).await?;
        match (verdict.valid, verdict.session_token, verdict.user) {
            (true, Some(token), Some(user)) => Ok(Verdict::Valid {
                session_token: SessionToken::new(token),
                user,
            }),
            (true, _, _) => Err(CallError::Unavailable(
                "validate-session: valid without a token or user".to_owned(),
            )),
            (false, _, _) => Ok(Verdict::Ended {
                reason: verdict.reason.unwrap_or_else(|| "invalid".to_owned()),
            }),
        }
    }

    /// Step 5: end the session everywhere. Ending it twice is fine.
    pub async fn logout(&self, token: &SessionToken) -> Result<(), CallError> {
        #[derive(Serialize)]
        struct Body<'a> {
            session_token: &'a str,
        }
        let body = Body {
            session_token: token.expose(),
        };
        let _: Ignored = self.post("/api/auth/logout", &body).await?;
        Ok(())
    }

    /// One JSON POST. Secrets travel only in bodies, so the URL (which
    /// reqwest puts into its error messages) is safe to log.
    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, CallError> {
        let response = self
            .http
            .post(self.base.join(path))
            .json(body)
            .send()
            .await
            .map_err(|e| CallError::Unavailable(format!("POST {path}: {}", with_causes(&e))))?;
        let status = response.status();
        if status.is_success() {
            return response.json::<T>().await.map_err(|e| {
                CallError::Unavailable(format!("POST {path}: unreadable answer: {e}"))
            });
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        match response.json::<Problem>().await {
            // A closed system is an answer, not an outage: the page says when it opens.
            Ok(problem) if !status.is_server_error() || problem.code == "system_closed" => {
                Err(CallError::Refused(Problem {
                    retry_after,
                    ..problem
                }))
            }
            Ok(problem) => Err(CallError::Unavailable(format!(
                "POST {path}: {status} {}",
                problem.code
            ))),
            Err(_) => Err(CallError::Unavailable(format!(
                "POST {path}: {status} without a problem document"
            ))),
        }
    }
}

/// An error with its causes ("error sending request: … : Connection
/// refused"): reqwest's own message leaves out the part that says why.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// The 6 digits shown on the phone. Checked here first, so a typo costs
/// no round trip (and no attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin(String);

impl Pin {
    pub fn parse(raw: &str) -> Option<Self> {
        let pin: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        (pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit())).then_some(Self(pin))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_is_six_digits_spaces_allowed() {
        assert_eq!(Pin::parse(" 123 456 ").unwrap().as_str(), "123456");
        assert!(Pin::parse("12345").is_none());
        assert!(Pin::parse("12345a").is_none());
        assert!(Pin::parse("1234567").is_none());
        assert!(Pin::parse("١٢٣٤٥٦").is_none());
    }
}
