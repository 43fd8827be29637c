//! A run's results: the JSON file, the Markdown tables, and the verdict.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Error;
use crate::procfs::Machine;
use crate::scenarios::ScenarioResult;
use crate::targets::{TargetCheck, thousands};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub server: ServerInfo,
    pub machine: Machine,
    pub settings: Settings,
    pub memory: Memory,
    pub results: Vec<ScenarioResult>,
    pub targets: Vec<TargetCheck>,
    /// Why the figures cannot be trusted; empty for a good run.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    /// `spawned` (started by the harness) or `target` (already running).
    pub mode: &'static str,
    pub url: String,
    /// `sqlite`, `postgres`, or `unknown` for a target.
    pub backend: &'static str,
    pub log: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub scenarios: Vec<&'static str>,
    pub concurrency: Vec<usize>,
    pub duration_secs: f64,
    pub users: usize,
    pub sessions: usize,
    pub burst: usize,
    /// The server ran with its limits on (and each client had an address of its own).
    pub limits: bool,
    /// Settings given to a spawned server with `--server-env`.
    pub server_env: Vec<String>,
    pub guessers: usize,
    pub guess_duration_secs: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Memory {
    pub rss_after_start_mib: Option<f64>,
    /// After the data was prepared, before any load.
    pub rss_idle_mib: Option<f64>,
    /// Highest RSS while preparing (registrations and enrolments hash).
    pub peak_during_preparation_mib: Option<f64>,
}

impl Report {
    pub fn new(
        server: ServerInfo,
        settings: Settings,
        memory: Memory,
        results: Vec<ScenarioResult>,
    ) -> Self {
        let targets = crate::targets::evaluate(&results, &memory, server.backend);
        let mut problems: Vec<String> = results.iter().flat_map(ScenarioResult::problems).collect();
        if results.is_empty() {
            problems.push("no scenario ran".to_owned());
        }
        Self {
            server,
            machine: Machine::describe(),
            settings,
            memory,
            results,
            targets,
            problems,
        }
    }

