//! The client's address comes from `X-Forwarded-For` only when the TCP peer
//! is a trusted proxy (`TRUSTED_PROXIES`), walked from the right past the
//! trusted hops; from anyone else the header is ignored, since any client can
//! send it. The test client's loopback address plays the proxy. Whether the
//! phone's address was taken as `CLIENT_IP` (the browser's, reported by the
//! service) shows in the scan's `same_network`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flow::{CLIENT_IP, Flow};
use crate::harness::{Options, TestApp, expect_json};

/// Scans a fresh QR code with one `X-Forwarded-For` line per entry of
/// `lines`; whether the phone counted as on the browser's network.
async fn same_network_through(flow: &Flow, lines: &[&str]) -> bool {
    let qr = flow.qr().await;
    let mut req = flow.app.client.post(flow.app.url("/api/auth/qr/scan"));
    for line in lines {
        req = req.header("x-forwarded-for", *line);
    }
    let res = req
        .json(&json!({"qr_token": qr, "auth_key": flow.auth_key}))
        .send()
        .await
        .unwrap();
    let body: Value = expect_json(res, StatusCode::OK).await;
    body["requester"]["same_network"].as_bool().unwrap()
}

async fn flow_with(args: &[&str]) -> Flow {
    let app = TestApp::spawn_with(Options {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        ..Options::default()
    })
    .await;
    Flow::start_on(app).await
}

#[tokio::test]
async fn without_trusted_proxies_the_header_is_ignored() {
    let flow = Flow::start().await;
    assert!(
        !same_network_through(&flow, &[CLIENT_IP]).await,
        "the phone is 127.0.0.1"
    );
}

#[tokio::test]
async fn a_spoofed_header_from_an_untrusted_peer_is_ignored() {
    let flow = flow_with(&["--trusted-proxies", "10.0.0.0/8,::1/128"]).await;
    assert!(!same_network_through(&flow, &[CLIENT_IP]).await);
}

#[tokio::test]
async fn from_a_trusted_proxy_the_entry_it_appended_is_the_client() {
    let flow = flow_with(&["--trusted-proxies", "127.0.0.1/32"]).await;
    assert!(same_network_through(&flow, &[CLIENT_IP]).await);
    // The first entry is whatever the client claimed; the proxy appended the real one.
    assert!(same_network_through(&flow, &[&format!("198.51.100.9, {CLIENT_IP}")]).await);
    assert!(!same_network_through(&flow, &[&format!("{CLIENT_IP}, 198.51.100.9")]).await);
}

#[tokio::test]
async fn several_trusted_hops_are_walked_past() {
    let flow = flow_with(&["--trusted-proxies", "127.0.0.1/32,10.0.0.0/8"]).await;
    let chain = format!("192.0.2.1, {CLIENT_IP}, 10.2.0.1, 10.0.0.7");
    assert!(same_network_through(&flow, &[&chain]).await);
    // With only the outer proxy trusted, the inner one is the client.
    let flow = flow_with(&["--trusted-proxies", "127.0.0.1/32"]).await;
    assert!(!same_network_through(&flow, &[&format!("{CLIENT_IP}, 10.0.0.7")]).await);
}

#[tokio::test]
async fn a_forged_first_header_line_no_longer_wins() {
    let flow = flow_with(&["--trusted-proxies", "127.0.0.1/32"]).await;
    // A client's own header line comes first; the proxy adds its line after it.
    assert!(!same_network_through(&flow, &[CLIENT_IP, "198.51.100.9"]).await);
    assert!(same_network_through(&flow, &["198.51.100.9", CLIENT_IP]).await);
}

#[tokio::test]
async fn a_malformed_entry_stops_the_walk() {
    let flow = flow_with(&["--trusted-proxies", "127.0.0.1/32"]).await;
    // Past the junk nothing is vouched for: the proxy itself is the client.
    assert!(!same_network_through(&flow, &[&format!("{CLIENT_IP}, not-an-address")]).await);
    assert!(!same_network_through(&flow, &[&format!("{CLIENT_IP},")]).await);
}

#[tokio::test]
async fn the_deprecated_switch_believes_one_hop_only() {
    let flow = flow_with(&["--trust-proxy-headers", "true"]).await;
    assert!(same_network_through(&flow, &[&format!("10.0.0.7, {CLIENT_IP}")]).await);
    // It no longer walks: the entry left of the last one is never taken.
    assert!(!same_network_through(&flow, &[&format!("{CLIENT_IP}, 10.0.0.7")]).await);
}

/// Scans, as a phone at `phone_ip` behind the trusted proxy, a QR code that
/// ServiceB asked for on behalf of a browser at `browser_ip`.
async fn same_network_between(flow: &Flow, browser_ip: &str, phone_ip: &str) -> bool {
    let body =
        json!({"service_id": flow.service_id, "api_key": flow.api_key, "client_ip": browser_ip});
    let created: Value = expect_json(flow.generate_with(&body).await, StatusCode::CREATED).await;
    let res = flow
        .app
        .client
        .post(flow.app.url("/api/auth/qr/scan"))
        .header("x-forwarded-for", phone_ip)
        .json(&json!({"qr_token": created["qr_token"], "auth_key": flow.auth_key}))
        .send()
        .await
        .unwrap();
    let scanned: Value = expect_json(res, StatusCode::OK).await;
    scanned["requester"]["same_network"].as_bool().unwrap()
}

#[tokio::test]
async fn on_ipv6_the_same_64_is_the_same_network_and_mapped_ipv4_is_ipv4() {
    let flow = flow_with(&["--trusted-proxies", "127.0.0.1/32"]).await;
    // Each device on an IPv6 network has an address of its own in one /64.
    assert!(same_network_between(&flow, "2001:db8:1:2::10", "2001:db8:1:2:abcd::7").await);
    assert!(!same_network_between(&flow, "2001:db8:1:2::10", "2001:db8:1:3::10").await);
    // A dual-stack proxy may write an IPv4 client in its IPv6 form.
    assert!(same_network_between(&flow, CLIENT_IP, &format!("::ffff:{CLIENT_IP}")).await);
    assert!(!same_network_between(&flow, CLIENT_IP, "203.0.113.8").await);
}
