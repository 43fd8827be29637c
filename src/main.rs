use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use central_auth::clock::SystemClock;
use central_auth::config::{Cli, Command};
use central_auth::{cli, config, startup, telemetry};

/// mimalloc hands freed memory back to the system. glibc's allocator keeps
/// the 19 MiB blocks of every Argon2 hash in per-thread arenas for good, which
/// left an idle server at hundreds of MiB after a burst of sign-ins.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A missing .env is normal; settings then come from the environment.
    let _ = dotenvy::from_path(config::dotenv_path());
    let args = Cli::parse();
    telemetry::init(args.log.log_format);
    // Built by hand rather than with `#[tokio::main]` so the number of
    // request threads is a setting (`WORKER_THREADS`).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.serve.worker_threads())
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Cli) -> anyhow::Result<()> {
    match &args.command {
        None | Some(Command::Serve) => {
            let app =
                startup::Application::build(&args.database, &args.serve, Arc::new(SystemClock))
                    .await?;
            let addr = app.local_addr()?;
            tracing::info!(
                "Central Auth listening on http://{addr} — API docs at http://{addr}/docs"
            );
            app.run(startup::shutdown_signal()).await
        }
        Some(Command::InitDb) => cli::init_db(&args).await,
        Some(Command::CreateAdmin(admin)) => cli::create_admin(&args, admin).await,
        Some(Command::SeedServices) => cli::seed_services(&args).await,
        Some(Command::RotateSigningKey) => cli::rotate_signing_key(&args).await,
        Some(Command::Setup) => cli::setup(&args).await,
    }
}
