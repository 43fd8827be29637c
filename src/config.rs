//! Settings: command-line flags, then environment variables (an optional
//! `.env` is loaded into the environment first), then the documented default.
//! `.env.example` lists every one.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use axum::http::HeaderValue;
use clap::{Args, Parser, Subcommand, ValueEnum};
use ipnet::IpNet;

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
    /// SQLite only: `normal` (a commit survives a crash of the process, not
    /// necessarily a power cut) or `full` (an fsync per commit: survives a
    /// power cut too, each write costs more).
    #[arg(long, env = "SQLITE_SYNCHRONOUS", value_enum, default_value_t = SqliteSynchronous::Normal, global = true)]
    pub sqlite_synchronous: SqliteSynchronous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqliteSynchronous {
    Normal,
    Full,
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
    /// database (never to the log). Held to the rules for a new password
    /// when it makes that admin (not a common one, not containing the name).
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
    /// How long an OpenID Connect access token (and the ID token beside it)
    /// lives, in seconds; never longer than its session.
    #[arg(
        long,
        env = "OIDC_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 600,
        value_parser = clap::value_parser!(u32).range(10..=86400),
        global = true
    )]
    pub oidc_access_token_ttl_secs: u32,
    #[command(flatten)]
    pub edge: EdgeArgs,
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

/// The HTTP edge: who may call from where, and how long a client may take.
#[derive(Debug, Clone, Args)]
pub struct EdgeArgs {
    /// Reverse proxies and load balancers whose `X-Forwarded-For` is believed,
    /// as CIDRs or single addresses, comma-separated (e.g.
    /// `10.0.0.0/8,127.0.0.1/32,::1/128`). The header is walked from the right
    /// past these; the first address not in the list is the client. Default:
    /// none, the TCP peer is the client.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "", value_parser = parse_nets, global = true)]
    pub trusted_proxies: NetList,
    /// Deprecated: use `TRUSTED_PROXIES`. `true` now believes the last
    /// `X-Forwarded-For` entry only (the one the direct peer appended), from
    /// any peer; ignored when `TRUSTED_PROXIES` is set.
    #[arg(long, env = "TRUST_PROXY_HEADERS", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub trust_proxy_headers: bool,
    /// Origins whose pages may call the public routes (registration, the
    /// login flow, system status) from the browser, exact and
    /// comma-separated (`https://serviceb.example,https://www.example.org`).
    /// Default: none, same-origin only. `*` is refused.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", default_value = "", value_parser = parse_origins, global = true)]
    pub cors_allowed_origins: OriginList,
    /// Seconds a client has to send a request's headers; a connection kept
    /// alive is closed after as long without a new request. Minimum 1.
    #[arg(
        long,
        env = "HEADER_READ_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub header_read_timeout_secs: u64,
    /// Seconds a request may take from its headers to the answer, its body
    /// included; past it the answer is 408 `request_timeout`. Minimum 1.
    #[arg(
        long,
        env = "REQUEST_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub request_timeout_secs: u64,
    /// Connections served at once; more wait to be accepted until one closes.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 10000, global = true)]
    pub max_connections: usize,
    /// Client addresses that may read `GET /metrics` (CIDRs or addresses,
    /// comma-separated; behind a proxy, the address `TRUSTED_PROXIES` finds).
    /// Default: any address, as before this setting existed.
    #[arg(long, env = "METRICS_ALLOW", default_value = "", value_parser = parse_nets, global = true)]
    pub metrics_allow: NetList,
    /// When set, `GET /metrics` also needs `Authorization: Bearer <token>`
    /// (at least 16 characters).
    #[arg(long, env = "METRICS_BEARER_TOKEN", hide_env_values = true, value_parser = parse_metrics_token, global = true)]
    pub metrics_bearer_token: Option<MetricsToken>,
}

/// The bearer token of `/metrics`; its `Debug` prints no secret.
#[derive(Clone)]
pub struct MetricsToken(String);

