//! Slow and greedy clients over raw TCP: a request whose headers never
//! finish is cut off after `HEADER_READ_TIMEOUT_SECS`, so is a kept-alive
//! connection that sends nothing more, a body that never finishes is 408
//! after `REQUEST_TIMEOUT_SECS`, and past `MAX_CONNECTIONS` a new
//! connection waits until one closes.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{Options, TestApp};

async fn app_with(args: &[&str]) -> TestApp {
    TestApp::spawn_with(Options {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        ..Options::default()
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection; what it sent. Fails if it
/// is still open after `limit` (far above every timeout under test).
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&out).into_owned()
}

const GET_HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";

#[tokio::test]
async fn half_a_request_line_is_cut_off_after_the_header_timeout() {
    let app = app_with(&["--header-read-timeout-secs", "1"]).await;
    let mut stream = connect(&app).await;
    let started = Instant::now();
    stream.write_all(b"GET /hea").await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "cut off before the timeout"
    );
    assert!(!answer.contains("200 OK"), "{answer}");
    // The server itself is fine.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
    let app = app_with(&["--header-read-timeout-secs", "1"]).await;
    let mut stream = connect(&app).await;
    stream.write_all(GET_HEALTH).await.unwrap();
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Nothing more is sent: the connection does not stay open for ever.
    read_until_closed(&mut stream, Duration::from_secs(20)).await;
}

#[tokio::test]
async fn a_body_that_never_finishes_is_408_request_timeout() {
    let app = app_with(&["--request-timeout-secs", "1"]).await;
    let mut stream = connect(&app).await;
    let head = "POST /api/register HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
                Content-Length: 200\r\n\r\n{\"username\": ";
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
}

#[tokio::test]
async fn past_the_connection_cap_a_new_connection_waits_until_one_closes() {
    let app = app_with(&["--max-connections", "1", "--header-read-timeout-secs", "60"]).await;
    let holder = connect(&app).await;
    // Let the server accept the holder before the next one knocks.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut waiting = connect(&app).await;
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let early = tokio::time::timeout(Duration::from_millis(800), waiting.read(&mut buf)).await;
    assert!(early.is_err(), "served past the cap: {early:?}");
    drop(holder);
    let answer = read_until_closed(&mut waiting, Duration::from_secs(20)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn shutdown_closes_idle_connections_and_finishes() {
    let app = app_with(&[]).await;
    let mut idle = connect(&app).await;
    idle.write_all(GET_HEALTH).await.unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let base = app.base.clone();
    tokio::time::timeout(Duration::from_secs(20), app.stop())
        .await
        .expect("an idle kept-alive connection does not hold up shutdown");
    read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(reqwest::get(format!("{base}/healthz")).await.is_err());
}
