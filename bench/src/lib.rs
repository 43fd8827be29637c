//! Benchmark harness for Central Auth: prepares users, a service and live
//! sessions through the public API, then drives the server with virtual
//! clients (one keep-alive connection each) for a fixed time and reports
//! throughput, latency percentiles, errors and the server's memory.
//!
//! [`run`] is the whole run; the `bench` binary is a command line over it,
//! and the smoke test calls it against a server in the test process.

mod api;
mod error;
mod http;
mod prepare;
mod procfs;
mod record;
mod report;
mod scenarios;
mod server;
mod svg;
mod targets;

pub mod cli;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use error::Error;
pub use record::Row;
pub use report::{Memory, Report, ServerInfo, Settings};
pub use scenarios::{Scenario, ScenarioResult};
pub use targets::TargetCheck;

use http::Endpoint;
use procfs::{mib, peak_kib, rss_kib};
use scenarios::Ctx;
use server::Spawned;

/// The server to measure.
#[derive(Debug, Clone)]
pub enum Target {
    /// Already running; the harness prepares its data with this admin.
    Running {
        url: String,
        admin_user: String,
        admin_password: String,
        /// Its process on this machine, for RSS and CPU figures.
        pid: Option<u32>,
    },
    /// Started by the harness from `server_bin`, on a fresh SQLite file or,
    /// given a `postgres://` URL, a fresh database on that server.
    Spawn {
        server_bin: PathBuf,
        database_url: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    pub scenarios: Vec<Scenario>,
    pub duration: Duration,
    /// Each scenario runs once per entry.
    pub concurrency: Vec<usize>,
    /// Approved, enrolled users the logins take in turn.
    pub users: usize,
    /// Live sessions that `validate` walks through.
    pub sessions: usize,
    /// Clients registering and signing admins in during `hash-burst`.
    pub burst: usize,
    /// The server runs with its limits on ([`LIMITS_ON`] for a spawned
    /// one), and every virtual client speaks for an address of its own.
    pub limits: bool,
    /// More settings for a spawned server, after the harness's own (so
    /// they win): `SQLITE_SYNCHRONOUS=full`, say.
    pub server_env: Vec<(String, String)>,
    /// Clients guessing one password in `guessing`.
    pub guessers: usize,
    /// How long `guessing` guesses; its target is per minute.
    pub guess_duration: Duration,
    /// Where a spawned server's log goes (else a temporary folder).
    pub log_dir: Option<PathBuf>,
}

/// The settings of a spawned server with `--limits on`: every limit runs at
/// its default, except the request rates a load generator must exceed to be
/// one — it does the work of thousands of people from a few connections —
/// which are raised so that their limiters still run but refuse nothing.
/// The guessing defences (per-account delays, failures per address, the
/// hashing queue) and the registration caps per address keep their
/// defaults. The harness is the trusted proxy: each virtual client's
/// requests carry an `X-Forwarded-For` address of its own.
pub const LIMITS_ON: &[(&str, &str)] = &[
    ("RATE_LIMITS", "on"),
    ("TRUSTED_PROXIES", "127.0.0.1/32,::1/128"),
    ("RATE_GENERATE_PER_MIN", "100000000"),
    ("RATE_GENERATE_BURST", "1000000"),
    ("RATE_SCAN_PER_MIN", "100000000"),
    ("RATE_SCAN_BURST", "1000000"),
    ("RATE_VERIFY_PER_MIN", "100000000"),
    ("RATE_VERIFY_BURST", "1000000"),
    ("REGISTRATION_PENDING_MAX", "1000000"),
];

impl Options {
    /// Every scenario, briefly, at low concurrency with a small data set:
    /// checks that the harness and the server still agree, not speed.
    pub fn smoke(target: Target) -> Self {
        Self {
            target,
            scenarios: Scenario::all(false),
            duration: Duration::from_secs(1),
            concurrency: vec![4],
            users: 6,
            sessions: 20,
            burst: 2,
            limits: false,
            server_env: Vec::new(),
            guessers: 8,
            guess_duration: Duration::from_secs(2),
            log_dir: None,
        }
    }

    /// The smoke run with the limits on: every scenario, `guessing` too.
    pub fn smoke_with_limits(target: Target) -> Self {
        Self {
            scenarios: Scenario::all(true),
            limits: true,
            ..Self::smoke(target)
        }
    }

