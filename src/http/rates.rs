//! Per-address request rates on the public routes a script could hammer.
//! An edge concern: the key is the client address, which only the edge
//! knows, and a refused request should cost nothing past this check (no
//! body parsing, no database, no domain). In memory, per instance.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::domain::rates::{KeyedLimit, Rate, address_key};
use crate::http::extract::Caller;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// The limited routes, each with its own budget per address.
pub struct AddressRates {
    register: KeyedLimit<IpAddr>,
    scan: KeyedLimit<IpAddr>,
    deny: KeyedLimit<IpAddr>,
    verify: KeyedLimit<IpAddr>,
    status: KeyedLimit<IpAddr>,
}

/// The rate of each route; `None` for no limit.
#[derive(Debug, Default, Clone, Copy)]
pub struct AddressRateSettings {
    pub register: Option<Rate>,
    pub scan: Option<Rate>,
    pub deny: Option<Rate>,
    pub verify: Option<Rate>,
    pub status: Option<Rate>,
}

impl AddressRates {
    pub fn new(settings: AddressRateSettings) -> Arc<Self> {
        Arc::new(Self {
            register: KeyedLimit::new(settings.register),
            scan: KeyedLimit::new(settings.scan),
            deny: KeyedLimit::new(settings.deny),
            verify: KeyedLimit::new(settings.verify),
            status: KeyedLimit::new(settings.status),
        })
    }

    fn for_path(&self, path: &str) -> Option<&KeyedLimit<IpAddr>> {
        match path {
            "/api/register" => Some(&self.register),
            "/api/auth/qr/scan" => Some(&self.scan),
            "/api/auth/qr/deny" => Some(&self.deny),
            "/api/auth/pin/verify" => Some(&self.verify),
            "/api/auth/qr/status" => Some(&self.status),
            _ => None,
        }
    }

    /// Drops addresses whose budget is full again (on a timer), so the maps
    /// hold only addresses seen within the last burst's worth of time.
    pub fn upkeep(&self) {
        for limit in [
            &self.register,
            &self.scan,
            &self.deny,
            &self.verify,
            &self.status,
        ] {
            limit.upkeep();
        }
    }
}

/// Refuses a request past its address's rate with 429 `rate_limited`.
pub async fn limit(
    State(state): State<AppState>,
    Caller(caller): Caller,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::POST
        && let Some(limit) = state.rates.for_path(req.uri().path())
        && let Err(refused) = limit.check(&address_key(caller.ip.as_deref()))
    {
        return ApiError::from(refused).into_response();
    }
    next.run(req).await
}
