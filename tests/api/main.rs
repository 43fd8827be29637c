//! Black-box tests: each starts the real server on a free port with a fresh
//! database and speaks HTTP to it, as a client of API.md would. One test
//! binary, because linking dominates build time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod concurrency;
mod console;
mod email;
mod errors;
mod flow;
mod growth;
mod harness;
mod login_audit;
mod login_concurrency;
mod login_qr;
mod login_scan;
mod login_sessions;
mod login_verify;
mod mobile;
mod openapi;
mod operations;
mod proxy;
mod queue;
mod rates;
mod registration;
mod schedule;
mod secrets;
mod services;
mod signing_keys;
mod smtp;
mod users;
mod web;
