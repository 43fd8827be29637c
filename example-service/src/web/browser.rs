//! What a request tells about the visitor's browser: its cookies, its
//! address and its User-Agent (both passed on to Central Auth, which shows
//! them on the phone so the person can spot a login they did not start).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;

use crate::central_auth::Requester;
use crate::secret::SessionToken;
use crate::web::AppState;
use crate::web::cookies;

/// Central Auth accepts at most this many characters of User-Agent.
const MAX_USER_AGENT: usize = 1024;

pub struct Browser {
    pub visitor_id: Option<String>,
    pub session: Option<SessionToken>,
    pub requester: Requester,
}

impl FromRequestParts<AppState> for Browser {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let headers = &parts.headers;
        let user_agent = headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.trim().chars().take(MAX_USER_AGENT).collect::<String>())
            .filter(|ua| !ua.is_empty());
        Ok(Browser {
            visitor_id: cookies::read(headers, cookies::VISITOR),
            session: cookies::read(headers, cookies::SESSION).map(SessionToken::new),
            requester: Requester {
                ip: client_ip(parts, state.trust_proxy_headers).map(|ip| ip.to_string()),
                user_agent,
            },
        })
    }
}

fn client_ip(parts: &Parts, trust_proxy_headers: bool) -> Option<IpAddr> {
    // The last entry is the one our own proxy added; earlier ones come from
    // the client and can say anything.
    let forwarded = trust_proxy_headers
        .then(|| parts.headers.get_all("x-forwarded-for"))
        .and_then(|values| values.iter().filter_map(|v| v.to_str().ok()).next_back())
        .and_then(|list| list.rsplit(',').next())
        .and_then(|ip| ip.trim().parse::<IpAddr>().ok());
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    // `::ffff:1.2.3.4` is reported as the IPv4 address people recognise.
    forwarded.or(peer).map(|ip| ip.to_canonical())
}
