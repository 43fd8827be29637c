//! The command line of the `bench` binary.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::{Error, Options, Scenario, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Choice {
    Healthz,
    Validate,
    Login,
    Mixed,
    HashBurst,
    Guessing,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Limits {
    On,
    Off,
}

#[derive(Debug, Parser)]
#[command(
    name = "bench",
    about = "Load generator for Central Auth: throughput, latency, errors and memory per scenario"
)]
pub struct Cli {
    /// Measure this already running server (`http://host:port`) instead of
    /// starting one.
    #[arg(long)]
    pub target: Option<String>,
    /// Admin password of the --target server, to prepare users and a service.
    #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    #[arg(long, default_value = "admin")]
    pub admin_user: String,
    /// Process id of the --target server, for its RSS and CPU figures.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// The server binary to start (without --target).
    #[arg(long, default_value = "target/release/central-auth")]
    pub server_bin: PathBuf,
    /// `postgres://…` to run the started server on a fresh database there
    /// (default: a fresh SQLite file).
    #[arg(long)]
    pub database_url: Option<String>,
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub scenario: Vec<Choice>,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Concurrent clients; a list (`1,16,64,256`) runs every scenario at each.
    #[arg(long, value_delimiter = ',', default_value = "64")]
    pub concurrency: Vec<usize>,
    /// Live sessions in the pool that `validate` walks through.
    #[arg(long, default_value_t = 1000)]
    pub sessions: usize,
    /// Approved users with enrolled phones; logins take them in turn.
    #[arg(long, default_value_t = 50)]
    pub users: usize,
    /// Clients registering and signing in admins (Argon2id) in hash-burst.
    #[arg(long, default_value_t = 8)]
    pub burst: usize,
    /// `on`: the server runs with its limits (a started one with the
    /// settings of `bench::LIMITS_ON`; a --target must trust this machine
    /// in TRUSTED_PROXIES), and each virtual client sends requests from an
    /// address of its own (`X-Forwarded-For`). Adds `guessing` to `all`.
    #[arg(long, value_enum, default_value = "off")]
    pub limits: Limits,
    /// A setting for the started server, `KEY=VALUE`, after the harness's
    /// own; repeat for more (`--server-env SQLITE_SYNCHRONOUS=full`).
    #[arg(long, value_parser = key_value)]
    pub server_env: Vec<(String, String)>,
    /// Clients guessing one account's password in `guessing`.
    #[arg(long, default_value_t = 50)]
    pub guessers: usize,
    /// Seconds `guessing` runs (its target is per minute: keep it ≥ 60).
    #[arg(long, default_value_t = 60.0)]
    pub guess_duration: f64,
    /// Where results.json, results.md and results.svg go.
    #[arg(long, default_value = "target/bench")]
    pub out: PathBuf,
    /// Every scenario for 1 s at 4 clients with a small data set; fails on
    /// any error. Other load settings are ignored.
    #[arg(long)]
    pub smoke: bool,
}

impl Cli {
    pub fn options(&self) -> Result<Options, Error> {
        let target = match &self.target {
            Some(url) => Target::Running {
                url: url.clone(),
                admin_user: self.admin_user.clone(),
                admin_password: self.admin_password.clone().ok_or_else(|| {
                    Error::Usage("--target needs --admin-password (or ADMIN_PASSWORD)".to_owned())
                })?,
                pid: self.server_pid,
            },
            None => Target::Spawn {
                server_bin: self.server_bin.clone(),
                database_url: self.database_url.clone(),
            },
        };
        let limits = self.limits == Limits::On;
        let mut options = if self.smoke && limits {
            Options::smoke_with_limits(target)
        } else if self.smoke {
            Options::smoke(target)
        } else {
            Options {
                target,
                scenarios: scenarios(&self.scenario, limits),
                duration: Duration::try_from_secs_f64(self.duration)
                    .map_err(|e| Error::Usage(format!("--duration: {e}")))?,
                concurrency: self.concurrency.clone(),
                users: self.users,
                sessions: self.sessions,
                burst: self.burst,
                limits,
                server_env: Vec::new(),
                guessers: self.guessers,
                guess_duration: Duration::try_from_secs_f64(self.guess_duration)
                    .map_err(|e| Error::Usage(format!("--guess-duration: {e}")))?,
                log_dir: None,
            }
        };
        options.server_env = self.server_env.clone();
        options.log_dir = Some(self.out.clone());
        Ok(options)
    }
}

/// `KEY=VALUE` of `--server-env`.
fn key_value(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("{raw}: expected KEY=VALUE")),
    }
}

fn scenarios(choices: &[Choice], limits: bool) -> Vec<Scenario> {
    if choices.contains(&Choice::All) {
        return Scenario::all(limits);
    }
    // In the canonical order, each once: healthz first, as the baseline.
    Scenario::ALL
        .into_iter()
        .filter(|s| {
            choices.iter().any(|c| match c {
                Choice::Healthz => *s == Scenario::Healthz,
                Choice::Validate => *s == Scenario::Validate,
                Choice::Login => *s == Scenario::Login,
                Choice::Mixed => *s == Scenario::Mixed,
                Choice::HashBurst => *s == Scenario::HashBurst,
                Choice::Guessing => *s == Scenario::Guessing,
                Choice::All => true,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_concurrencies_and_scenarios_parses() {
        let cli = Cli::try_parse_from([
            "bench",
            "--scenario",
            "login,healthz",
            "--concurrency",
            "1,16,64",
        ])
        .unwrap();
        let options = cli.options().unwrap();
        assert_eq!(options.scenarios, vec![Scenario::Healthz, Scenario::Login]);
        assert_eq!(options.concurrency, vec![1, 16, 64]);
        assert!(matches!(options.target, Target::Spawn { .. }));
    }

    #[test]
    fn a_target_needs_the_admin_password() {
        let cli = Cli::try_parse_from(["bench", "--target", "http://127.0.0.1:8000"]).unwrap();
        if cli.admin_password.is_none() {
            assert!(cli.options().is_err());
        }
    }

    #[test]
    fn all_has_guessing_only_with_the_limits_on_and_server_env_parses() {
        let off = Cli::try_parse_from(["bench"]).unwrap().options().unwrap();
        assert!(!off.scenarios.contains(&Scenario::Guessing));
        assert!(!off.limits);
        let on = Cli::try_parse_from([
            "bench",
            "--limits",
            "on",
            "--server-env",
            "SQLITE_SYNCHRONOUS=full",
        ])
        .unwrap()
        .options()
        .unwrap();
        assert_eq!(on.scenarios.last(), Some(&Scenario::Guessing));
        assert_eq!(
            on.server_env,
            vec![("SQLITE_SYNCHRONOUS".to_owned(), "full".to_owned())]
        );
        assert!(Cli::try_parse_from(["bench", "--server-env", "no-equals"]).is_err());
    }
}
