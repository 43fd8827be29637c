//! Settings: command-line flags, then environment variables (an optional
//! `.env` is loaded into the environment first), then the documented default.
//! `.env.example` lists every one.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "central-auth",
    version,
    about = "Central login server: QR code + PIN logins for many services"
)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub log: LogArgs,
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Create or upgrade the database schema, then exit.
    InitDb,
    /// Create an admin, or set a new password for an existing one.
    CreateAdmin(CreateAdminArgs),
    /// Register the example services ServiceB and AppC and print their keys once.
    SeedServices,
    /// Interactive first-time setup: database, an admin, the example services.
    Setup,
}

#[derive(Debug, Args)]
pub struct CreateAdminArgs {
    #[arg(long, default_value = "admin")]
    pub username: String,
    /// Prompted for when absent (or read as one line from a non-terminal stdin).
    #[arg(long)]
    pub password: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://path` (file created on first start) or `postgres://user:pass@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/central-auth.db",
        global = true
    )]
    pub database_url: String,
    /// Most connections the pool opens.
    #[arg(
        long,
        env = "DATABASE_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub database_max_connections: u32,
    /// Seconds a request waits for a database connection before 503.
    #[arg(
        long,
        env = "DATABASE_ACQUIRE_TIMEOUT_SECS",
        default_value_t = 5,
        global = true
    )]
    pub database_acquire_timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// `text` for people, `json` for log collectors. Levels via `RUST_LOG`.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(
        long = "bind",
        env = "BIND_ADDR",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub bind: SocketAddr,
    /// The address users and services reach this server at (JWT issuer, QR
    /// links, email links). Default: `http://` + the bind address.
    #[arg(long, env = "PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Password of the `admin` created on first start; random and printed once when unset.
    #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true, global = true)]
    pub admin_password: Option<String>,
    /// Email of the `admin` created on first start; also notified of registrations.
    #[arg(long, env = "ADMIN_EMAIL", global = true)]
    pub admin_email: Option<String>,
    /// Lifetime of an admin bearer token, in seconds.
    #[arg(
        long,
        env = "ADMIN_TOKEN_TTL_SECS",
        default_value_t = 3600,
        global = true
    )]
    pub admin_token_ttl_secs: u32,
    /// A session ends this many seconds after its last validation.
    #[arg(
        long,
        env = "SESSION_IDLE_TIMEOUT_SECS",
        default_value_t = 1800,
        global = true
    )]
    pub session_idle_timeout_secs: u32,
    /// …and this many seconds after login at the latest.
    #[arg(
        long,
        env = "SESSION_MAX_LIFETIME",
        default_value_t = 43200,
        global = true
    )]
    pub session_max_lifetime: u32,
    /// Take the client's address from `X-Forwarded-For` (set this only behind
    /// a reverse proxy or load balancer that sets the header).
    #[arg(long, env = "TRUST_PROXY_HEADERS", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub trust_proxy_headers: bool,
    #[command(flatten)]
    pub hours: InitialHours,
}

/// The operating hours written on first start; after that an admin changes
/// them with `PUT /api/admin/schedule` and the database is the truth.
#[derive(Debug, Clone, Args)]
pub struct InitialHours {
    /// Whether logins are limited to operating hours (false: always open).
    #[arg(long, env = "OPERATING_HOURS_ENABLED", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub operating_hours_enabled: bool,
    /// IANA time zone of the operating hours.
    #[arg(long, env = "TIMEZONE", default_value = "UTC", global = true)]
    pub timezone: String,
    /// Opening time, `HH:MM`.
    #[arg(long, env = "OPENING_TIME", default_value = "08:00", global = true)]
    pub opening_time: String,
    /// Closing time, `HH:MM` (before the opening time: runs past midnight).
    #[arg(long, env = "CLOSING_TIME", default_value = "18:00", global = true)]
    pub closing_time: String,
    /// Days on which the window opens, comma-separated.
    #[arg(
        long,
        env = "OPERATING_DAYS",
        default_value = "mon,tue,wed,thu,fri",
        global = true
    )]
    pub operating_days: String,
}

impl ServeArgs {
    /// `PUBLIC_URL`, or `http://` + the address the server is bound to.
    pub fn public_url_for(&self, bound: SocketAddr) -> String {
        let url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"));
        url.trim_end_matches('/').to_owned()
    }
}

/// Where `.env` is looked for: the working directory.
pub fn dotenv_path() -> PathBuf {
    PathBuf::from(".env")
}
