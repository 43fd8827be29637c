//! Central Auth: one server that many services use to log their users in
//! with a QR code and a PIN instead of passwords.
//!
//! Layers, outside in: [`http`] (routes, extractors, problem+json) →
//! [`domain`] (the rules) → [`storage`] (all SQL).

pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod email;
mod fresh_cache;
pub mod http;
pub mod startup;
pub mod storage;
pub mod telemetry;
