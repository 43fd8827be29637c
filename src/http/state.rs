//! The state every handler receives: cheap to clone, nothing global.

use crate::domain::Core;
use std::sync::Arc;
use std::time::Duration;

use tower_http::cors::CorsLayer;

use crate::http::client_addr::TrustedProxies;
use crate::http::metrics::{Metrics, MetricsAccess};
use crate::http::rates::AddressRates;

#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    pub metrics: Metrics,
    /// Who may read `/metrics`.
    pub metrics_access: Arc<MetricsAccess>,
    /// Whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    pub proxies: Arc<TrustedProxies>,
    /// The cross-origin policy of the public routes (`CORS_ALLOWED_ORIGINS`).
    pub cors: Option<Arc<CorsLayer>>,
    /// Longest a request may take, its body included (`REQUEST_TIMEOUT_SECS`).
    pub request_timeout: Duration,
    /// Per-address request rates (`RATE_*`).
    pub rates: Arc<AddressRates>,
}