    fn check(&self) -> Result<(), Error> {
        let problem = if self.scenarios.is_empty() {
            Some("no scenario chosen")
        } else if self.concurrency.is_empty() || self.concurrency.contains(&0) {
            Some("--concurrency needs numbers above 0")
        } else if self.users == 0 || self.sessions == 0 {
            Some("--users and --sessions need at least 1")
        } else if self.burst == 0 && self.scenarios.contains(&Scenario::HashBurst) {
            Some("hash-burst needs --burst of at least 1")
        } else if self.duration.is_zero() {
            Some("--duration must be above 0")
        } else if self.scenarios.contains(&Scenario::Guessing) && !self.limits {
            Some("guessing needs --limits on: with the limits off every guess is checked")
        } else if self.scenarios.contains(&Scenario::Guessing)
            && (self.guessers == 0 || self.guess_duration.is_zero())
        {
            Some("guessing needs --guessers and --guess-duration above 0")
        } else {
            None
        };
        problem.map_or(Ok(()), |p| Err(Error::Usage(p.to_owned())))
    }
}

/// Runs the benchmark. `Ok` means it ran; whether the figures are valid is
/// [`Report::check`].
pub async fn run(options: &Options) -> Result<Report, Error> {
    options.check()?;
    match &options.target {
        Target::Running {
            url,
            admin_user,
            admin_password,
            pid,
        } => {
            let mut endpoint = Endpoint::parse(url).await?;
            endpoint.forwarded = options.limits;
            let server = ServerInfo {
                mode: "target",
                url: endpoint.url(),
                backend: "unknown",
                log: None,
            };
            measure(options, endpoint, admin_user, admin_password, *pid, server).await
        }
        Target::Spawn {
            server_bin,
            database_url,
        } => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let admin_password = format!("bench console {nanos:x}");
            let mut env: Vec<(String, String)> = Vec::new();
            if options.limits {
                env.extend(
                    LIMITS_ON
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
                );
            }
            env.extend(options.server_env.iter().cloned());
            let spawned = Spawned::start(
                server_bin,
                database_url.as_deref(),
                &admin_password,
                &env,
                options.log_dir.as_deref(),
            )
            .await?;
            let server = ServerInfo {
                mode: "spawned",
                url: spawned.endpoint.url(),
                backend: spawned.backend,
                log: Some(spawned.log.clone()),
            };
            let mut endpoint = spawned.endpoint.clone();
            endpoint.forwarded = options.limits;
            let pid = Some(spawned.pid);
            let report = measure(options, endpoint, "admin", &admin_password, pid, server).await;
            spawned.stop().await;
            report
        }
    }
}

async fn measure(
    options: &Options,
    endpoint: Endpoint,
    admin_user: &str,
    admin_password: &str,
    pid: Option<u32>,
    server: ServerInfo,
) -> Result<Report, Error> {
    let rss_after_start = pid.and_then(rss_kib);
    eprintln!(
        "bench: {} at {}: preparing {} users and {} sessions",
        server.backend, server.url, options.users, options.sessions
    );
    let fixture = prepare::fixture(&endpoint, admin_user, admin_password, options.users).await?;
    let fixture = Arc::new(fixture);
    let pool = prepare::session_pool(&endpoint, &fixture, options.sessions).await?;
    let peak_during_preparation = pid.and_then(peak_kib);
    // Idle means after the last preparation request has been answered and
    // the server has had a moment to finish what it queued (emails).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let memory = Memory {
        rss_after_start_mib: rss_after_start.map(mib),
        rss_idle_mib: pid.and_then(rss_kib).map(mib),
        peak_during_preparation_mib: peak_during_preparation.map(mib),
    };

    let mut ctx = Ctx {
        endpoint,
        fixture,
        pool: Arc::new(pool),
        duration: options.duration,
        burst: options.burst,
        guessers: options.guessers,
        guess_duration: options.guess_duration,
        server_pid: pid,
    };
    let mut results = Vec::new();
    for &clients in &options.concurrency {
        for &scenario in &options.scenarios {
            let (result, pool) = scenarios::run(scenario, &ctx, clients).await;
            eprintln!(
                "bench: {:<10} {clients:>4} clients: {:>9.0}/s, p99 {:>7.2} ms, {} errors",
                scenario.name(),
                result.headline_per_sec,
                result.headline_p99_ms,
                result.errors
            );
            if let Some(pool) = pool {
                ctx.pool = Arc::new(pool);
            }
            results.push(result);
        }
    }
    let settings = Settings {
        scenarios: options.scenarios.iter().map(|s| s.name()).collect(),
        concurrency: options.concurrency.clone(),
        duration_secs: options.duration.as_secs_f64(),
        users: options.users,
        sessions: options.sessions,
        burst: options.burst,
        limits: options.limits,
        server_env: options
            .server_env
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        guessers: options.guessers,
        guess_duration_secs: options.guess_duration.as_secs_f64(),
    };
    Ok(Report::new(server, settings, memory, results))
}
