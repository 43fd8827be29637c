//! The state every handler receives: cheap to clone, nothing global.

use crate::domain::Core;
use crate::http::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    pub metrics: Metrics,
    /// Whether `X-Forwarded-For` names the client (behind a trusted proxy).
    pub trust_proxy_headers: bool,
}
