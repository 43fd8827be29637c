//! The harness's smoke run, so it never rots: every scenario for about a
//! second at 4 clients against a server started in this test process, on
//! a fresh SQLite file, with the limits off and on. It asserts zero errors
//! — it is not a speed check.

// A test file: its helpers fail the test by panicking, as its tests do.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use bench::{LIMITS_ON, Options, Report, Scenario, Target};
use central_auth::clock::SystemClock;
use central_auth::config::Cli;
use central_auth::startup::Application;
use clap::Parser;
use tokio::sync::oneshot;

const ADMIN_PASSWORD: &str = "console passphrase for the smoke run";

/// Starts a server in this process with `extra` flags, runs `options` made
/// for its address, writes the report's files; the report and the files.
async fn smoke(
    extra: &[String],
    options: impl FnOnce(Target) -> Options,
) -> (Report, Vec<std::path::PathBuf>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("central-auth.db").display());
    // Through the server's own command line, so settings it adds later keep
    // their defaults here.
    let mut args: Vec<String> = [
        "central-auth",
        "--database-url",
        &database_url,
        "--bind",
        "127.0.0.1:0",
        "--admin-password",
        ADMIN_PASSWORD,
        "--operating-hours-enabled",
        "false",
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    args.extend(extra.iter().cloned());
    let cli = Cli::try_parse_from(args).unwrap();
    let app = Application::build(&cli.database, &cli.serve, Arc::new(SystemClock))
        .await
        .unwrap();
    let addr = app.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));

    let options = options(Target::Running {
        url: format!("http://{addr}"),
        admin_user: "admin".to_owned(),
        admin_password: ADMIN_PASSWORD.to_owned(),
        pid: None,
    });
    let report = bench::run(&options).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let files = report.write(out.path()).unwrap();
    // Shown with `--nocapture`: what the harness measured (debug build).
    eprintln!("{}", report.markdown());

    let _ = stop.send(());
    server.await.unwrap().unwrap();
    (report, files, out)
}

fn assert_no_errors(report: &Report, scenarios: usize) {
    assert!(report.check().is_ok(), "{}", report.markdown());
    assert_eq!(report.results.len(), scenarios);
    for result in &report.results {
        assert_eq!(result.errors, 0, "{}", report.markdown());
        assert!(result.requests_per_sec > 0.0, "{}", result.scenario);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_run_of_every_scenario_has_no_errors() {
    // As the harness starts its own server (bench/src/server.rs): the load
    // is one address registering and logging in at full speed.
    let off = ["--rate-limits".to_owned(), "off".to_owned()];
    let (report, files, out) = smoke(&off, Options::smoke).await;
    assert_no_errors(&report, Scenario::all(false).len());
    let login = report
        .results
        .iter()
        .find(|r| r.scenario == "login")
        .unwrap();
    assert!(login.logins_per_sec.unwrap() > 0.0);
    let burst = report
        .results
        .iter()
        .find(|r| r.scenario == "hash-burst")
        .unwrap();
    assert!(burst.validate_ratio.is_some(), "{}", report.markdown());
    assert!(
        burst
            .rows
            .iter()
            .any(|r| r.request == "register" && r.ok > 0)
    );
    assert!(files.iter().any(|f| f.ends_with("results.json")));
    assert!(files.iter().any(|f| f.ends_with("results.md")));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("results.json")).unwrap())
            .unwrap();
    assert_eq!(
        json["results"].as_array().unwrap().len(),
        Scenario::all(false).len()
    );
}

/// `--limits on`: the server gets the settings a spawned one would
/// (`LIMITS_ON`, as flags: `RATE_SCAN_PER_MIN` is `--rate-scan-per-min`),
/// every client its own address, and `guessing` runs too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_run_with_the_limits_on_has_no_errors_and_guesses_are_held_back() {
    let flags: Vec<String> = LIMITS_ON
        .iter()
        .flat_map(|(env, value)| {
            [
                format!("--{}", env.to_lowercase().replace('_', "-")),
                (*value).to_owned(),
            ]
        })
        .collect();
    let (report, _files, _out) = smoke(&flags, Options::smoke_with_limits).await;
    assert_no_errors(&report, Scenario::all(true).len());
    let guessing = report
        .results
        .iter()
        .find(|r| r.scenario == "guessing")
        .unwrap();
    let row = |name: &str| guessing.rows.iter().find(|r| r.request == name);
    let checked = guessing.password_checks.unwrap();
    let refused = row("guess (refused, 429)").map_or(0, |r| r.ok);
    // 8 clients for 2 s: the first few guesses are checked, then the
    // account's delay refuses nearly all of them.
    assert!(checked >= 1, "{}", report.markdown());
    assert!(refused > checked * 10, "{}", report.markdown());
    assert!(
        row("mobile-login").is_some_and(|r| r.ok > 0),
        "other people still sign in: {}",
        report.markdown()
    );
    assert!(guessing.validate_ratio.is_some(), "{}", report.markdown());
}
