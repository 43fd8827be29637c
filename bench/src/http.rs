//! One keep-alive HTTP/1.1 connection per virtual client, on hyper's
//! connection-level API: no pool, no redirects, nothing between the clock
//! and the socket that could make the generator the bottleneck.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::Error;

/// Where the server listens: plain `http://host:port` (loopback is the point).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub addr: SocketAddr,
    pub authority: String,
    /// Every connection speaks for a client address of its own
    /// (`X-Forwarded-For`, to a server that trusts the harness as its
    /// proxy): with the limits on, per-address limits then count each
    /// virtual client as one person's device, not all of them as one.
    pub forwarded: bool,
}

impl Endpoint {
    pub async fn parse(url: &str) -> Result<Self, Error> {
        let authority = url
            .strip_prefix("http://")
            .ok_or_else(|| Error::Usage(format!("{url}: only http:// targets are supported")))?
            .trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(Error::Usage(format!(
                "{url}: give the server's base URL, without a path"
            )));
        }
        let addr = tokio::net::lookup_host(authority)
            .await?
            .next()
            .ok_or_else(|| Error::Usage(format!("{url}: the host does not resolve")))?;
        Ok(Self {
            addr,
            authority: authority.to_owned(),
            forwarded: false,
        })
    }

    pub fn from_addr(addr: SocketAddr) -> Self {
        Self {
            addr,
            authority: addr.to_string(),
            forwarded: false,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.authority)
    }
}

pub struct Response {
    pub status: StatusCode,
    pub body: Bytes,
}

pub struct Conn {
    endpoint: Endpoint,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// The client address this connection claims, when the endpoint is `forwarded`.
    forwarded_for: Option<String>,
}

/// Hands out 10.0.0.1, 10.0.0.2, …: one address per virtual client of the run.
fn next_client_address() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
    Ipv4Addr::from(0x0a00_0000 | n).to_string()
}

impl Conn {
    pub fn new(endpoint: Endpoint) -> Self {
        let forwarded_for = endpoint.forwarded.then(next_client_address);
        Self {
            endpoint,
            sender: None,
            forwarded_for,
        }
    }

    /// From now on this connection speaks for another client address (a
    /// new person registering, say), when the endpoint is `forwarded`.
    pub fn new_address(&mut self) {
        if self.endpoint.forwarded {
            self.forwarded_for = Some(next_client_address());
        }
    }

    /// Opens the connection now, so that the timed phase starts with it open.
    pub async fn connect(&mut self) -> Result<(), String> {
        if self.sender.as_ref().is_none_or(SendRequest::is_closed) {
            self.sender = Some(open(&self.endpoint).await?);
        }
        Ok(())
    }

    /// Sends one request and reads the whole answer. A broken connection is
    /// dropped and reopened by the next request.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Response, String> {
        let result = self.try_request(method, path, bearer, body).await;
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn try_request(
        &mut self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Response, String> {
        self.connect().await?;
        let sender = self.sender.as_mut().ok_or("not connected")?;
        sender.ready().await.map_err(|e| e.to_string())?;
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, &self.endpoint.authority);
        if let Some(token) = bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(address) = &self.forwarded_for {
            request = request.header("x-forwarded-for", address);
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Bytes::from(json)
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(body))
            .map_err(|e| format!("building the request: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the body: {e}"))?
            .to_bytes();
        Ok(Response { status, body })
    }
}

async fn open(endpoint: &Endpoint) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = TcpStream::connect(endpoint.addr)
        .await
        .map_err(|e| format!("connecting to {}: {e}", endpoint.addr))?;
    // Small requests on a keep-alive connection: Nagle would add delay.
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the server closes; the next
        // request then sees the closed sender and reconnects.
        let _ = connection.await;
    });
    Ok(sender)
}