    /// Fails when any request failed or a scenario made no requests: a
    /// fast figure for failing requests is worse than no figure.
    pub fn check(&self) -> Result<(), Error> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Failed(self.problems.clone()))
        }
    }

    /// Writes `results.json`, `results.md` and, when several concurrencies
    /// ran, `results.svg`; returns the files written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, Error> {
        std::fs::create_dir_all(dir)?;
        let json =
            serde_json::to_string_pretty(self).map_err(|e| Error::Io(std::io::Error::other(e)))?;
        let mut files = vec![
            (dir.join("results.json"), json),
            (dir.join("results.md"), self.markdown()),
        ];
        if let Some(svg) = crate::svg::plot(&self.results) {
            files.push((dir.join("results.svg"), svg));
        }
        let mut written = Vec::new();
        for (path, text) in files {
            std::fs::write(&path, text)?;
            written.push(path);
        }
        Ok(written)
    }

    pub fn markdown(&self) -> String {
        let mut md = String::new();
        // `write!` into a String cannot fail.
        let _ = self.write_markdown(&mut md);
        md
    }

    fn write_markdown(&self, md: &mut String) -> std::fmt::Result {
        let mib = |m: Option<f64>| m.map_or_else(|| "–".to_owned(), |m| format!("{m:.1}"));
        let pct = |p: Option<f64>| p.map_or_else(|| "–".to_owned(), |p| format!("{p:.0} %"));
        let m = &self.machine;
        let s = &self.settings;
        writeln!(md, "# Central Auth benchmark ({})\n", self.server.backend)?;
        if !self.problems.is_empty() {
            writeln!(
                md,
                "**THIS RUN FAILED** ({} problems, listed at the end): its figures are not valid.\n",
                self.problems.len()
            )?;
        }
        writeln!(
            md,
            "- server: {} at {}, database {}",
            self.server.mode, self.server.url, self.server.backend
        )?;
        writeln!(
            md,
            "- machine: {} × {}, {} MiB, Linux {}",
            m.cpus, m.cpu_model, m.memory_mib, m.kernel
        )?;
        writeln!(
            md,
            "- {:.0} s per scenario, {} users, {} sessions in the pool, {} hashing clients in hash-burst",
            s.duration_secs, s.users, s.sessions, s.burst
        )?;
        writeln!(
            md,
            "- limits {}{}",
            if s.limits {
                "on (request rates raised above the load, guessing defences at their defaults; \
                 one client address per virtual client)"
            } else {
                "off (RATE_LIMITS=off)"
            },
            if s.server_env.is_empty() {
                String::new()
            } else {
                format!("; server settings: {}", s.server_env.join(" "))
            }
        )?;
        if self.results.iter().any(|r| r.scenario == "guessing") {
            writeln!(
                md,
                "- guessing: {} clients for {:.0} s against one account",
                s.guessers, s.guess_duration_secs
            )?;
        }
        writeln!(
            md,
            "- server RSS: {} MiB after start, {} MiB idle after preparation, {} MiB peak while preparing\n",
            mib(self.memory.rss_after_start_mib),
            mib(self.memory.rss_idle_mib),
            mib(self.memory.peak_during_preparation_mib)
        )?;

        writeln!(md, "## Scenarios\n")?;
        writeln!(
            md,
            "CPU columns: average over the scenario in percent of one core ({} cores = {} %); \
             other = the rest of the machine (the database server, other work).\n",
            m.cpus,
            m.cpus * 100
        )?;
        writeln!(
            md,
            "| scenario | clients | req/s | headline | p99 ms | errors | peak RSS MiB | server CPU | bench CPU | other CPU |"
        )?;
        writeln!(md, "|---|--:|--:|---|--:|--:|--:|--:|--:|--:|")?;
        for r in &self.results {
            let headline = match (r.scenario, r.validate_ratio) {
                ("login", _) => format!("{} logins/s", thousands(r.headline_per_sec)),
                ("hash-burst", Some(ratio)) => format!(
                    "validate {} req/s = {:.0} % of undisturbed",
                    thousands(r.headline_per_sec),
                    ratio * 100.0
                ),
                ("guessing", Some(ratio)) => format!(
                    "{} password checks in {:.0} s; validate {} req/s = {:.0} % of undisturbed",
                    r.password_checks.unwrap_or(0),
                    r.elapsed_secs,
                    thousands(r.headline_per_sec),
                    ratio * 100.0
                ),
                _ => format!("{} req/s", thousands(r.headline_per_sec)),
            };
            writeln!(
                md,
                "| {} | {} | {} | {} | {:.1} | {} | {} | {} | {} | {} |",
                r.scenario,
                r.concurrency,
                thousands(r.requests_per_sec),
                headline,
                r.headline_p99_ms,
                r.errors,
                mib(r.peak_rss_mib),
                pct(r.server_cpu_pct),
                pct(r.bench_cpu_pct),
                pct(r.other_cpu_pct),
            )?;
        }

        writeln!(md, "\n## Requests\n")?;
        writeln!(
            md,
            "| scenario | clients | request | ok | per s | p50 ms | p99 ms | max ms | errors | valid: false |"
        )?;
        writeln!(md, "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|")?;
        for r in &self.results {
            for row in &r.rows {
                writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.1} | {} | {} |",
                    r.scenario,
                    r.concurrency,
                    row.request,
                    row.ok,
                    thousands(row.per_sec),
                    row.p50_ms,
                    row.p99_ms,
                    row.max_ms,
                    row.errors,
                    row.invalid
                )?;
            }
        }

        writeln!(md, "\n## Targets\n")?;
        writeln!(md, "| target | measured | met |")?;
        writeln!(md, "|---|---|---|")?;
        for t in &self.targets {
            let met = match t.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "–",
            };
            writeln!(md, "| {} | {} | {met} |", t.target, t.measured)?;
        }

        if !self.problems.is_empty() {
            writeln!(md, "\n## Problems\n")?;
            for p in &self.problems {
                writeln!(md, "- {p}")?;
            }
        }
        Ok(())
    }
}
