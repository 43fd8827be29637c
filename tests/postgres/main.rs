//! Tests that need PostgreSQL itself: several `central-auth` processes on one
//! database, and a database outage. `scripts/test` starts the servers and
//! sets the variables; without them these tests fail, they never skip.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../api/harness.rs"]
#[allow(dead_code)]
mod harness;

mod instance;
mod outage;
mod two_instances;

/// The PostgreSQL server for these tests, from the environment.
pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: these tests need PostgreSQL; run them with scripts/test")
    })
}
