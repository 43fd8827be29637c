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
    /// Make a new session-signing key current. The old one stops signing and
    /// stays in the JWKS until the last token it signed can have expired;
    /// running servers switch within SIGNING_KEY_RELOAD_SECS.
    RotateSigningKey,
    /// Interactive first-time setup: database, an admin, the example services.
    Setup,
}

#[derive(Args)]
pub struct CreateAdminArgs {
    #[arg(long, default_value = "admin")]
    pub username: String,
    /// Prompted for when absent (or read as one line from a non-terminal stdin).
    #[arg(long)]
    pub password: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
}

impl std::fmt::Debug for CreateAdminArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateAdminArgs")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("email", &self.email)
            .finish()
    }
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

#[derive(Clone, Args)]
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
    /// Threads that serve HTTP requests. Default: one per CPU core. On a
    /// small machine fewer can be faster (SQLite's connection threads, the
    /// write thread and password hashing work beside them): see
    /// docs/benchmarks.md.
    #[arg(long, env = "WORKER_THREADS", global = true)]
    pub worker_threads: Option<usize>,
    /// Password of the `admin` created on first start. Unset: a random one,
    /// shown once on the terminal or written to a 0600 file beside the
    /// database (never to the log).
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
    #[command(flatten)]
    pub smtp: SmtpArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub upkeep: UpkeepArgs,
    #[command(flatten)]
    pub keys: SigningKeyArgs,
}

/// The keys that sign session tokens.
#[derive(Clone, Args)]
pub struct SigningKeyArgs {
    /// 32 random bytes in base64 (`openssl rand -base64 32`) that encrypt the
    /// private signing keys in the database. Unset: they are stored in clear
    /// (a warning at start). Once set, it must be given on every start.
    #[arg(
        long,
        env = "SIGNING_KEY_ENCRYPTION_KEY",
        hide_env_values = true,
        conflicts_with = "signing_key_encryption_key_file",
        global = true
    )]
    pub signing_key_encryption_key: Option<String>,
    /// A file holding that key instead (e.g. a container secret).
    #[arg(long, env = "SIGNING_KEY_ENCRYPTION_KEY_FILE", global = true)]
    pub signing_key_encryption_key_file: Option<PathBuf>,
    /// Seconds between checks for a signing key rotated by another instance
    /// or `rotate-signing-key`: how soon this server signs with a new key.
    /// (A token signed with a key it does not know yet makes it look at once.)
    #[arg(
        long,
        env = "SIGNING_KEY_RELOAD_SECS",
        default_value_t = 10,
        global = true
    )]
    pub signing_key_reload_secs: u32,
}

impl std::fmt::Debug for SigningKeyArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyArgs")
            .field(
                "signing_key_encryption_key",
                &self
                    .signing_key_encryption_key
                    .as_ref()
                    .map(|_| "[redacted]"),
            )
            .field(
                "signing_key_encryption_key_file",
                &self.signing_key_encryption_key_file,
            )
            .field("signing_key_reload_secs", &self.signing_key_reload_secs)
            .finish()
    }
}

/// What the server does on a timer so that nothing grows without bound.
#[derive(Debug, Clone, Args)]
pub struct UpkeepArgs {
    /// Seconds between upkeep runs (the purge below, the registration digest).
    #[arg(long, env = "UPKEEP_EVERY_SECS", default_value_t = 60, global = true)]
    pub upkeep_every_secs: u32,
    /// QR codes and sessions are deleted this many hours after they ended or
    /// expired; their login history stays. A token of a deleted session
    /// validates as `invalid` instead of `expired`.
    #[arg(long, env = "PURGE_AFTER_HOURS", default_value_t = 24, global = true)]
    pub purge_after_hours: u32,
    /// Sent and failed emails are deleted from the outbox after this many days.
    #[arg(long, env = "OUTBOX_KEEP_DAYS", default_value_t = 30, global = true)]
    pub outbox_keep_days: u32,
    /// Registrations an hour that the admins are told of one email each; past
    /// that, the rest are told in one digest email (0: always a digest).
    #[arg(
        long,
        env = "REGISTRATION_DIGEST_AFTER",
        default_value_t = 5,
        global = true
    )]
    pub registration_digest_after: u32,
    /// A digest is sent once its oldest registration has waited this many minutes.
    #[arg(
        long,
        env = "REGISTRATION_DIGEST_EVERY_MINS",
        default_value_t = 15,
        global = true
    )]
    pub registration_digest_every_mins: u32,
}

