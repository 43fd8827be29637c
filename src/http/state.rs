//! The state every handler receives: cheap to clone, nothing global.

use crate::domain::Core;
use std::sync::Arc;

use crate::http::metrics::Metrics;
use crate::http::rates::AddressRates;

#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    pub metrics: Metrics,
    /// Whether `X-Forwarded-For` names the client (behind a trusted proxy).
    pub trust_proxy_headers: bool,
    /// Per-address request rates (`RATE_*`).
    pub rates: Arc<AddressRates>,
}
