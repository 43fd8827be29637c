//! Which address a request comes from. The TCP peer, unless that peer is a
//! proxy we were told to trust (`TRUSTED_PROXIES`): then `X-Forwarded-For`
//! is walked from the right, each trusted hop vouching for the entry before
//! it, and the first address no trusted proxy owns is the client. Entries
//! left of that came from the client and may be forged.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` entries are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    /// The deprecated `TRUST_PROXY_HEADERS=true`: whatever the peer is, it
    /// is believed for one hop (the entry it appended) and no further.
    legacy_one_hop: bool,
}

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>, legacy_one_hop: bool) -> Self {
        Self {
            nets,
            legacy_one_hop,
        }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a request from `peer` with `headers`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !(self.legacy_one_hop || self.trusts(peer)) {
            return peer;
        }
        // Several header lines are one list, in order (RFC 9110 §5.3): a
        // proxy that adds its own line must not let the client's first line win.
        let mut entries = Vec::new();
        for line in headers.get_all("x-forwarded-for") {
            let Ok(line) = line.to_str() else {
                // Not text: nothing in it can be believed; the peer is the client.
                return peer;
            };
            entries.extend(line.split(','));
        }
        let mut client = peer;
        for entry in entries.iter().rev() {
            let Some(ip) = parse_entry(entry) else {
                // A malformed entry ends the walk at the last address a
                // trusted hop gave us, never past it.
                return client;
            };
            client = ip;
            if self.legacy_one_hop || !self.trusts(ip) {
                return client;
            }
        }
        // Every hop was trusted: the leftmost is as near the client as we get.
        client
    }
}

/// One `X-Forwarded-For` entry: an address, or an address with a port as
/// some load balancers write it (`203.0.113.7:51234`, `[2001:db8::1]:443`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|n| n.parse().unwrap()).collect(), false)
    }

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append("x-forwarded-for", HeaderValue::from_str(line).unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let p = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            p.client_ip(ip("198.51.100.1"), &headers(&["203.0.113.5"])),
            ip("198.51.100.1")
        );
        assert_eq!(
            TrustedProxies::default().client_ip(ip("127.0.0.1"), &headers(&["203.0.113.5"])),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_walk_stops_at_the_first_untrusted_entry_from_the_right() {
        let p = proxies(&["10.0.0.0/8", "::1/128"]);
        let h = headers(&["192.0.2.66, 203.0.113.5, 10.1.1.1"]);
        assert_eq!(p.client_ip(ip("10.0.0.2"), &h), ip("203.0.113.5"));
        assert_eq!(p.client_ip(ip("::1"), &h), ip("203.0.113.5"));
    }

    #[test]
    fn a_forged_first_header_line_does_not_win() {
        let p = proxies(&["127.0.0.1/32"]);
        let h = headers(&["192.0.2.66", "203.0.113.5"]);
        assert_eq!(p.client_ip(ip("127.0.0.1"), &h), ip("203.0.113.5"));
    }

    #[test]
    fn all_trusted_gives_the_leftmost_and_no_header_gives_the_peer() {
        let p = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            p.client_ip(ip("10.0.0.2"), &headers(&["10.0.0.9, 10.0.0.3"])),
            ip("10.0.0.9")
        );
        assert_eq!(p.client_ip(ip("10.0.0.2"), &headers(&[])), ip("10.0.0.2"));
    }

    #[test]
    fn a_malformed_entry_stops_the_walk_at_the_last_trusted_address() {
        let p = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            p.client_ip(ip("10.0.0.2"), &headers(&["203.0.113.5, bogus, 10.0.0.3"])),
            ip("10.0.0.3")
        );
        assert_eq!(
            p.client_ip(ip("10.0.0.2"), &headers(&["203.0.113.5, "])),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn entries_with_ports_and_mapped_addresses_are_understood() {
        let p = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            p.client_ip(ip("::ffff:10.0.0.2"), &headers(&["203.0.113.5:4711"])),
            ip("203.0.113.5")
        );
        assert_eq!(
            p.client_ip(ip("10.0.0.2"), &headers(&["[2001:db8::1]:443"])),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn the_deprecated_switch_believes_one_hop_only() {
        let p = TrustedProxies::new(Vec::new(), true);
        let h = headers(&["192.0.2.66, 203.0.113.5"]);
        assert_eq!(p.client_ip(ip("198.51.100.1"), &h), ip("203.0.113.5"));
    }
}
