//! The scenarios and what they share: virtual clients that each hold one
//! connection and loop until the deadline, and the figures made of them.

mod guessing;
mod hash_burst;
mod login;
mod mixed;
mod simple;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Barrier;

use crate::api::VClient;
use crate::http::Endpoint;
use crate::prepare::Fixture;
use crate::procfs::{Monitor, mib};
use crate::record::{Kind, Recorder, Row};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// GET /healthz: the server's ceiling on this machine.
    Healthz,
    /// POST /api/auth/validate-session over a pool of live sessions.
    Validate,
    /// Full logins: generate → scan → verify.
    Login,
    /// 90 % validate, 9 % login, 1 % logout.
    Mixed,
    /// Validate while registrations and admin logins hash passwords.
    HashBurst,
    /// Many clients guess one account's password (needs the limits on):
    /// how many guesses get checked, and whether validate and other
    /// accounts' sign-ins keep going.
    Guessing,
}

impl Scenario {
    pub const ALL: [Scenario; 6] = [
        Scenario::Healthz,
        Scenario::Validate,
        Scenario::Login,
        Scenario::Mixed,
        Scenario::HashBurst,
        Scenario::Guessing,
    ];

    /// Every scenario that means something with the limits on or off:
    /// with them off nothing stops a guess, so `guessing` is left out.
    pub fn all(limits: bool) -> Vec<Scenario> {
        Self::ALL
            .into_iter()
            .filter(|s| limits || *s != Scenario::Guessing)
            .collect()
    }

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthz => "healthz",
            Scenario::Validate => "validate",
            Scenario::Login => "login",
            Scenario::Mixed => "mixed",
            Scenario::HashBurst => "hash-burst",
            Scenario::Guessing => "guessing",
        }
    }
}

/// What every scenario gets to work with.
pub struct Ctx {
    pub endpoint: Endpoint,
    pub fixture: Arc<Fixture>,
    /// Tokens of live sessions.
    pub pool: Arc<Vec<String>>,
    pub duration: Duration,
    /// Clients hashing passwords in `hash-burst`.
    pub burst: usize,
    /// Clients guessing one password in `guessing`, each from an address of its own.
    pub guessers: usize,
    /// How long `guessing` guesses (the target is per minute).
    pub guess_duration: Duration,
    /// The server's process, when it runs on this machine and is known.
    pub server_pid: Option<u32>,
}

/// The measurements of one timed phase.
pub struct Phase {
    pub rec: Recorder,
    pub elapsed: Duration,
}

