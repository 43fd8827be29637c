//! Per-request measurements: every latency is kept (as microseconds) and
//! sorted at the end, so percentiles are exact rather than estimated.

use std::time::Duration;

use serde::Serialize;

/// What a measurement is of. `Login` is not a request but the whole
/// generate → scan → verify sequence, timed from its first byte to its last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Healthz,
    Validate,
    Generate,
    Scan,
    Verify,
    Login,
    Logout,
    Register,
    AdminLogin,
    Approve,
    MobileLogin,
    RegisterService,
    /// A wrong password the server checked (401): a guess that got through.
    GuessChecked,
    /// A guess refused before any check (429): the account's delay, or a rate.
    GuessRefused,
}

impl Kind {
    const COUNT: usize = 14;
    pub const ALL: [Kind; Kind::COUNT] = [
        Kind::Healthz,
        Kind::Validate,
        Kind::Generate,
        Kind::Scan,
        Kind::Verify,
        Kind::Login,
        Kind::Logout,
        Kind::Register,
        Kind::AdminLogin,
        Kind::Approve,
        Kind::MobileLogin,
        Kind::RegisterService,
        Kind::GuessChecked,
        Kind::GuessRefused,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Healthz => "healthz",
            Kind::Validate => "validate",
            Kind::Generate => "generate",
            Kind::Scan => "scan",
            Kind::Verify => "verify",
            Kind::Login => "login (3 requests)",
            Kind::Logout => "logout",
            Kind::Register => "register",
            Kind::AdminLogin => "admin-login",
            Kind::Approve => "approve",
            Kind::MobileLogin => "mobile-login",
            Kind::RegisterService => "register-service",
            Kind::GuessChecked => "guess (checked, 401)",
            Kind::GuessRefused => "guess (refused, 429)",
        }
    }

    /// Whether this is one HTTP request (not a sequence of them).
    pub fn is_request(self) -> bool {
        self != Kind::Login
    }

    /// Requests that hash a password on purpose: slow by design.
    pub fn hashes_password(self) -> bool {
        matches!(
            self,
            Kind::Register | Kind::AdminLogin | Kind::MobileLogin | Kind::GuessChecked
        )
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Default)]
struct Samples {
    micros: Vec<u32>,
    errors: u64,
    invalid: u64,
}

/// Kept per virtual client (no sharing while measuring), merged at the end.
#[derive(Debug, Default)]
pub struct Recorder {
    kinds: [Samples; Kind::COUNT],
    /// Failures that belong to no request kind (a client that could not connect).
    other_errors: u64,
    failures: Vec<String>,
}

/// Enough distinct examples to see what went wrong, without flooding the terminal.
const KEPT_FAILURES: usize = 10;

impl Recorder {
    pub fn ok(&mut self, kind: Kind, elapsed: Duration) {
        let micros = u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX);
        self.kinds[kind.index()].micros.push(micros);
    }

    pub fn error(&mut self, kind: Kind, what: String) {
        self.kinds[kind.index()].errors += 1;
        self.keep(format!("{}: {what}", kind.name()));
    }

    /// A validation answered `valid: false`: a correct answer, counted apart.
    pub fn invalid(&mut self, kind: Kind) {
        self.kinds[kind.index()].invalid += 1;
    }

    pub fn other_error(&mut self, what: String) {
        self.other_errors += 1;
        self.keep(what);
    }

    fn keep(&mut self, what: String) {
        if self.failures.len() < KEPT_FAILURES && !self.failures.contains(&what) {
            self.failures.push(what);
        }
    }

    pub fn merge(&mut self, other: Recorder) {
        for (mine, theirs) in self.kinds.iter_mut().zip(other.kinds) {
            mine.micros.extend(theirs.micros);
            mine.errors += theirs.errors;
            mine.invalid += theirs.invalid;
        }
        self.other_errors += other.other_errors;
        for failure in other.failures {
            self.keep(failure);
        }
    }

    pub fn errors(&self) -> u64 {
        self.other_errors + self.kinds.iter().map(|s| s.errors).sum::<u64>()
    }

    pub fn failures(&self) -> &[String] {
        &self.failures
    }

    pub fn last_failure(&self) -> String {
        self.failures
            .last()
            .cloned()
            .unwrap_or_else(|| "no answer".to_owned())
    }

    /// One row per kind that was measured, in `Kind::ALL` order.
    pub fn rows(self, elapsed: Duration, label: impl Fn(Kind) -> String) -> Vec<Row> {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let mut rows = Vec::new();
        for (kind, mut samples) in Kind::ALL.into_iter().zip(self.kinds) {
            if samples.micros.is_empty() && samples.errors == 0 {
                continue;
            }
            samples.micros.sort_unstable();
            let ok = samples.micros.len() as u64;
            rows.push(Row {
                request: label(kind),
                is_request: kind.is_request(),
                hashes_password: kind.hashes_password(),
                ok,
                errors: samples.errors,
                invalid: samples.invalid,
                per_sec: ok as f64 / secs,
                p50_ms: percentile_ms(&samples.micros, 0.50),
                p99_ms: percentile_ms(&samples.micros, 0.99),
                max_ms: percentile_ms(&samples.micros, 1.0),
            });
        }
        rows
    }
}

/// Measured figures of one kind of request within one scenario run.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub request: String,
    #[serde(skip)]
    pub is_request: bool,
    #[serde(skip)]
    pub hashes_password: bool,
    /// Answered with a 2xx.
    pub ok: u64,
    /// Anything else: a non-2xx status, an unreadable body, a broken connection.
    pub errors: u64,
    /// `validate-session` answers with `valid: false` (among `ok`).
    pub invalid: u64,
    /// Successful requests (or logins) per second.
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Nearest-rank percentile of sorted samples.
fn percentile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).map_or(0.0, |&us| f64::from(us) / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile_ms(&samples, 0.5), 50.0);
        assert_eq!(percentile_ms(&samples, 0.99), 99.0);
        assert_eq!(percentile_ms(&samples, 1.0), 100.0);
        assert_eq!(percentile_ms(&[7000], 0.99), 7.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
    }

    #[test]
    fn merged_recorders_add_up() {
        let mut a = Recorder::default();
        a.ok(Kind::Validate, Duration::from_millis(2));
        a.invalid(Kind::Validate);
        let mut b = Recorder::default();
        b.ok(Kind::Validate, Duration::from_millis(4));
        b.error(Kind::Scan, "409 qr_already_scanned".to_owned());
        a.merge(b);
        assert_eq!(a.errors(), 1);
        let rows = a.rows(Duration::from_secs(2), |k| k.name().to_owned());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].request, "validate");
        assert_eq!(rows[0].ok, 2);
        assert_eq!(rows[0].invalid, 1);
        assert_eq!(rows[0].per_sec, 1.0);
        assert_eq!(rows[1].errors, 1);
    }
}
