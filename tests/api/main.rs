//! Black-box tests: each starts the real server on a free port with a fresh
//! database and speaks HTTP to it, as a client of API.md would. One test
//! binary, because linking dominates build time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod admin_tokens;
mod concurrency;
mod console;
mod cors;
mod crash;
mod email;
mod errors;
mod flow;
mod growth;
mod harness;
mod hostile;
#[path = "../postgres/instance.rs"]
mod instance;
mod login_audit;
mod login_concurrency;
mod login_qr;
mod login_scan;
mod login_sessions;
mod login_verify;
mod metrics_access;
mod mobile;
mod oidc_clients;
mod oidc_flow;
mod oidc_library;
mod openapi;
mod operations;
mod password_rules;
mod proxy;
mod queue;
mod rates;
mod registration;
mod schedule;
mod secrets;
mod services;
mod signing_keys;
mod slow_clients;
mod smtp;
mod throttle;
mod unicode_forms;
mod unicode_input;
mod users;
mod web;
