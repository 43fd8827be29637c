//! Putting the server together: open and migrate the database, make what a
//! first start needs (admin, schedule, signing key), bind, and serve until
//! asked to stop.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use tokio::net::TcpListener;
use zeroize::Zeroizing;

use crate::clock::Clock;
use crate::config::{
    DatabaseArgs, InitialHours, LimitArgs, ServeArgs, SigningKeyArgs, SqliteSynchronous,
};
use crate::domain::admins::FirstAdmin;
use crate::domain::password::PasswordHasher;
use crate::domain::rates::Rate;
use crate::domain::registration::{DigestSettings, QueueCaps};
use crate::domain::schedule::{Schedule, ScheduleInput};
use crate::domain::sealing::KeyEncryptionKey;
use crate::domain::secret::Password;
use crate::domain::signing::{KeyRing, SigningSettings};
use crate::domain::throttle::GuessingPolicy;
use crate::domain::upkeep::Retention;
use crate::domain::{Core, CoreSettings, DomainError};
use crate::email::mailer::Mailer;
use crate::email::worker::OutboxWorker;
use crate::http;
use crate::http::client_addr::TrustedProxies;
use crate::http::metrics::{Metrics, MetricsAccess};
use crate::http::rates::{AddressRateSettings, AddressRates};
use crate::http::serve::ConnectionLimits;
use crate::http::state::AppState;
use crate::storage::{self, Database, PoolSettings, SqliteSync};

/// Opens the database named by the settings and applies the migrations.
/// `clock` is the server's: it ages what storage caches.
pub async fn open_database(args: &DatabaseArgs, clock: Arc<dyn Clock>) -> anyhow::Result<Database> {
    let settings = PoolSettings {
        max_connections: args.database_max_connections.max(1),
        acquire_timeout: Duration::from_secs(args.database_acquire_timeout_secs.max(1)),
        sqlite_synchronous: match args.sqlite_synchronous {
            SqliteSynchronous::Normal => SqliteSync::Normal,
            SqliteSynchronous::Full => SqliteSync::Full,
        },
    };
    let db = Database::connect(&args.database_url, &settings, clock).await?;
    db.migrate().await?;
    Ok(db)
}

/// The domain core over an open database: the signing key is loaded (or
/// made, on first start) here.
pub async fn core(
    db: Database,
    clock: Arc<dyn Clock>,
    serve: &ServeArgs,
    public_url: String,
) -> anyhow::Result<Core> {
    let l = &serve.limits;
    let hasher = PasswordHasher::new(l.hash_queue_max.max(1) as usize).await?;
    let secs = |s: u32| SignedDuration::from_secs(i64::from(s.max(60)));
    let mut settings = CoreSettings::new(public_url.clone());
    settings.admin_token_ttl = secs(serve.admin_token_ttl_secs);
    settings.session_idle_timeout = secs(serve.session_idle_timeout_secs);
    settings.oidc.access_token_ttl =
        SignedDuration::from_secs(i64::from(serve.oidc_access_token_ttl_secs));
    settings.session_max_lifetime = secs(serve.session_max_lifetime);
    settings.admin_email = serve.admin_email.clone().filter(|e| !e.trim().is_empty());
    settings.rate_limits = serve.limits.rate_limits.is_on();
    settings.guessing = l.rate_limits.is_on().then(|| GuessingPolicy {
        free_failures: l.signin_free_failures,
        max_delay: SignedDuration::from_secs(i64::from(l.signin_delay_max_secs.max(1))),
        forget_after: SignedDuration::from_hours(i64::from(l.signin_failures_forget_hours.max(1))),
        per_address: rate(
            l,
            l.rate_signin_failures_per_min,
            l.rate_signin_failures_burst,
        ),
    });
    settings.generate_rate = rate(l, l.rate_generate_per_min, l.rate_generate_burst);
    let cap = |n: u32| (l.rate_limits.is_on() && n > 0).then_some(n);
    settings.admin_tokens_max = cap(l.admin_tokens_max);
    settings.queue_caps = QueueCaps {
        overall: cap(l.registration_pending_max),
        per_address: cap(l.registration_pending_per_address),
    };
    let u = &serve.upkeep;
    settings.digest = DigestSettings {
        individual_per_hour: u.registration_digest_after,
        every: SignedDuration::from_mins(i64::from(u.registration_digest_every_mins)),
    };
    settings.retention = Retention {
        flows: SignedDuration::from_hours(i64::from(u.purge_after_hours)),
        emails: SignedDuration::from_hours(24 * i64::from(u.outbox_keep_days)),
    };
    let signing = SigningSettings {
        encryption: encryption_key(&serve.keys)?,
        keep_retired: settings
            .session_max_lifetime
            .saturating_add(SignedDuration::from_secs(i64::from(reload_every(
                &serve.keys,
            )))),
    };
    let keys = KeyRing::open(db.clone(), public_url, signing, clock.now()).await?;
    Ok(Core::new(db, clock, hasher, settings, keys))
}

