//! Behind a trusted proxy the client's address is the `X-Forwarded-For`
//! entry that proxy appended (the last one); otherwise the header is ignored,
//! since any client can send it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flow::{CLIENT_IP, Flow};
use crate::harness::{Options, TestApp, expect_json};

/// Scans a fresh QR code with `X-Forwarded-For: forwarded`; the scan body.
async fn scan_through_proxy(flow: &Flow, forwarded: &str) -> Value {
    let qr = flow.qr().await;
    let res = flow
        .app
        .client
        .post(flow.app.url("/api/auth/qr/scan"))
        .header("x-forwarded-for", forwarded)
        .json(&json!({"qr_token": qr, "auth_key": flow.auth_key}))
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_last_forwarded_address_is_the_client() {
    let app = TestApp::spawn_with(Options {
        trust_proxy_headers: true,
        ..Options::default()
    })
    .await;
    let flow = Flow::start_on(app).await;
    // The first entry is whatever the client claimed; the proxy appended the real one.
    let forged_first = scan_through_proxy(&flow, &format!("{CLIENT_IP}, 198.51.100.9")).await;
    assert_eq!(forged_first["requester"]["same_network"], false);
    let real_last = scan_through_proxy(&flow, &format!("198.51.100.9, {CLIENT_IP}")).await;
    assert_eq!(real_last["requester"]["same_network"], true);
}

#[tokio::test]
async fn without_a_trusted_proxy_the_header_is_ignored() {
    let flow = Flow::start().await;
    let scanned = scan_through_proxy(&flow, CLIENT_IP).await;
    assert_eq!(
        scanned["requester"]["same_network"], false,
        "the phone is 127.0.0.1"
    );
}