impl MetricsToken {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken([redacted])")
    }
}

/// Never fails: clap would echo the value in its error. The length is
/// checked at start instead (`MetricsToken::check`).
fn parse_metrics_token(text: &str) -> Result<MetricsToken, String> {
    Ok(MetricsToken(text.trim().to_owned()))
}

impl MetricsToken {
    /// A token short enough to guess is refused, without naming it.
    pub fn check(&self) -> Result<(), String> {
        if self.0.chars().count() < 16 {
            return Err("METRICS_BEARER_TOKEN must be at least 16 characters".to_owned());
        }
        Ok(())
    }
}

/// Exact origins (`scheme://host[:port]`), as browsers send them in `Origin`.
#[derive(Debug, Clone, Default)]
pub struct OriginList(pub Vec<HeaderValue>);

/// A comma-separated list of origins; empty for none. `*` and anything with
/// a path are refused here, at start, rather than silently never matching.
fn parse_origins(text: &str) -> Result<OriginList, String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(parse_origin)
        .collect::<Result<_, _>>()
        .map(OriginList)
}

fn parse_origin(item: &str) -> Result<HeaderValue, String> {
    if item.contains('*') {
        return Err(format!(
            "`{item}`: wildcards are not allowed in CORS_ALLOWED_ORIGINS; list each origin \
             exactly, e.g. https://serviceb.example"
        ));
    }
    let rest = item
        .strip_prefix("https://")
        .or_else(|| item.strip_prefix("http://"))
        .ok_or_else(|| format!("`{item}` is not an origin: it starts with https:// or http://"))?;
    let bad = |c: char| matches!(c, '/' | '?' | '#' | '@') || c.is_whitespace() || c.is_control();
    if rest.is_empty() || rest.contains(bad) {
        return Err(format!(
            "`{item}` is not an origin: scheme, host and port only, no path or trailing slash \
             (e.g. https://serviceb.example or http://localhost:3000)"
        ));
    }
    // Browsers send scheme and host in lower case.
    HeaderValue::from_str(&item.to_ascii_lowercase())
        .map_err(|_| format!("`{item}` is not an origin"))
}

/// A comma-separated list of networks; empty for none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetList(pub Vec<IpNet>);