/// `SIGNING_KEY_RELOAD_SECS`, at least one.
fn reload_every(keys: &SigningKeyArgs) -> u32 {
    keys.signing_key_reload_secs.max(1)
}

/// The key that seals the signing keys, from the setting or its file. The
/// messages name the setting, never the value.
fn encryption_key(keys: &SigningKeyArgs) -> anyhow::Result<Option<KeyEncryptionKey>> {
    let (setting, text) = match (
        &keys.signing_key_encryption_key,
        &keys.signing_key_encryption_key_file,
    ) {
        (Some(text), _) => ("SIGNING_KEY_ENCRYPTION_KEY", Zeroizing::new(text.clone())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                anyhow::anyhow!(
                    "SIGNING_KEY_ENCRYPTION_KEY_FILE: cannot read {}: {e}",
                    path.display()
                )
            })?;
            ("SIGNING_KEY_ENCRYPTION_KEY_FILE", Zeroizing::new(text))
        }
        (None, None) => return Ok(None),
    };
    KeyEncryptionKey::parse(&text)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("{setting} {e}"))
}

/// A limit's rate, unless it is 0 or `RATE_LIMITS=off`.
fn rate(limits: &LimitArgs, per_minute: u32, burst: u32) -> Option<Rate> {
    (limits.rate_limits.is_on() && per_minute > 0).then_some(Rate { per_minute, burst })
}

fn address_rates(l: &LimitArgs) -> AddressRateSettings {
    AddressRateSettings {
        register: rate(l, l.rate_register_per_min, l.rate_register_burst),
        scan: rate(l, l.rate_scan_per_min, l.rate_scan_burst),
        deny: rate(l, l.rate_deny_per_min, l.rate_deny_burst),
        verify: rate(l, l.rate_verify_per_min, l.rate_verify_burst),
        status: rate(l, l.rate_status_per_min, l.rate_status_burst),
        sign_in: rate(l, l.rate_signin_per_min, l.rate_signin_burst),
        sign_in_hold: Duration::from_secs(l.rate_signin_hold_secs),
    }
}

/// `TRUSTED_PROXIES`, or the deprecated `TRUST_PROXY_HEADERS=true` in its
/// safe reading (one hop), said so in the log at start.
fn trusted_proxies(serve: &ServeArgs) -> TrustedProxies {
    let edge = &serve.edge;
    let legacy = edge.trust_proxy_headers;
    if legacy && edge.trusted_proxies.is_empty() {
        tracing::warn!(
            "TRUST_PROXY_HEADERS is deprecated: set TRUSTED_PROXIES to your proxies' addresses \
             instead; until then only the last X-Forwarded-For entry (the one the direct peer \
             appended) is believed, from any peer"
        );
    } else if legacy {
        tracing::warn!(
            "TRUST_PROXY_HEADERS is deprecated and ignored because TRUSTED_PROXIES is set; remove it"
        );
    }
    TrustedProxies::new(
        edge.trusted_proxies.0.clone(),
        legacy && edge.trusted_proxies.is_empty(),
    )
}

