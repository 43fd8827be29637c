//! Prometheus metrics: request counts and latency histograms per route and
//! status. The recorder belongs to the app state rather than being installed
//! globally, so several servers can run in one process (the tests do).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

use metrics::Recorder;

use crate::domain::secret::TokenHash;
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

const LATENCY: &str = "http_request_duration_seconds";
const REQUESTS: &str = "http_requests_total";

#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl Metrics {
    pub fn new() -> Self {
        let buckets = [
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let builder = PrometheusBuilder::new();
        // Setting buckets only fails for an empty list.
        let builder =
            match builder.set_buckets_for_metric(Matcher::Full(LATENCY.to_owned()), &buckets) {
                Ok(b) => b,
                Err(_) => PrometheusBuilder::new(),
            };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let this = Self {
            recorder: Arc::new(recorder),
            handle,
        };
        this.describe();
        this
    }

    fn describe(&self) {
        metrics::with_local_recorder(self.recorder.as_ref(), || {
            metrics::describe_counter!(REQUESTS, "HTTP requests by method, route and status");
            metrics::describe_histogram!(
                LATENCY,
                metrics::Unit::Seconds,
                "HTTP request latency by method, route and status"
            );
        });
    }

    pub fn record_request(&self, method: &str, route: &str, status: u16, latency: Duration) {
        let recorder: &dyn Recorder = self.recorder.as_ref();
        metrics::with_local_recorder(recorder, || {
            let labels = [
                ("method", method_label(method).to_owned()),
                ("route", route.to_owned()),
                ("status", status.to_string()),
            ];
            metrics::counter!(REQUESTS, &labels).increment(1);
            metrics::histogram!(LATENCY, &labels).record(latency.as_secs_f64());
        });
    }

    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Drains histogram samples into their buckets; run periodically so
    /// memory stays flat between scrapes.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}

/// The method as a label: the standard ones by name, anything a client made
/// up as `other`, so unauthenticated requests cannot grow a series each
/// (20,000 made-up methods once took `/metrics` to 34 MB). Routes are
/// bounded already: the router's templates, or `unmatched`.
fn method_label(method: &str) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    STANDARD
        .into_iter()
        .find(|standard| *standard == method)
        .unwrap_or("other")
}

/// Who may read `/metrics` (`METRICS_ALLOW`, `METRICS_BEARER_TOKEN`).
#[derive(Debug, Clone, Default)]
pub struct MetricsAccess {
    /// Empty: any address.
    allow: Vec<IpNet>,
    /// Only the token's hash is kept, compared in constant time.
    token: Option<TokenHash>,
}

/// Why a scrape was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Address,
    Token,
}

impl MetricsAccess {
    pub fn new(allow: Vec<IpNet>, token: Option<&str>) -> Self {
        Self {
            allow,
            token: token.map(TokenHash::of),
        }
    }

    /// Checks the client's address (`None`: unknown), then the bearer token.
    pub fn check(&self, client: Option<IpAddr>, bearer: Option<&str>) -> Result<(), Refused> {
        if !self.allow.is_empty() {
            let allowed = client.is_some_and(|ip| {
                let ip = ip.to_canonical();
                self.allow.iter().any(|net| net.contains(&ip))
            });
            if !allowed {
                return Err(Refused::Address);
            }
        }
        match (&self.token, bearer) {
            (None, _) => Ok(()),
            (Some(expected), Some(given)) if expected.matches(&TokenHash::of(given)) => Ok(()),
            (Some(_), _) => Err(Refused::Token),
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn by_default_anyone_may_read() {
        assert_eq!(
            MetricsAccess::default().check(ip("203.0.113.1"), None),
            Ok(())
        );
        assert_eq!(MetricsAccess::default().check(None, None), Ok(()));
    }

    #[test]
    fn the_address_list_and_the_token_are_both_checked() {
        let access = MetricsAccess::new(
            vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
            Some("a metrics scrape secret"),
        );
        let token = Some("a metrics scrape secret");
        assert_eq!(access.check(ip("10.1.2.3"), token), Ok(()));
        assert_eq!(access.check(ip("::ffff:10.1.2.3"), token), Ok(()));
        assert_eq!(access.check(ip("::1"), token), Ok(()));
        assert_eq!(access.check(ip("192.0.2.1"), token), Err(Refused::Address));
        assert_eq!(access.check(None, token), Err(Refused::Address));
        assert_eq!(access.check(ip("10.1.2.3"), None), Err(Refused::Token));
        assert_eq!(
            access.check(ip("10.1.2.3"), Some("a metrics scrape secreT")),
            Err(Refused::Token)
        );
    }
}
