//! The only place with SQL. One `Database` speaks to SQLite or PostgreSQL
//! through sqlx's `Any` driver: the statements are written once in the SQL
//! both understand (`$1` parameters, `RETURNING`, `ON CONFLICT`), and only the
//! migrations differ per dialect. Columns are INTEGER/TEXT only (timestamps as
//! Unix milliseconds), which `Any` decodes the same on both.
//!
//! Every transaction that writes starts with a write, so SQLite takes its write
//! lock up front (waiting out `busy_timeout`) instead of failing to upgrade a
//! read lock under concurrency.
//!
//! On SQLite, writes go through a pool of their own with one connection:
//! SQLite admits one writer at a time anyway, and queueing for that
//! connection in the pool is fair and wakes the next writer the moment the
//! last one commits, where contending connections would each sleep in
//! SQLite's busy handler (1, 2, 5, 10… ms) and retry. Those writes run on a
//! thread of their own (`write_lane`). Reads use the other pool and, in WAL
//! mode, never wait for the writer.
//!
//! The hottest reads are cached (`fresh_cache`), under one rule: every write
//! that changes a cached row goes through `Database`, which drops what it
//! touched once it has committed, so the change is seen by the very next
//! request on this instance; a change made elsewhere is seen within
//! `FRESH_FOR` (1 s, on the server's clock).
//! - On SQLite, a busy session's validations and a service's credentials on
//!   every login step, and its OIDC client settings on every authorize and
//!   token request. This process is then the database's only writer but
//!   for the `central-auth` CLI, whose changes are the "elsewhere".
//! - On both databases, the operating-hours schedule the login gate checks
//!   on every login step: a change made on another instance applies there
//!   within the second. The admin views read the stored row.
//!
//! PostgreSQL, where other instances write too, always reads session and
//! service rows, so a logout or a deactivation on one instance holds on all
//! of them at once.

mod admins;
mod fresh_cache;
mod history;
mod keys;
mod oidc;
mod oidc_clients;
mod outbox;
mod purge;
mod qr;
mod queue;
mod schedule;
mod services;
mod sessions;
mod throttle;
mod upgrades;
mod users;
mod write_lane;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use crate::clock::Clock;
use crate::domain::DomainError;
use crate::domain::login::records::SessionRecord;
use crate::domain::model::{Cursor, Page, PageRequest, Service};
use crate::domain::oidc::client::OidcClient;
use crate::domain::schedule::Schedule;
use crate::domain::secret::TokenHash;
use fresh_cache::FreshCache;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use write_lane::WriteLane;

pub use fresh_cache::FRESH_FOR;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error("database error: {0}")]
    Query(sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported DATABASE_URL (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot make the database file {path} private (mode 0600): {source}")]
    Private {
        path: String,
        source: std::io::Error,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the database writer stopped: {0}")]
    WriterStopped(std::io::Error),
}

/// What the domain makes of a storage failure: an outage is a 503 that may
/// pass, anything else an internal error whose detail goes to the log only.
impl From<StorageError> for DomainError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::Unavailable(_) | StorageError::WriterStopped(_) => {
                DomainError::Unavailable
            }
            other => DomainError::Internal(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(err: sqlx::Error) -> Self {
        if is_outage(&err) {
            StorageError::Unavailable(err)
        } else {
            StorageError::Query(err)
        }
    }
}

/// Whether an error means "the database cannot be reached right now" (503,
/// try again) rather than "this query is wrong" (500).
fn is_outage(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08: connection exceptions; 57P0x: the server is
        // shutting down, crashed or starting up.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// Whether an error is a UNIQUE violation: the database's word that a
/// name is taken, even when two requests raced past an earlier check.
fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Pool settings that come from configuration.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// SQLite only: `synchronous` in WAL mode.
    pub sqlite_synchronous: SqliteSync,
}

/// How hard SQLite makes a commit durable (its `PRAGMA synchronous`, in WAL
/// mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SqliteSync {
    /// A commit survives a crash of the process; a power cut or an OS crash
    /// may lose the last commits (never corrupts the file).
    #[default]
    Normal,
    /// Every commit is synced to the disk before it is acknowledged: it
    /// survives a power cut too, at the cost of an fsync per commit.
    Full,
}

impl SqliteSync {
    fn pragma(self) -> &'static str {
        match self {
            SqliteSync::Normal => "PRAGMA synchronous = NORMAL",
            SqliteSync::Full => "PRAGMA synchronous = FULL",
        }
    }
}

