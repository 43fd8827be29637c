//! The data a run needs, made through the public API only, as a real
//! deployment would get it: approved users with enrolled phones, a service,
//! and a pool of live sessions.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::task::JoinSet;

use crate::Error;
use crate::api::{Service, User, VClient};
use crate::http::Endpoint;

/// Registration and enrolment hash passwords; more at once than this only
/// queues on the server's CPUs.
const USER_WORKERS: usize = 8;
const SESSION_WORKERS: usize = 16;

pub struct Fixture {
    /// Makes the names of this run unique on a server that has seen others.
    pub run_id: String,
    pub admin_user: String,
    pub admin_password: String,
    pub service: Service,
    pub users: Vec<User>,
    next_user: AtomicUsize,
    next_name: AtomicU64,
}

impl Fixture {
    /// Users in turn: a login per user at a time is how people log in.
    pub fn next_user(&self) -> Option<&User> {
        let i = self.next_user.fetch_add(1, Ordering::Relaxed);
        self.users.get(i % self.users.len().max(1))
    }

    /// A username no one has registered yet.
    pub fn fresh_username(&self) -> String {
        let n = self.next_name.fetch_add(1, Ordering::Relaxed);
        format!("b{}n{n}", self.run_id)
    }

    pub fn user_password(&self) -> String {
        format!("bench password {}", self.run_id)
    }
}

fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:08x}", nanos ^ std::process::id().rotate_left(16))
}

fn failed(client: &VClient, step: &str) -> Error {
    Error::Setup(format!("{step}: {}", client.rec.last_failure()))
}

/// Admin login, a service, and `users` users registered, approved and
/// enrolled on their "phones".
pub async fn fixture(
    endpoint: &Endpoint,
    admin_user: &str,
    admin_password: &str,
    users: usize,
) -> Result<Fixture, Error> {
    let run_id = run_id();
    let mut client = VClient::new(endpoint.clone());
    let admin_token = client
        .admin_login(admin_user, admin_password)
        .await
        .ok_or_else(|| failed(&client, "admin login"))?;
    let service = client
        .register_service(&admin_token, &format!("bench-{run_id}"))
        .await
        .ok_or_else(|| failed(&client, "registering the service"))?;
    let mut fixture = Fixture {
        run_id,
        admin_user: admin_user.to_owned(),
        admin_password: admin_password.to_owned(),
        service,
        users: Vec::with_capacity(users),
        next_user: AtomicUsize::new(0),
        next_name: AtomicU64::new(0),
    };
    let password = fixture.user_password();
    let mut workers = JoinSet::new();
    for worker in 0..USER_WORKERS.min(users) {
        let mut client = VClient::new(endpoint.clone());
        let names: Vec<String> = (worker..users)
            .step_by(USER_WORKERS)
            .map(|i| format!("b{}u{i}", fixture.run_id))
            .collect();
        let (admin_token, password) = (admin_token.clone(), password.clone());
        workers.spawn(async move {
            let mut enrolled = Vec::with_capacity(names.len());
            for username in names {
                // Each person registers from a device of their own (with the
                // limits on, registrations per address are capped).
                client.conn.new_address();
                let user_id = client
                    .register(&username, &password)
                    .await
                    .ok_or_else(|| failed(&client, "registering a user"))?;
                client
                    .approve(&admin_token, &user_id)
                    .await
                    .ok_or_else(|| failed(&client, "approving a user"))?;
                let auth_key = client
                    .mobile_login(&username, &password)
                    .await
                    .ok_or_else(|| failed(&client, "mobile login"))?;
                enrolled.push(User { username, auth_key });
            }
            Ok::<_, Error>(enrolled)
        });
    }
    while let Some(done) = workers.join_next().await {
        let enrolled = done.map_err(|e| Error::Setup(format!("a worker failed: {e}")))??;
        fixture.users.extend(enrolled);
    }
    // Stable order, so that "in turn" means the same on every run.
    fixture.users.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(fixture)
}

/// `sessions` live sessions, each from a full login of a user in turn.
pub async fn session_pool(
    endpoint: &Endpoint,
    fixture: &Arc<Fixture>,
    sessions: usize,
) -> Result<Vec<String>, Error> {
    let mut workers = JoinSet::new();
    for worker in 0..SESSION_WORKERS.min(sessions) {
        let mut client = VClient::new(endpoint.clone());
        let fixture = fixture.clone();
        let count = (worker..sessions).step_by(SESSION_WORKERS).count();
        workers.spawn(async move {
            let mut tokens = Vec::with_capacity(count);
            for _ in 0..count {
                let user = fixture
                    .next_user()
                    .ok_or_else(|| Error::Setup("no users to log in".to_owned()))?;
                let token = client
                    .login(&fixture.service, user)
                    .await
                    .ok_or_else(|| failed(&client, "logging in for the session pool"))?;
                tokens.push(token);
            }
            Ok::<_, Error>(tokens)
        });
    }
    let mut pool = Vec::with_capacity(sessions);
    while let Some(done) = workers.join_next().await {
        pool.extend(done.map_err(|e| Error::Setup(format!("a worker failed: {e}")))??);
    }
    Ok(pool)
}