fn initial_schedule(hours: &InitialHours) -> anyhow::Result<ScheduleInput> {
    let input = ScheduleInput {
        enabled: hours.operating_hours_enabled,
        timezone: hours.timezone.clone(),
        opening_time: hours.opening_time.clone(),
        closing_time: hours.closing_time.clone(),
        days: hours
            .operating_days
            .split(',')
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .collect(),
    };
    let schedule = Schedule::parse(&input).map_err(|errors| {
        let list: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        anyhow::anyhow!("invalid operating hours settings: {}", list.join("; "))
    })?;
    Ok(schedule.to_input())
}

/// What every start makes sure of: the schedule row, the signing key and,
/// on an empty database, the first admin.
pub async fn prepare(
    core: &Core,
    serve: &ServeArgs,
    database: &DatabaseArgs,
) -> anyhow::Result<()> {
    let schedule = initial_schedule(&serve.hours)?;
    core.seed_schedule(&schedule).await?;
    let password = match &serve.admin_password {
        Some(raw) => Some(
            Password::parse_field("ADMIN_PASSWORD", raw.clone())
                .map_err(|e| anyhow::anyhow!("{} {}", e.field, e.message))?,
        ),
        None => None,
    };
    let first = core
        .ensure_first_admin(password, serve.admin_email.as_deref())
        .await
        .map_err(|e| match e {
            // ADMIN_PASSWORD broke a rule for a new password: say which.
            DomainError::Validation(errors) => {
                let why: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{} {}", e.field, e.message))
                    .collect();
                anyhow::anyhow!("{}", why.join("; "))
            }
            other => other.into(),
        })?;
    match first {
        FirstAdmin::AlreadyThere => {}
        FirstAdmin::Created {
            username,
            generated_password: Some(password),
        } => show_first_password(&username, &password, database)?,
        FirstAdmin::Created { username, .. } => {
            tracing::info!("first start: created admin '{username}' with ADMIN_PASSWORD");
        }
    }
    Ok(())
}

/// Where a generated first-start password is written when no terminal is
/// attached: beside the SQLite database (its folder is 0700), or in the
/// working directory for PostgreSQL.
/// The path is absolute, so the log line names one file without doubt.
pub fn first_password_file(database: &DatabaseArgs) -> std::io::Result<PathBuf> {
    let folder = match storage::sqlite_folder(&database.database_url) {
        Some(folder) => std::path::absolute(folder)?,
        None => std::env::current_dir()?,
    };
    Ok(folder.join(FIRST_PASSWORD_FILE))
}

const FIRST_PASSWORD_FILE: &str = "first-admin-password.txt";

/// The operator has no other way to learn a generated password, but a log
/// is copied, shipped and kept: the password goes once to the terminal when
/// one is attached, otherwise to a file only its owner can read, and the
/// log says only where it is.
fn show_first_password(
    username: &str,
    password: &Password,
    database: &DatabaseArgs,
) -> anyhow::Result<()> {
    let change = format!("change it with `central-auth create-admin --username {username}`");
    if std::io::stderr().is_terminal() {
        eprintln!(
            "first start: created admin '{username}' with password {}\n\
             (shown only now; {change})",
            password.expose()
        );
        tracing::warn!(
            "first start: created admin '{username}'; its password was shown on the terminal"
        );
        return Ok(());
    }
    let path = first_password_file(database)
        .map_err(|e| anyhow::anyhow!("cannot find the folder for {FIRST_PASSWORD_FILE}: {e}"))?;
    write_private(&path, &format!("{}\n", password.expose()))
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    tracing::warn!(
        "first start: created admin '{username}'; its password is in {} (readable by this user only; \
         {change}, then delete the file)",
        path.display()
    );
    Ok(())
}

/// Writes `text` to a file created 0600 (an older file is replaced).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // An existing file keeps its mode on open: tighten it before writing.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    outbox: OutboxWorker,
    db: Database,
    upkeep_every: u32,
    connections: ConnectionLimits,
    reload_keys_every: u32,
}