#[derive(Clone)]
pub struct Database {
    /// Reads (and, on PostgreSQL, everything).
    pool: AnyPool,
    /// Statements that write. On SQLite one connection; on PostgreSQL the
    /// same pool as `pool`.
    writer: AnyPool,
    /// Where the statements on `writer` run.
    lane: WriteLane,
    /// SQLite only (see above): sessions as `find_session` reads them,
    /// and services with their key hash by id.
    sessions: Option<Arc<FreshCache<SessionRecord>>>,
    services: Option<Arc<FreshCache<(Service, TokenHash)>>>,
    /// SQLite only, like `services`: OIDC client settings by service id
    /// (`None` cached too: "not a client"), read on every authorize and
    /// token request.
    oidc_clients: Option<Arc<FreshCache<Option<OidcClient>>>>,
    /// Both databases (see above): the schedule, under one key.
    schedule: Arc<FreshCache<Schedule>>,
    backend: Backend,
}

impl Database {
    /// Opens the pool. For SQLite the file and its folder are created on first
    /// use and the connection is put in WAL mode. `clock` ages the caches.
    pub async fn connect(
        url: &str,
        settings: &PoolSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StorageError> {
        install_default_drivers();
        let (backend, url) = prepare_url(url)?;
        let pool = pool_options(backend, settings.max_connections, settings)
            .connect(&url)
            .await?;
        let (writer, lane) = if backend == Backend::Sqlite && !url.contains(":memory:") {
            let writer = pool_options(backend, 1, settings).connect(&url).await?;
            (writer, WriteLane::dedicated()?)
        } else {
            (pool.clone(), WriteLane::in_place())
        };
        let cached = backend == Backend::Sqlite;
        Ok(Self {
            pool,
            writer,
            lane,
            sessions: cached.then(|| Arc::new(FreshCache::new(50_000, clock.clone()))),
            services: cached.then(|| Arc::new(FreshCache::new(1_000, clock.clone()))),
            oidc_clients: cached.then(|| Arc::new(FreshCache::new(1_000, clock.clone()))),
            schedule: Arc::new(FreshCache::new(1, clock)),
            backend,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the versioned migrations of this backend's dialect, then the
    /// upgrades of stored data not yet done (`upgrades`). sqlx takes a lock
    /// first, so instances starting together do not race on the migrations.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        self.run_data_upgrades().await
    }

    /// A round trip to the database, for `/readyz`: answers within
    /// `timeout` even when the database does not.
    pub async fn ping(&self, timeout: Duration) -> Result<(), StorageError> {
        match tokio::time::timeout(timeout, sqlx::query("SELECT 1").execute(&self.pool)).await {
            Ok(done) => done.map(|_| ()).map_err(StorageError::from),
            Err(_) => Err(StorageError::Unavailable(sqlx::Error::PoolTimedOut)),
        }
    }

    /// Runs a write on the write lane (see `write_lane`), handing it the
    /// writer pool. Everything that writes goes through here.
    async fn write<T, F, Fut>(&self, write: F) -> Result<T, StorageError>
    where
        F: FnOnce(AnyPool) -> Fut,
        Fut: Future<Output = Result<T, StorageError>> + Send + 'static,
        T: Send + 'static,
    {
        self.lane.run(write(self.writer.clone())).await
    }

    /// Tells the session cache (if any) that these sessions changed.
    fn forget_sessions(&self, which: Forget<'_>) {
        if let Some(cache) = &self.sessions {
            match which {
                Forget::One(session_id) => cache.forget(session_id),
                Forget::All => cache.forget_all(),
            }
        }
    }

    /// Tells the service cache (if any) that services changed. (Sessions
    /// carry their service's state too, so they go as well, and so do the
    /// OIDC client settings: whoever reads them next reads the service's
    /// new state beside them.)
    fn forget_services(&self) {
        if let Some(cache) = &self.services {
            cache.forget_all();
        }
        if let Some(cache) = &self.oidc_clients {
            cache.forget_all();
        }
        self.forget_sessions(Forget::All);
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// Which cached sessions a write made stale.
enum Forget<'a> {
    One(&'a str),
    All,
}

fn pool_options(backend: Backend, max_connections: u32, settings: &PoolSettings) -> AnyPoolOptions {
    let sync = settings.sqlite_synchronous.pragma();
    let options = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(settings.acquire_timeout);
    match backend {
        // A SQLite connection is a file handle in this process: there is no
        // peer that could have dropped it, so the ping before each checkout
        // (a round trip to the connection's thread) buys nothing.
        Backend::Sqlite => options
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute(sync).await?;
                    Ok(())
                })
            }),
        Backend::Postgres => options,
    }
}

/// A `sqlite:` URL's file path and query, or `None` for other URLs.
fn sqlite_parts(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    Some(rest.split_once('?').unwrap_or((rest, "")))
}

/// The folder that holds a SQLite database file (`.` for a bare file
/// name), or `None` for PostgreSQL and in-memory databases.
pub fn sqlite_folder(url: &str) -> Option<PathBuf> {
    let (path, _) = sqlite_parts(url)?;
    if path == ":memory:" {
        return None;
    }
    let parent = Path::new(path).parent().unwrap_or(Path::new(""));
    Some(if parent.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        parent.to_path_buf()
    })
}

