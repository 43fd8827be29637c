//! Request rates: a keyed GCRA limiter (governor) and the key an address
//! is counted under. In memory, so per instance: each instance of a
//! cluster grants the full rate on its own.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::domain::DomainError;

/// A sustained rate with the burst allowed on top of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

/// Requests counted per key. `None` inside means "no limit" (the rate was
/// 0, or `RATE_LIMITS=off`), so callers need not branch.
pub struct KeyedLimit<K: std::hash::Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
}

impl<K: std::hash::Hash + Eq + Clone> KeyedLimit<K> {
    pub fn new(rate: Option<Rate>) -> Self {
        let limiter = rate.and_then(|rate| {
            let per_minute = NonZeroU32::new(rate.per_minute)?;
            let burst = NonZeroU32::new(rate.burst).unwrap_or(per_minute);
            // One request replenishes every 60 s / per_minute.
            let period = Duration::from_secs(60) / per_minute.get();
            let quota = Quota::with_period(period)?.allow_burst(burst);
            Some(DefaultKeyedRateLimiter::keyed(quota))
        });
        Self { limiter }
    }

    /// Counts one request of `key`; refused with the whole seconds (at
    /// least 1) until the next one is allowed.
    pub fn check(&self, key: &K) -> Result<(), DomainError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Rounded up: a client that waits exactly Retry-After succeeds.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            DomainError::RateLimited {
                retry_after: secs.max(1),
            }
        })
    }

    /// Forgets keys whose state is back to full (called on a timer), so the
    /// map holds only the keys seen within the last burst's worth of time.
    pub fn upkeep(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Keys held now (for tests and metrics).
    pub fn len(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The key an address is counted under: its network (`network_of`), since
/// one home or office network gets a whole IPv6 /64 and a client could
/// otherwise take a new address per request.
pub fn address_key(ip: Option<&str>) -> IpAddr {
    match ip.and_then(|ip| ip.parse::<IpAddr>().ok()) {
        Some(ip) => network_of(ip),
        // No peer address (an in-process call): all such callers share one key.
        None => IpAddr::from([0, 0, 0, 0]),
    }
}

/// The network an address stands for: an IPv4 address itself, an IPv6
/// address its /64. `to_canonical`: a server listening on `[::]` sees IPv4
/// clients as `::ffff:a.b.c.d`; masked to a /64 they would all be one.
pub fn network_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_mapped_addresses_count_as_ipv4() {
        assert_eq!(
            address_key(Some("::ffff:203.0.113.7")),
            address_key(Some("203.0.113.7"))
        );
        assert_ne!(
            address_key(Some("::ffff:203.0.113.7")),
            address_key(Some("::ffff:203.0.113.8"))
        );
    }

    #[test]
    fn ipv6_counts_by_its_64_and_ipv4_by_itself() {
        assert_eq!(
            address_key(Some("2001:db8:1:2:aaaa::1")),
            address_key(Some("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            address_key(Some("2001:db8:1:2::1")),
            address_key(Some("2001:db8:1:3::1"))
        );
        assert_ne!(address_key(Some("10.0.0.1")), address_key(Some("10.0.0.2")));
    }

    #[test]
    fn past_the_burst_is_refused_with_a_whole_second_at_least() {
        let limit = KeyedLimit::new(Some(Rate {
            per_minute: 1,
            burst: 2,
        }));
        assert!(limit.check(&1).is_ok());
        assert!(limit.check(&1).is_ok());
        match limit.check(&1) {
            Err(DomainError::RateLimited { retry_after }) => {
                assert!((1..=60).contains(&retry_after), "{retry_after}");
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
        // Another key has its own budget.
        assert!(limit.check(&2).is_ok());
        assert_eq!(limit.len(), 2);
    }

    #[test]
    fn no_rate_means_no_limit() {
        let limit = KeyedLimit::new(None);
        for _ in 0..1000 {
            assert!(limit.check(&1).is_ok());
        }
        assert!(limit.is_empty());
    }
}