impl Application {
    /// Opens the database, prepares it and binds `serve.bind` (port 0 picks a
    /// free port, as the tests do).
    pub async fn build(
        database: &DatabaseArgs,
        serve: &ServeArgs,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        if let Some(token) = &serve.edge.metrics_bearer_token {
            token.check().map_err(anyhow::Error::msg)?;
        }
        let listener = TcpListener::bind(serve.bind).await.map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                "another program (perhaps another Central Auth) is listening there; \
                 pick another address with --bind or BIND_ADDR, e.g. --bind 127.0.0.1:8001"
            } else {
                "pick another address with --bind or BIND_ADDR"
            };
            anyhow::anyhow!("cannot listen on {}: {e}; {hint}", serve.bind)
        })?;
        // With port 0 the real port is known only now; links and the token
        // issuer must name it.
        let public_url = serve.public_url_for(listener.local_addr()?);
        let db = open_database(database, clock.clone()).await?;
        let core = core(db.clone(), clock.clone(), serve, public_url).await?;
        prepare(&core, serve, database).await?;
        let mailer = Mailer::from_settings(&serve.smtp)?;
        if let Mailer::Log = mailer {
            tracing::warn!("SMTP_HOST is not set: emails are written to the log instead of sent");
        }
        let outbox = OutboxWorker {
            db: db.clone(),
            mailer,
            clock,
            wake: core.outbox_wake(),
            poll: Duration::from_millis(serve.smtp.outbox_poll_ms.max(50)),
        };
        let state = AppState {
            core,
            metrics: Metrics::new(),
            metrics_access: Arc::new(MetricsAccess::new(
                serve.edge.metrics_allow.0.clone(),
                serve.edge.metrics_bearer_token.as_ref().map(|t| t.expose()),
            )),
            proxies: Arc::new(trusted_proxies(serve)),
            cors: http::cors::policy(&serve.edge.cors_allowed_origins.0),
            request_timeout: Duration::from_secs(serve.edge.request_timeout_secs.max(1)),
            rates: AddressRates::new(address_rates(&serve.limits)),
        };
        Ok(Self {
            listener,
            state,
            outbox,
            db,
            upkeep_every: serve.upkeep.upkeep_every_secs,
            connections: ConnectionLimits {
                header_read_timeout: Duration::from_secs(
                    serve.edge.header_read_timeout_secs.max(1),
                ),
                max_connections: serve.edge.max_connections.max(1),
            },
            reload_keys_every: reload_every(&serve.keys),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The domain core this server runs on (the tests sign with its keys
    /// where no route does yet).
    pub fn core(&self) -> Core {
        self.state.core.clone()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let metrics = self.state.metrics.clone();
        let (rates, core) = (self.state.rates.clone(), self.state.core.clone());
        let upkeep = every(Duration::from_secs(5), move || {
            metrics.upkeep();
            // Keyed rate state would otherwise grow with every address seen.
            rates.upkeep();
            core.rates_upkeep();
            std::future::ready(())
        });
        let core = self.state.core.clone();
        let db_upkeep = every(
            Duration::from_secs(u64::from(self.upkeep_every.max(1))),
            move || {
                let core = core.clone();
                async move {
                    if let Err(err) = core.upkeep().await {
                        tracing::warn!(error = %err, "upkeep failed; the next run tries again");
                    }
                }
            },
        );
        let core = self.state.core.clone();
        let key_reload = every(
            Duration::from_secs(u64::from(self.reload_keys_every)),
            move || {
                let core = core.clone();
                async move {
                    if let Err(err) = core.reload_signing_keys().await {
                        tracing::warn!(error = %err, "reading the signing keys failed; signing on with the current one");
                    }
                }
            },
        );
        let outbox = tokio::spawn(self.outbox.run());
        let db = self.db;
        let app = http::app(self.state);
        http::serve::serve(self.listener, app, self.connections, shutdown).await;
        upkeep.abort();
        db_upkeep.abort();
        key_reload.abort();
        // A message being sent keeps its lease and is retried when it expires.
        outbox.abort();
        db.close().await;
        Ok(())
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Runs `task` every `period` (the first run at once) until aborted; a run
/// that overruns delays the next rather than bunching them up.
fn every<F, Fut>(period: Duration, mut task: F) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            task().await;
        }
    })
}