impl NetList {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// CIDRs (`10.0.0.0/8`) or single addresses (`127.0.0.1`, taken as /32 or
/// /128), comma-separated; an empty text (an empty variable in `.env`) is none.
fn parse_nets(text: &str) -> Result<NetList, String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{item}` is not a CIDR (10.0.0.0/8) or an IP address"))
        })
        .collect::<Result<_, _>>()
        .map(NetList)
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
    /// Failed password sign-ins on one account (phone, admin) before each
    /// further attempt waits: 1 s, then doubling up to `SIGNIN_DELAY_MAX_SECS`.
    #[arg(long, env = "SIGNIN_FREE_FAILURES", default_value_t = 3, global = true)]
    pub signin_free_failures: u32,
    /// The longest wait between two attempts on one account.
    #[arg(
        long,
        env = "SIGNIN_DELAY_MAX_SECS",
        default_value_t = 900,
        global = true
    )]
    pub signin_delay_max_secs: u32,
    /// An account's failures are forgotten after this long without an attempt.
    #[arg(
        long,
        env = "SIGNIN_FAILURES_FORGET_HOURS",
        default_value_t = 12,
        global = true
    )]
    pub signin_failures_forget_hours: u32,
    /// Failed password sign-ins per minute one client address may make, over
    /// all accounts, with the burst on top; 0: no limit. In memory, per instance.
    #[arg(
        long,
        env = "RATE_SIGNIN_FAILURES_PER_MIN",
        default_value_t = 10,
        global = true
    )]
    pub rate_signin_failures_per_min: u32,
    /// Failures allowed at once on top of that rate (0: the per-minute figure).
    #[arg(
        long,
        env = "RATE_SIGNIN_FAILURES_BURST",
        default_value_t = 20,
        global = true
    )]
    pub rate_signin_failures_burst: u32,
    /// Sustained requests per minute on the password sign-ins (`POST
    /// /api/mobile/login`, `/api/admin/login`, the console's sign-in form)
    /// per client address; 0: no limit.
    #[arg(long, env = "RATE_SIGNIN_PER_MIN", default_value_t = 30, global = true)]
    pub rate_signin_per_min: u32,
    /// Requests allowed at once on top of that rate (0: the per-minute figure).
    #[arg(long, env = "RATE_SIGNIN_BURST", default_value_t = 10, global = true)]
    pub rate_signin_burst: u32,
    /// Seconds a sign-in refused by that rate is held before its 429 goes
    /// out (at most its Retry-After; 0: answer at once). A guessing script
    /// that sends its next guess as soon as it hears back is then slowed to
    /// one a second per connection, and its refusals cost a timer rather
    /// than a share of the CPU that everyone else's requests need.
    #[arg(
        long,
        env = "RATE_SIGNIN_HOLD_SECS",
        default_value_t = 1,
        global = true
    )]
    pub rate_signin_hold_secs: u64,
    /// Password checks that may wait for a hashing thread (per lane: people,
    /// admins); past it, sign-in and registration answer 429 at once.
    #[arg(long, env = "HASH_QUEUE_MAX", default_value_t = 32, global = true)]
    pub hash_queue_max: u32,
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
    /// Live bearer tokens (API and console sign-ins) one admin may hold; a
    /// sign-in past it ends that admin's oldest. 0: no cap.
    #[arg(long, env = "ADMIN_TOKENS_MAX", default_value_t = 10, global = true)]
    pub admin_tokens_max: u32,
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
            .field("edge", &self.edge)
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

    #[test]
    fn trusted_proxies_take_cidrs_and_single_addresses() {
        let edge = serve(&[
            "--trusted-proxies",
            "10.0.0.0/8, 127.0.0.1,::1/128,10.1.2.3/16",
        ])
        .edge;
        let nets: Vec<String> = edge
            .trusted_proxies
            .0
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(
            nets,
            ["10.0.0.0/8", "127.0.0.1/32", "::1/128", "10.1.0.0/16"]
        );
        let argv = ["central-auth", "--trusted-proxies", "10.0.0.0/33"];
        assert!(Cli::try_parse_from(argv).is_err());
        assert!(serve(&["serve"]).edge.trusted_proxies.is_empty());
    }

    #[test]
    fn the_metrics_token_is_redacted_and_a_short_one_refused() {
        let edge = serve(&["--metrics-bearer-token", "a metrics scrape secret"]).edge;
        let shown = format!("{edge:?}");
        assert!(!shown.contains("scrape secret"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
        assert_eq!(edge.metrics_bearer_token.unwrap().check(), Ok(()));
        let short = serve(&["--metrics-bearer-token", "short secret"]).edge;
        let err = short.metrics_bearer_token.unwrap().check().unwrap_err();
        assert!(
            err.contains("at least 16") && !err.contains("short secret"),
            "{err}"
        );
    }

    #[test]
    fn cors_origins_are_exact_and_a_wildcard_is_refused() {
        let edge = serve(&[
            "--cors-allowed-origins",
            "https://B.example, http://localhost:3000",
        ])
        .edge;
        assert_eq!(
            edge.cors_allowed_origins.0,
            ["https://b.example", "http://localhost:3000"]
        );
        assert!(serve(&["serve"]).edge.cors_allowed_origins.0.is_empty());
        for bad in [
            "*",
            "https://*.example",
            "https://b.example/",
            "b.example",
            "https://",
        ] {
            let argv = ["central-auth", "--cors-allowed-origins", bad];
            let err = Cli::try_parse_from(argv).unwrap_err().to_string();
            assert!(err.contains("origin"), "{bad}: {err}");
        }
    }
}
