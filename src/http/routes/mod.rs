//! The routes of API.md, one module per area. Each handler's OpenAPI entry is
//! registered together with it (`routes!`), so the document cannot drift.

pub mod admin;
pub mod admin_tokens;
pub mod auth;
pub mod mobile;
pub mod ops;
pub mod outbox;
pub mod registration;
pub mod reports;
pub mod service_oidc;
pub mod services;
pub mod sessions;
pub mod system;
pub mod users;
pub mod well_known;
