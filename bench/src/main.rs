//! `bench`: see `docs/benchmarks.md`. Exits non-zero when any request
//! failed, so a fast figure is never one of failing requests.

use std::process::ExitCode;

use bench::cli::Cli;
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let options = match cli.options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::from(2);
        }
    };
    // On Ctrl-C the run is dropped, and with it a server the harness
    // started (it is killed on drop) rather than left running.
    let run = tokio::select! {
        run = bench::run(&options) => run,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("bench: interrupted");
            return ExitCode::from(130);
        }
    };
    let report = match run {
        Ok(report) => report,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.markdown());
    match report.write(&cli.out) {
        Ok(files) => {
            for file in files {
                eprintln!("bench: wrote {}", file.display());
            }
        }
        Err(e) => {
            eprintln!("bench: writing the results: {e}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(e) = report.check() {
        eprintln!("bench: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
