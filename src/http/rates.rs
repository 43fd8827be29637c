//! Per-address request rates on the public routes a script could hammer.
//! An edge concern: the key is the client address, which only the edge
//! knows, and a refused request should cost nothing past this check (no
//! body parsing, no database, no domain). In memory, per instance.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::domain::DomainError;
use crate::domain::rates::{KeyedLimit, Rate, address_key};
use crate::http::console::bare_error_page;
use crate::http::extract::Caller;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// The console's sign-in form (a POST of the form to its own page).
const CONSOLE_SIGN_IN: &str = "/admin/login";

/// The limited routes, each with its own budget per address.
pub struct AddressRates {
    routes: Vec<Route>,
}

struct Route {
    path: &'static str,
    limit: KeyedLimit<IpAddr>,
    /// How long a refusal is held before it is answered.
    hold: Duration,
}

/// The rate of each route; `None` for no limit.
#[derive(Debug, Default, Clone, Copy)]
pub struct AddressRateSettings {
    pub register: Option<Rate>,
    pub scan: Option<Rate>,
    pub deny: Option<Rate>,
    pub verify: Option<Rate>,
    pub status: Option<Rate>,
    /// Each password sign-in route on its own.
    pub sign_in: Option<Rate>,
    /// A refused sign-in is answered after this long (at most its
    /// Retry-After): a script guessing passwords in a loop then waits too.
    pub sign_in_hold: Duration,
}

impl AddressRates {
    pub fn new(settings: AddressRateSettings) -> Arc<Self> {
        let none = Duration::ZERO;
        let hold = settings.sign_in_hold;
        let routes = [
            ("/api/register", settings.register, none),
            ("/api/auth/qr/scan", settings.scan, none),
            ("/api/auth/qr/deny", settings.deny, none),
            ("/api/auth/pin/verify", settings.verify, none),
            ("/api/auth/qr/status", settings.status, none),
            ("/api/mobile/login", settings.sign_in, hold),
            ("/api/admin/login", settings.sign_in, hold),
            (CONSOLE_SIGN_IN, settings.sign_in, hold),
        ];
        Arc::new(Self {
            routes: routes
                .into_iter()
                .map(|(path, rate, hold)| Route {
                    path,
                    limit: KeyedLimit::new(rate),
                    hold,
                })
                .collect(),
        })
    }

    fn for_path(&self, path: &str) -> Option<&Route> {
        self.routes.iter().find(|route| route.path == path)
    }

    /// Drops addresses whose budget is full again (on a timer), so the maps
    /// hold only addresses seen within the last burst's worth of time.
    pub fn upkeep(&self) {
        for route in &self.routes {
            route.limit.upkeep();
        }
    }
}

/// Refuses a request past its address's rate with 429 `rate_limited`. The
/// caller's address is worked out only for the limited routes.
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = (req.method() == Method::POST)
        .then(|| state.rates.for_path(req.uri().path()))
        .flatten();
    let Some(route) = route else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let refused = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(Caller(caller)) => route.limit.check(&address_key(caller.ip.as_deref())).err(),
        Err(rejection) => return rejection.into_response(),
    };
    if let Some(refused) = refused {
        let refused = held(refused, route.hold).await;
        // The console's sign-in form is a page: its refusal is one too.
        if parts.uri.path() == CONSOLE_SIGN_IN {
            return bare_error_page(refused);
        }
        return ApiError::from(refused).into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Waits `hold` (never past the refusal's own wait) before the refusal is
/// answered, and takes that time off its Retry-After, which counts from
/// the answer.
async fn held(refused: DomainError, hold: Duration) -> DomainError {
    let DomainError::RateLimited { retry_after } = refused else {
        return refused;
    };
    // Up to the whole wait: a refusal due in under a second is held too,
    // or a loop would spin on those as fast as they are answered.
    let hold = hold.as_secs().min(retry_after);
    if hold == 0 {
        return refused;
    }
    tokio::time::sleep(Duration::from_secs(hold)).await;
    DomainError::RateLimited {
        retry_after: (retry_after - hold).max(1),
    }
}
