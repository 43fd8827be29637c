//! The server under test when the harness starts it: the release binary on
//! a free loopback port, over a fresh SQLite file or a fresh PostgreSQL
//! database, stopped (and the database dropped) at the end.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use sqlx::Connection;
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::Error;
use crate::http::{Conn, Endpoint};

/// Migrations on a fresh database and the first Argon2 hashes take a
/// moment; a busy machine needs more.
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Spawned {
    pub endpoint: Endpoint,
    pub pid: u32,
    pub backend: &'static str,
    pub log: PathBuf,
    child: Child,
    postgres: Option<PgDatabase>,
    _dir: TempDir,
}

impl Spawned {
    pub async fn start(
        bin: &Path,
        database_url: Option<&str>,
        admin_password: &str,
        env: &[(String, String)],
        log_dir: Option<&Path>,
    ) -> Result<Self, Error> {
        let bin = std::fs::canonicalize(bin).map_err(|e| {
            Error::Server(format!(
                "{}: {e} (build it first: cargo build --release -p central-auth)",
                bin.display()
            ))
        })?;
        let backend = match database_url {
            Some(url) if url.starts_with("postgres") => "postgres",
            Some(other) => {
                return Err(Error::Usage(format!(
                    "--database-url {other}: only postgres:// (or none, for a fresh SQLite file)"
                )));
            }
            None => "sqlite",
        };
        let dir = tempfile::tempdir()?;
        let log = match log_dir {
            Some(d) => {
                std::fs::create_dir_all(d)?;
                d.join(format!("server-{backend}.log"))
            }
            None => dir.path().join("server.log"),
        };
        // Created last, so that nothing can fail between creating and
        // handing it to `Spawned`, whose `stop` drops it.
        let postgres = match database_url {
            Some(admin) if backend == "postgres" => Some(PgDatabase::create(admin).await?),
            _ => None,
        };
        let url = match &postgres {
            Some(db) => db.url.clone(),
            None => format!("sqlite://{}", dir.path().join("central-auth.db").display()),
        };
        let (child, pid, port) =
            match Self::spawn_child(&bin, &url, admin_password, env, dir.path(), &log) {
                Ok(started) => started,
                Err(e) => {
                    if let Some(db) = postgres {
                        let _ = db.drop_database().await;
                    }
                    return Err(e);
                }
            };
        let mut spawned = Self {
            endpoint: Endpoint::from_addr(([127, 0, 0, 1], port).into()),
            pid,
            backend,
            log,
            child,
            postgres,
            _dir: dir,
        };
        if let Err(e) = spawned.wait_ready().await {
            spawned.stop().await;
            return Err(e);
        }
        Ok(spawned)
    }

    fn spawn_child(
        bin: &Path,
        url: &str,
        admin_password: &str,
        env: &[(String, String)],
        dir: &Path,
        log: &Path,
    ) -> Result<(Child, u32, u16), Error> {
        let output = std::fs::File::create(log)?;
        let port = free_port()?;
        let child = Command::new(bin)
            .arg("serve")
            // No `.env` of the caller's working directory gets read.
            .current_dir(dir)
            .env("DATABASE_URL", url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("ADMIN_PASSWORD", admin_password)
            .env("RATE_LIMITS", "off")
            .env("RUST_LOG", "warn")
            // `--limits on` and `--server-env`, after the defaults above.
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::Server(format!("starting {}: {e}", bin.display())))?;
        let pid = child
            .id()
            .ok_or_else(|| Error::Server("the server exited at once".to_owned()))?;
        Ok((child, pid, port))
    }

    async fn wait_ready(&mut self) -> Result<(), Error> {
        let started = Instant::now();
        let mut conn = Conn::new(self.endpoint.clone());
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(Error::Server(format!(
                    "exited with {status} during start-up; its log:\n{}",
                    log_tail(&self.log)
                )));
            }
            if let Ok(answer) = conn
                .request(hyper::Method::GET, "/healthz", None, None)
                .await
                && answer.status.is_success()
            {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(Error::Server(format!(
                    "no answer on /healthz after {START_TIMEOUT:?}; its log:\n{}",
                    log_tail(&self.log)
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the server and drops its PostgreSQL database; the SQLite file
    /// goes with the temporary folder.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        if let Some(db) = self.postgres.take()
            && let Err(e) = db.drop_database().await
        {
            eprintln!("bench: could not drop database {}: {e}", db.name);
        }
    }
}

/// A port that was free a moment ago; the server binds it right after.
fn free_port() -> Result<u16, Error> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A database of the run's own on the given PostgreSQL server.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create(admin_url: &str) -> Result<Self, Error> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("central_auth_bench_{}_{nanos}", std::process::id());
        // `postgres://user@host:port/db?opts` → `postgres://user@host:port/NAME?opts`
        let (scheme, rest) = admin_url
            .split_once("://")
            .ok_or_else(|| Error::Usage(format!("{admin_url}: not a URL")))?;
        let authority = rest.split(['/', '?']).next().unwrap_or(rest);
        let query = rest
            .split_once('?')
            .map_or(String::new(), |(_, q)| format!("?{q}"));
        let url = format!("{scheme}://{authority}/{name}{query}");
        let mut conn = sqlx::postgres::PgConnection::connect(admin_url).await?;
        sqlx::Executor::execute(
            &mut conn,
            sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")),
        )
        .await?;
        conn.close().await?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            url,
            name,
        })
    }

    async fn drop_database(&self) -> Result<(), Error> {
        let mut conn = sqlx::postgres::PgConnection::connect(&self.admin_url).await?;
        sqlx::Executor::execute(
            &mut conn,
            sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )),
        )
        .await?;
        conn.close().await?;
        Ok(())
    }
}
