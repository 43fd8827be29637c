//! Black-box tests: a real Central Auth in-process, ServiceB in front of it,
//! both on port 0, driven over HTTP like a browser and a phone would.
//! One test binary, because linking dominates build time.

// The harness is test code outside `#[test]` functions: a failed step
// should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;
mod login;
mod outages;
mod pages;
mod sessions;
