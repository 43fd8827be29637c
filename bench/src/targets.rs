//! The goals of issue 7, checked against a run's figures. A target the run
//! did not measure (scenario or concurrency not run) is "not measured".

use serde::Serialize;

use crate::report::Memory;
use crate::scenarios::{Scenario, ScenarioResult};

/// The concurrency at which the latency target is set.
const LATENCY_CLIENTS: usize = 64;

#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub target: String,
    pub measured: String,
    /// `None`: not measured in this run.
    pub met: Option<bool>,
}

fn check(target: impl Into<String>, measured: Option<(String, bool)>) -> TargetCheck {
    let (measured, met) = match measured {
        Some((text, met)) => (text, Some(met)),
        None => ("not measured".to_owned(), None),
    };
    TargetCheck {
        target: target.into(),
        measured,
        met,
    }
}

fn of(results: &[ScenarioResult], scenario: Scenario) -> impl Iterator<Item = &ScenarioResult> {
    results
        .iter()
        .filter(move |r| r.scenario == scenario.name())
}

fn best(results: &[ScenarioResult], scenario: Scenario) -> Option<&ScenarioResult> {
    of(results, scenario).max_by(|a, b| a.headline_per_sec.total_cmp(&b.headline_per_sec))
}

pub fn evaluate(results: &[ScenarioResult], memory: &Memory, backend: &str) -> Vec<TargetCheck> {
    let mut checks = Vec::new();

    let validate = best(results, Scenario::Validate);
    checks.push(check(
        "validate ≥ 15,000 req/s",
        validate.map(|v| {
            (
                format!(
                    "{} req/s at {} clients",
                    thousands(v.headline_per_sec),
                    v.concurrency
                ),
                v.headline_per_sec >= 15_000.0,
            )
        }),
    ));

    let ratio = validate.and_then(|v| {
        let healthz = of(results, Scenario::Healthz).find(|h| h.concurrency == v.concurrency)?;
        let ratio = v.headline_per_sec / healthz.headline_per_sec.max(1e-9);
        Some((
            format!(
                "{:.0} % ({} of {} req/s at {} clients)",
                ratio * 100.0,
                thousands(v.headline_per_sec),
                thousands(healthz.headline_per_sec),
                v.concurrency
            ),
            ratio >= 0.5,
        ))
    });
    checks.push(check("validate ≥ 50 % of healthz, same run", ratio));

    let (label, floor) = match backend {
        "postgres" => ("full logins ≥ 500 logins/s (PostgreSQL)", 500.0),
        _ => ("full logins ≥ 1,000 logins/s (SQLite)", 1_000.0),
    };
    checks.push(check(
        label,
        best(results, Scenario::Login).map(|l| {
            (
                format!(
                    "{} logins/s at {} clients",
                    thousands(l.headline_per_sec),
                    l.concurrency
                ),
                l.headline_per_sec >= floor,
            )
        }),
    ));

    // Every request type the steady scenarios send; the hashing requests of
    // `hash-burst` are slow by design and have their own target below.
    let steady = [
        Scenario::Healthz,
        Scenario::Validate,
        Scenario::Login,
        Scenario::Mixed,
    ];
    let worst = results
        .iter()
        .filter(|r| r.concurrency == LATENCY_CLIENTS)
        .filter(|r| steady.iter().any(|s| s.name() == r.scenario))
        .flat_map(|r| {
            r.rows
                .iter()
                .filter(|row| row.is_request)
                .map(move |row| (r, row))
        })
        .max_by(|a, b| a.1.p99_ms.total_cmp(&b.1.p99_ms));
    checks.push(check(
        format!("p99 ≤ 25 ms at {LATENCY_CLIENTS} clients, every request type"),
        worst.map(|(r, row)| {
            (
                format!(
                    "worst: {} in {}, {:.1} ms",
                    row.request, r.scenario, row.p99_ms
                ),
                row.p99_ms <= 25.0,
            )
        }),
    ));

    let burst = of(results, Scenario::HashBurst)
        .filter_map(|r| Some((r, r.validate_ratio?)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    checks.push(check(
        "validate during a hashing burst ≥ 50 % of undisturbed",
        burst.map(|(r, ratio)| {
            (
                format!(
                    "{:.0} % ({} of {} req/s at {} clients, {} hashing)",
                    ratio * 100.0,
                    thousands(r.headline_per_sec),
                    thousands(r.undisturbed_validate_per_sec.unwrap_or(0.0)),
                    r.concurrency,
                    r.rows
                        .iter()
                        .filter(|row| row.hashes_password)
                        .map(|row| row.ok)
                        .sum::<u64>()
                ),
                ratio >= 0.5,
            )
        }),
    ));

    // Issue 13: a guessing script with 50 clients against one account.
    let guessing = of(results, Scenario::Guessing).next();
    checks.push(check(
        "guessing: < 20 password checks in a minute on one account",
        guessing
            .filter(|g| g.elapsed_secs >= 59.0)
            .and_then(|g| Some((g, g.password_checks?)))
            .map(|(g, checks)| {
                (
                    format!(
                        "{checks} checks in {:.0} s ({} refused)",
                        g.elapsed_secs,
                        thousands(g.row("guess (refused, 429)").map_or(0.0, |r| r.ok as f64))
                    ),
                    checks < 20,
                )
            }),
    ));
    checks.push(check(
        "validate while guessing ≥ 50 % of undisturbed",
        guessing.and_then(|g| {
            let ratio = g.validate_ratio?;
            Some((
                format!(
                    "{:.0} % ({} of {} req/s at {} clients)",
                    ratio * 100.0,
                    thousands(g.headline_per_sec),
                    thousands(g.undisturbed_validate_per_sec.unwrap_or(0.0)),
                    g.concurrency
                ),
                ratio >= 0.5,
            ))
        }),
    ));

    checks.push(check(
        "RSS ≤ 30 MiB idle",
        memory
            .rss_idle_mib
            .map(|m| (format!("{m:.1} MiB after preparation"), m <= 30.0)),
    ));

    let peak = results
        .iter()
        .filter_map(|r| Some((r, r.peak_rss_mib?)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    checks.push(check(
        "RSS ≤ 100 MiB under any scenario",
        peak.map(|(r, m)| {
            (
                format!(
                    "{m:.1} MiB peak, in {} at {} clients",
                    r.scenario, r.concurrency
                ),
                m <= 100.0,
            )
        }),
    ));
    checks
}

/// `15234.7` → `"15,235"`.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(15_234.7), "15,235");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}
