//! ServiceB: an example site that logs its visitors in with Central Auth,
//! using only Central Auth's public HTTP API. It is the worked example of
//! `docs/integrating-a-service.md`; `README.md` walks through it.
//!
//! [`central_auth`] holds the calls, [`web`] the pages that use them,
//! [`visitors`] what the server remembers of each browser.

pub mod central_auth;
pub mod config;
pub mod messages;
pub mod secret;
pub mod visitors;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

pub use config::Config;

use crate::central_auth::CentralAuth;
use crate::visitors::Visitors;
use crate::web::AppState;
use crate::web::cookies::CookiePolicy;

/// The whole site as a router, for `main` and for tests.
pub fn app(config: Config) -> Result<Router, StartError> {
    install_crypto_provider();
    let central = CentralAuth::new(&config).map_err(|e| StartError(e.to_string()))?;
    let state = AppState {
        central: Arc::new(central),
        visitors: Visitors::default(),
        cookies: CookiePolicy {
            secure: config.serves_https(),
        },
        trust_proxy_headers: config.trust_proxy_headers,
    };
    Ok(web::router(state))
}

/// Serves `router` until `shutdown` completes. The visitor's address, which
/// goes to Central Auth with each QR code, comes from the connection.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// TLS to an https Central Auth uses rustls with the ring provider (no C
/// toolchain needed). Must run before the first HTTP client is built;
/// calling it again is harmless.
pub fn install_crypto_provider() {
    // An error only says a provider is installed already, which is the goal.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The site could not be set up.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot start: {}", self.0)
    }
}

impl std::error::Error for StartError {}