/// Runs `clients` virtual clients for `duration`. Every client connects
/// first; the clock starts when all are connected.
pub async fn drive<F, Fut>(
    endpoint: &Endpoint,
    clients: usize,
    duration: Duration,
    work: F,
) -> Phase
where
    F: Fn(usize, VClient, Instant) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = VClient> + Send + 'static,
{
    let work = Arc::new(work);
    let barrier = Arc::new(Barrier::new(clients + 1));
    let mut tasks = Vec::with_capacity(clients);
    for i in 0..clients {
        let (work, barrier) = (work.clone(), barrier.clone());
        let mut client = VClient::new(endpoint.clone());
        tasks.push(tokio::spawn(async move {
            let connected = client.conn.connect().await;
            barrier.wait().await;
            if let Err(e) = connected {
                client.rec.other_error(e);
                return client.rec;
            }
            let deadline = Instant::now() + duration;
            work(i, client, deadline).await.rec
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut rec = Recorder::default();
    for task in tasks {
        match task.await {
            Ok(client) => rec.merge(client),
            Err(e) => rec.other_error(format!("a client task failed: {e}")),
        }
    }
    Phase {
        rec,
        elapsed: started.elapsed(),
    }
}

/// One scenario at one concurrency, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub scenario: &'static str,
    pub concurrency: usize,
    pub elapsed_secs: f64,
    /// Every successful request of the scenario, per second.
    pub requests_per_sec: f64,
    pub logins_per_sec: Option<f64>,
    /// The figure the scenario is about (logins/s for `login`, validations/s
    /// during the burst for `hash-burst`) and its p99.
    pub headline_per_sec: f64,
    pub headline_p99_ms: f64,
    /// `hash-burst`: validations/s just before the burst, same clients.
    pub undisturbed_validate_per_sec: Option<f64>,
    /// `hash-burst`, `guessing`: validations/s during the burst ÷ undisturbed.
    pub validate_ratio: Option<f64>,
    /// `guessing`: wrong passwords the server checked for the one account,
    /// over the whole guessing time (`elapsed_secs`).
    pub password_checks: Option<u64>,
    pub errors: u64,
    /// `valid: false` answers to validate-session.
    pub invalid_sessions: u64,
    pub peak_rss_mib: Option<f64>,
    /// Averages over the scenario, in percent of one core.
    pub server_cpu_pct: Option<f64>,
    pub bench_cpu_pct: Option<f64>,
    /// The rest of the machine: the database server, and other work on a
    /// shared machine.
    pub other_cpu_pct: Option<f64>,
    pub rows: Vec<Row>,
    pub failures: Vec<String>,
}

impl ScenarioResult {
    pub fn row(&self, request: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.request == request)
    }

    /// Why this result must not be reported as a speed: errors, no requests,
    /// or sessions that should have been live answering `valid: false`.
    pub fn problems(&self) -> Vec<String> {
        let at = format!("{} at {} clients", self.scenario, self.concurrency);
        let mut problems = Vec::new();
        if self.errors > 0 {
            problems.push(format!("{at}: {} failed requests", self.errors));
            problems.extend(self.failures.iter().map(|f| format!("{at}: {f}")));
        }
        if self.requests_per_sec <= 0.0 || self.headline_per_sec <= 0.0 {
            problems.push(format!("{at}: no successful requests"));
        }
        let validations: u64 = self
            .rows
            .iter()
            .filter(|r| r.request.starts_with("validate"))
            .map(|r| r.ok)
            .sum();
        // In `mixed`, a session can be logged out between being picked and
        // being validated; anywhere else every session in the pool is live.
        let allowed = if self.scenario == Scenario::Mixed.name() {
            validations / 100
        } else {
            0
        };
        if self.invalid_sessions > allowed {
            problems.push(format!(
                "{at}: {} of {validations} validations of live sessions answered valid: false",
                self.invalid_sessions
            ));
        }
        problems
    }
}

/// Runs one scenario with `clients` clients and measures the server
/// meanwhile. `mixed` logs sessions out and in: it returns the pool that
/// the next scenarios validate.
pub async fn run(
    scenario: Scenario,
    ctx: &Ctx,
    clients: usize,
) -> (ScenarioResult, Option<Vec<String>>) {
    let baseline = match scenario {
        Scenario::HashBurst | Scenario::Guessing => Some(simple::validate(ctx, clients).await),
        _ => None,
    };
    let monitor = Monitor::start(ctx.server_pid);
    let mut pool = None;
    let phases = match scenario {
        Scenario::Healthz => vec![simple::healthz(ctx, clients).await],
        Scenario::Validate => vec![simple::validate(ctx, clients).await],
        Scenario::Login => vec![login::run(ctx, clients).await],
        Scenario::Mixed => {
            let (phase, survivors) = mixed::run(ctx, clients).await;
            pool = Some(survivors);
            vec![phase]
        }
        Scenario::HashBurst => {
            let (validate, burst) = hash_burst::run(ctx, clients).await;
            vec![validate, burst]
        }
        Scenario::Guessing => {
            let (validate, guesses, bystanders) = guessing::run(ctx, clients).await;
            vec![validate, guesses, bystanders]
        }
    };
    let usage = monitor.finish();

    let mut rows = Vec::new();
    let mut errors = 0;
    let mut failures = Vec::new();
    let mut elapsed = Duration::ZERO;
    for phase in phases {
        errors += phase.rec.errors();
        failures.extend(phase.rec.failures().iter().cloned());
        elapsed = elapsed.max(phase.elapsed);
        rows.extend(phase.rec.rows(phase.elapsed, |k| k.name().to_owned()));
    }
    let requests_per_sec = rows
        .iter()
        .filter(|r| r.is_request)
        .map(|r| r.per_sec)
        .sum();
    let find = |name: &str| rows.iter().find(|r| r.request == name);
    let logins_per_sec = find(Kind::Login.name()).map(|r| r.per_sec);
    let (headline_per_sec, headline_p99_ms) = match scenario {
        Scenario::Healthz => find(Kind::Healthz.name()).map(|r| (r.per_sec, r.p99_ms)),
        Scenario::Validate | Scenario::HashBurst | Scenario::Guessing => {
            find(Kind::Validate.name()).map(|r| (r.per_sec, r.p99_ms))
        }
        Scenario::Login => find(Kind::Login.name()).map(|r| (r.per_sec, r.p99_ms)),
        Scenario::Mixed => Some((
            requests_per_sec,
            rows.iter()
                .filter(|r| r.is_request)
                .map(|r| r.p99_ms)
                .fold(0.0, f64::max),
        )),
    }
    .unwrap_or((0.0, 0.0));
    let password_checks = (scenario == Scenario::Guessing)
        .then(|| find(Kind::GuessChecked.name()).map_or(0, |r| r.ok));

    let mut undisturbed = None;
    if let Some(quiet) = baseline {
        errors += quiet.rec.errors();
        failures.extend(quiet.rec.failures().iter().cloned());
        let quiet_rows = quiet
            .rec
            .rows(quiet.elapsed, |k| format!("{} (undisturbed)", k.name()));
        undisturbed = quiet_rows.first().map(|r| r.per_sec);
        rows.splice(0..0, quiet_rows);
    }
    let invalid_sessions = rows.iter().map(|r| r.invalid).sum();
    let result = ScenarioResult {
        scenario: scenario.name(),
        concurrency: clients,
        elapsed_secs: elapsed.as_secs_f64(),
        requests_per_sec,
        logins_per_sec,
        headline_per_sec,
        headline_p99_ms,
        undisturbed_validate_per_sec: undisturbed,
        validate_ratio: undisturbed
            .filter(|u| *u > 0.0)
            .map(|u| headline_per_sec / u),
        password_checks,
        errors,
        invalid_sessions,
        peak_rss_mib: usage.peak_rss_kib.map(mib),
        server_cpu_pct: usage.server_cpu_pct,
        bench_cpu_pct: usage.bench_cpu_pct,
        other_cpu_pct: usage.other_cpu_pct,
        rows,
        failures,
    };
    (result, pool)
}
