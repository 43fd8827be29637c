//! The harness's smoke run, so it never rots: every scenario for about a
//! second at 4 clients against a server started in this test process, on
//! a fresh SQLite file. It asserts zero errors — it is not a speed check.

use std::sync::Arc;

use bench::{Options, Scenario, Target};
use central_auth::clock::SystemClock;
use central_auth::config::Cli;
use central_auth::startup::Application;
use clap::Parser;
use tokio::sync::oneshot;

const ADMIN_PASSWORD: &str = "console passphrase for the smoke run";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_run_of_every_scenario_has_no_errors() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("central-auth.db").display());
    // Through the server's own command line, so settings it adds later keep
    // their defaults here.
    let cli = Cli::try_parse_from([
        "central-auth",
        "--database-url",
        &database_url,
        "--bind",
        "127.0.0.1:0",
        "--admin-password",
        ADMIN_PASSWORD,
        "--operating-hours-enabled",
        "false",
        // As the harness starts its own server (bench/src/server.rs): the
        // load is one address registering and logging in at full speed.
        "--rate-limits",
        "off",
    ])
    .unwrap();
    let app = Application::build(&cli.database, &cli.serve, Arc::new(SystemClock))
        .await
        .unwrap();
    let addr = app.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));

    let options = Options::smoke(Target::Running {
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

    assert!(report.check().is_ok(), "{}", report.markdown());
    assert_eq!(report.results.len(), Scenario::ALL.len());
    for result in &report.results {
        assert_eq!(result.errors, 0, "{}", report.markdown());
        assert!(result.requests_per_sec > 0.0, "{}", result.scenario);
    }
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
        Scenario::ALL.len()
    );
}
