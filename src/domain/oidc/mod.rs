//! The OpenID Connect provider: services are its clients, and the QR code
//! and PIN are how a person proves who they are. The authorization code
//! flow with PKCE, refresh tokens that rotate, and the same session model
//! (history, operating hours, deactivation) as every other login.

pub mod client;