/// Splits the backend off the URL and, for SQLite, makes sure the folder
/// exists and the file may be created, privately (see `make_private`).
fn prepare_url(url: &str) -> Result<(Backend, String), StorageError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_owned()));
    }
    let Some((path, query)) = sqlite_parts(url) else {
        return Err(StorageError::UnsupportedUrl);
    };
    let parent = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty());
    let query = if query.split('&').any(|kv| kv.starts_with("mode=")) {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    if path != ":memory:" {
        let creates = query.split('&').any(|kv| kv == "mode=rwc");
        make_private(parent, Path::new(path), creates)?;
    }
    Ok((Backend::Sqlite, format!("sqlite://{path}?{query}")))
}

/// The database holds password hashes and the key that signs sessions, so
/// only its owner may read it: a folder made here is 0700, and the file is
/// created 0600 before SQLite first opens it (SQLite gives its -wal and
/// -shm files the database file's mode). An existing file is tightened to
/// 0600 on every start.
fn make_private(folder: Option<&Path>, file: &Path, creates: bool) -> Result<(), StorageError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if let Some(folder) = folder {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .map_err(|source| StorageError::Folder {
                path: folder.display().to_string(),
                source,
            })?;
    }
    let private = |source| StorageError::Private {
        path: file.display().to_string(),
        source,
    };
    if file.exists() {
        return std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
            .map_err(private);
    }
    if creates {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(file)
        {
            Ok(_) => {}
            // Another instance created it a moment ago: its mode is ours.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(private(e)),
        }
    }
    Ok(())
}

/// Converts the rows of a keyset query (fetched with `LIMIT limit + 1`) into
/// a page whose cursor is the last item's sort key and id.
fn into_page<R, T>(
    rows: Vec<R>,
    page: &PageRequest,
    cursor_of: impl Fn(&T) -> Cursor,
) -> Result<Page<T>, StorageError>
where
    T: TryFrom<R, Error = StorageError>,
{
    let items = rows
        .into_iter()
        .map(T::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page.page(items, cursor_of))
}

/// The position after which an ascending, time-keyed page starts.
fn after_millis(page: &PageRequest) -> (i64, String) {
    match &page.after {
        Some(c) => (c.key.parse::<i64>().unwrap_or(i64::MIN), c.id.clone()),
        None => (i64::MIN, String::new()),
    }
}

/// Timestamps are stored as Unix milliseconds.
fn to_millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn from_millis(ms: i64) -> Result<Timestamp, StorageError> {
    Timestamp::from_millisecond(ms).map_err(|e| StorageError::Corrupt(e.to_string()))
}

fn from_millis_opt(ms: Option<i64>) -> Result<Option<Timestamp>, StorageError> {
    ms.map(from_millis).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        let (b, url) = prepare_url("sqlite://target/test-prepare/x.db").unwrap();
        assert_eq!(b, Backend::Sqlite);
        assert_eq!(url, "sqlite://target/test-prepare/x.db?mode=rwc");
        let (_, url) = prepare_url("sqlite:x.db?mode=ro").unwrap();
        assert_eq!(url, "sqlite://x.db?mode=ro");
        let (b, _) = prepare_url("postgres://u@localhost/db").unwrap();
        assert_eq!(b, Backend::Postgres);
        assert!(prepare_url("mysql://x").is_err());
    }

    #[test]
    fn the_database_folder_and_file_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("data");
        let file = folder.join("central-auth.db");
        prepare_url(&format!("sqlite://{}", file.display())).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(&file), 0o600);
        // A file left readable by an older version is tightened.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        prepare_url(&format!("sqlite://{}", file.display())).unwrap();
        assert_eq!(mode(&file), 0o600);
    }

    /// `SQLITE_SYNCHRONOUS` reaches every connection, readers and the writer.
    #[tokio::test]
    async fn sqlite_synchronous_is_applied_to_every_connection() {
        let dir = tempfile::tempdir().unwrap();
        for (sync, expected) in [(SqliteSync::Normal, 1), (SqliteSync::Full, 2)] {
            let url = format!("sqlite://{}/{expected}.db", dir.path().display());
            let settings = PoolSettings {
                max_connections: 2,
                acquire_timeout: Duration::from_secs(5),
                sqlite_synchronous: sync,
            };
            let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
            let db = Database::connect(&url, &settings, clock).await.unwrap();
            for pool in [&db.pool, &db.writer] {
                let (level,): (i64,) = sqlx::query_as("PRAGMA synchronous")
                    .fetch_one(pool)
                    .await
                    .unwrap();
                assert_eq!(level, expected, "{sync:?}");
            }
            db.close().await;
        }
    }
}