/// Abuse limits: how fast one address, account or service may go.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// `on`, or `off` to switch every rate limit off (load tests only).
    #[arg(long, env = "RATE_LIMITS", value_enum, default_value_t = Switch::On, global = true)]
    pub rate_limits: Switch,
    /// Registrations waiting for approval at most, overall; past it, register
    /// answers 429 until admins work the queue. 0: no cap.
    #[arg(
        long,
        env = "REGISTRATION_PENDING_MAX",
        default_value_t = 1000,
        global = true
    )]
    pub registration_pending_max: u32,
    /// Registrations waiting for approval at most from one client address
    /// (IPv6: one /64). 0: no cap.
    #[arg(
        long,
        env = "REGISTRATION_PENDING_PER_ADDRESS",
        default_value_t = 5,
        global = true
    )]
    pub registration_pending_per_address: u32,
    /// Sustained requests per minute on `POST /api/register` per client address; 0: no limit.
    /// Registrations are rare; a shared office address still gets a few a minute.
    #[arg(
        long,
        env = "RATE_REGISTER_PER_MIN",
        default_value_t = 10,
        global = true
    )]
    pub rate_register_per_min: u32,
    /// Requests allowed at once on top of that rate (0: the per-minute figure).
    #[arg(long, env = "RATE_REGISTER_BURST", default_value_t = 5, global = true)]
    pub rate_register_burst: u32,
    /// Sustained requests per minute on `POST /api/auth/qr/scan` per client address; 0: no limit.
    /// Phones on one office Wi-Fi share an address.
    #[arg(long, env = "RATE_SCAN_PER_MIN", default_value_t = 60, global = true)]
    pub rate_scan_per_min: u32,
    /// Requests allowed at once on top of that rate (0: the per-minute figure).
    #[arg(long, env = "RATE_SCAN_BURST", default_value_t = 30, global = true)]
    pub rate_scan_burst: u32,
    /// Sustained requests per minute on `POST /api/auth/qr/deny` per client address; 0: no limit.
    #[arg(long, env = "RATE_DENY_PER_MIN", default_value_t = 30, global = true)]
    pub rate_deny_per_min: u32,
    /// Requests allowed at once on top of that rate (0: the per-minute figure).
    #[arg(long, env = "RATE_DENY_BURST", default_value_t = 10, global = true)]
    pub rate_deny_burst: u32,
    /// Sustained requests per minute on `POST /api/auth/pin/verify` per client address; 0: no limit.
    /// High: a service that verifies from its backend sends every user's PIN from its one address; the 5-wrong-PINs lock guards each QR code.
    #[arg(
        long,
        env = "RATE_VERIFY_PER_MIN",
        default_value_t = 300,
        global = true
    )]
    pub rate_verify_per_min: u32,
    /// Requests allowed at once on top of that rate (0: the per-minute figure).
    #[arg(long, env = "RATE_VERIFY_BURST", default_value_t = 60, global = true)]
    pub rate_verify_burst: u32,
    /// Sustained requests per minute on `POST /api/auth/qr/status` per client address; 0: no limit.
    /// A waiting page polls about once a second; a service polling from its backend polls for all its waiting users from one address.
    #[arg(
        long,
        env = "RATE_STATUS_PER_MIN",
        default_value_t = 1200,
        global = true
    )]
    pub rate_status_per_min: u32,
    /// Requests allowed at once on top of that rate (0: the per-minute figure).
    #[arg(long, env = "RATE_STATUS_BURST", default_value_t = 120, global = true)]
    pub rate_status_burst: u32,
    /// Sustained requests per minute on `POST /api/auth/qr/generate` per service (counted after its API key is checked); 0: no limit.
    /// Many people log in behind one service.
    #[arg(
        long,
        env = "RATE_GENERATE_PER_MIN",
        default_value_t = 600,
        global = true
    )]
    pub rate_generate_per_min: u32,
    /// Requests allowed at once on top of that rate (0: the per-minute figure).
    #[arg(
        long,
        env = "RATE_GENERATE_BURST",
        default_value_t = 100,
        global = true
    )]
    pub rate_generate_burst: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    On,
    Off,
}

impl Switch {
    pub fn is_on(self) -> bool {
        self == Switch::On
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

/// The mail server. Without `SMTP_HOST`, emails are written to the log.
#[derive(Clone, Args)]
pub struct SmtpArgs {
    #[arg(long, env = "SMTP_HOST", global = true)]
    pub smtp_host: Option<String>,
    /// Default: 587 for starttls, 465 for tls, 25 for none.
    #[arg(long, env = "SMTP_PORT", global = true)]
    pub smtp_port: Option<u16>,
    #[arg(long, env = "SMTP_USERNAME", global = true)]
    pub smtp_username: Option<String>,
    #[arg(long, env = "SMTP_PASSWORD", hide_env_values = true, global = true)]
    pub smtp_password: Option<String>,
    /// The sender of every email.
    #[arg(
        long,
        env = "SMTP_FROM",
        default_value = "Central Auth <noreply@localhost>",
        global = true
    )]
    pub smtp_from: String,
    #[arg(long, env = "SMTP_TLS", value_enum, default_value_t = SmtpTls::Starttls, global = true)]
    pub smtp_tls: SmtpTls,
    /// Seconds before a mail server that does not answer counts as down.
    #[arg(long, env = "SMTP_TIMEOUT_SECS", default_value_t = 10, global = true)]
    pub smtp_timeout_secs: u64,
    /// How often the outbox is checked for retries and for mail queued by
    /// other instances, in milliseconds.
    #[arg(long, env = "OUTBOX_POLL_MS", default_value_t = 2000, global = true)]
    pub outbox_poll_ms: u64,
}

impl std::fmt::Debug for SmtpArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpArgs")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_username", &self.smtp_username)
            .field(
                "smtp_password",
                &self.smtp_password.as_ref().map(|_| "[redacted]"),
            )
            .field("smtp_from", &self.smtp_from)
            .field("smtp_tls", &self.smtp_tls)
            .finish_non_exhaustive()
    }
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

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "[redacted]"),
            )
            .field("admin_email", &self.admin_email)
            .field("hours", &self.hours)
            .field("smtp", &self.smtp)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl ServeArgs {
    /// `worker_threads`, or its default for this machine.
    pub fn worker_threads(&self) -> usize {
        self.worker_threads
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> ServeArgs {
        let argv = std::iter::once("central-auth").chain(args.iter().copied());
        Cli::try_parse_from(argv).unwrap().serve
    }

    #[test]
    fn worker_threads_default_to_one_per_core_and_zero_means_default() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(serve(&["--worker-threads", "3"]).worker_threads(), 3);
        assert_eq!(serve(&["--worker-threads", "0"]).worker_threads(), cores);
        assert_eq!(serve(&["serve"]).worker_threads(), cores);
    }
}
