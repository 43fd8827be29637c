//! Crash safety (issue 13): a 2xx means committed. Several clients register,
//! get approved, log in and out against the real binary while it is killed
//! with SIGKILL again and again and restarted on the same database; every
//! answer that was a 2xx must still be true afterwards, and a SQLite file
//! must pass its integrity check. Runs on PostgreSQL when
//! `TEST_DATABASE_URL` is set (`scripts/test` does both).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::harness::{Api, TestDb, registration};
use crate::instance::{Instance, text};

const ROUNDS: u64 = 8;

/// What the server acknowledged with a 2xx.
#[derive(Debug)]
enum Fact {
    Registered(String),
    Approved {
        user_id: String,
        email: String,
    },
    Session(String),
    /// A logout was sent: if its answer was lost, it may or may not have
    /// happened.
    LogoutSent(String),
    LoggedOut(String),
}

/// Everything a worker needs, cloned into it.
#[derive(Clone)]
struct Setup {
    admin: String,
    service_id: String,
    api_key: String,
    auth_key: String,
}

/// Approvals and sessions acknowledged in the current round, so that the
/// kill comes once each stream is under way, however slow the machine.
#[derive(Clone, Default)]
struct Progress {
    approvals: Arc<AtomicUsize>,
    sessions: Arc<AtomicUsize>,
}

impl Progress {
    fn under_way(&self) -> bool {
        self.approvals.load(Ordering::Relaxed) > 0 && self.sessions.load(Ordering::Relaxed) > 0
    }
}

/// How long a round may take to get under way before it is killed anyway
/// (and the floor at the end says so).
const GET_GOING: Duration = Duration::from_secs(30);

/// The settings of every start: no limits (one address does everything).
const ENV: [(&str, &str); 1] = [("RATE_LIMITS", "off")];

async fn post(
    api: &Api,
    path: &str,
    body: &Value,
    bearer: Option<&str>,
) -> Option<(StatusCode, Value)> {
    let mut request = api.client.post(api.url(path)).json(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let res = request.send().await.ok()?;
    let status = res.status();
    let body = res.json().await.unwrap_or(Value::Null);
    Some((status, body))
}

/// Registers and approves people until the server goes away.
async fn registrations(
    api: Api,
    setup: Setup,
    tag: String,
    progress: Progress,
    facts: &mut Vec<Fact>,
) -> Vec<String> {
    let mut odd = Vec::new();
    for n in 0.. {
        let username = format!("{tag}n{n}");
        let Some((status, body)) =
            post(&api, "/api/register", &registration(&username), None).await
        else {
            break;
        };
        if status != StatusCode::CREATED {
            odd.push(format!("register: {status} {body}"));
            break;
        }
        let user_id = text(&body, "user_id");
        facts.push(Fact::Registered(user_id.clone()));
        let path = format!("/api/admin/approve/{user_id}");
        let Some((status, body)) = post(&api, &path, &Value::Null, Some(&setup.admin)).await else {
            break;
        };
        if status != StatusCode::OK {
            odd.push(format!("approve: {status} {body}"));
            break;
        }
        facts.push(Fact::Approved {
            user_id,
            email: format!("{username}@example.com"),
        });
        progress.approvals.fetch_add(1, Ordering::Relaxed);
    }
    odd
}

/// Logs in (generate → scan → verify) and out, every other session,
/// until the server goes away.
async fn logins(api: Api, setup: Setup, progress: Progress, facts: &mut Vec<Fact>) -> Vec<String> {
    let mut odd = Vec::new();
    let service = json!({"service_id": setup.service_id, "api_key": setup.api_key});
    for n in 0.. {
        let Some((status, body)) = post(&api, "/api/auth/qr/generate", &service, None).await else {
            break;
        };
        if status != StatusCode::CREATED {
            odd.push(format!("generate: {status} {body}"));
            break;
        }
        let qr = text(&body, "qr_token");
        let scan = json!({"qr_token": qr, "auth_key": setup.auth_key});
        let Some((status, body)) = post(&api, "/api/auth/qr/scan", &scan, None).await else {
            break;
        };
        if status != StatusCode::OK {
            odd.push(format!("scan: {status} {body}"));
            break;
        }
        let verify = json!({"qr_token": qr, "pin": text(&body, "pin"),
                            "service_id": setup.service_id, "api_key": setup.api_key});
        let Some((status, body)) = post(&api, "/api/auth/pin/verify", &verify, None).await else {
            break;
        };
        if status != StatusCode::OK {
            odd.push(format!("verify: {status} {body}"));
            break;
        }
        let token = text(&body, "session_token");
        facts.push(Fact::Session(token.clone()));
        progress.sessions.fetch_add(1, Ordering::Relaxed);
        if n % 2 == 0 {
            facts.push(Fact::LogoutSent(token.clone()));
            let Some((status, body)) = post(
                &api,
                "/api/auth/logout",
                &json!({"session_token": token}),
                None,
            )
            .await
            else {
                break;
            };
            if status != StatusCode::OK {
                odd.push(format!("logout: {status} {body}"));
                break;
            }
            facts.push(Fact::LoggedOut(token));
        }
    }
    odd
}

/// Every item of a paginated admin list.
async fn all(api: &Api, admin: &str, path: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{path}{sep}limit=500");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let res = api.admin_get(admin, &url).await;
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        let body: Value = res.json().await.unwrap();
        items.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

async fn setup(db: &TestDb) -> Setup {
    let server = Instance::start_with(&db.url, &ENV).await;
    let admin = server.admin_token().await;
    let res = server
        .admin_post(
            &admin,
            "/api/services/register",
            Some(&json!({"name": "ServiceB"})),
        )
        .await;
    let service: Value = res.json().await.unwrap();
    let (status, body) = post(&server, "/api/register", &registration("phone"), None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/api/admin/approve/{}", text(&body, "user_id"));
    let res = server.admin_post(&admin, &path, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let login = json!({"username": "phone", "password": "correct horse battery"});
    let (status, enrolled) = post(&server, "/api/mobile/login", &login, None)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{enrolled}");
    Setup {
        admin,
        service_id: text(&service, "service_id"),
        api_key: text(&service, "api_key"),
        auth_key: text(&enrolled, "auth_key"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_kill_9() {
    let db = TestDb::fresh().await;
    let setup = setup(&db).await;
    let mut facts: Vec<Fact> = Vec::new();
    let mut odd: Vec<String> = Vec::new();
    for round in 0..ROUNDS {
        let server = Instance::start_with(&db.url, &ENV).await;
        let mut workers = JoinSet::new();
        let progress = Progress::default();
        for w in 0..4 {
            let (api, setup) = (Api::new(server.base.clone()), setup.clone());
            let (tag, progress) = (format!("r{round}w{w}"), progress.clone());
            workers.spawn(async move {
                let mut mine = Vec::new();
                let odd = if w % 2 == 0 {
                    registrations(api, setup, tag, progress, &mut mine).await
                } else {
                    logins(api, setup, progress, &mut mine).await
                };
                (mine, odd)
            });
        }
        // Once both streams are under way, killed at a different moment of
        // them each round.
        let started = Instant::now();
        while !progress.under_way() && started.elapsed() < GET_GOING {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(200 + (round * 137) % 400)).await;
        drop(server); // SIGKILL, then reaped
        while let Some(done) = workers.join_next().await {
            let (mine, strange) = done.unwrap();
            facts.extend(mine);
            odd.extend(strange);
        }
    }
    assert!(
        odd.is_empty(),
        "answers other than 2xx or a cut connection: {odd:?}"
    );
    let count = |f: fn(&Fact) -> bool| facts.iter().filter(|x| f(x)).count();
    let approvals = count(|f| matches!(f, Fact::Approved { .. }));
    let sessions = count(|f| matches!(f, Fact::Session(_)));
    assert!(
        approvals >= ROUNDS as usize && sessions >= ROUNDS as usize,
        "too little happened between the kills to prove anything: \
         {approvals} approvals, {sessions} sessions"
    );

    let server = Instance::start_with(&db.url, &ENV).await;
    let admin = server.admin_token().await;
    let active: BTreeSet<String> = all(&server, &admin, "/api/admin/users?status=active")
        .await
        .iter()
        .map(|u| text(u, "user_id"))
        .collect();
    let pending: BTreeSet<String> = all(&server, &admin, "/api/admin/pending")
        .await
        .iter()
        .map(|u| text(u, "user_id"))
        .collect();
    let approval_mails: BTreeSet<String> = all(&server, &admin, "/api/admin/outbox")
        .await
        .iter()
        .filter(|m| m["kind"] == "approved")
        .map(|m| text(m, "recipient"))
        .collect();
    let tokens = |which: fn(&Fact) -> Option<&String>| -> BTreeSet<&String> {
        facts.iter().filter_map(which).collect()
    };
    let logged_out = tokens(|f| match f {
        Fact::LoggedOut(t) => Some(t),
        _ => None,
    });
    let logout_sent = tokens(|f| match f {
        Fact::LogoutSent(t) => Some(t),
        _ => None,
    });
    let mut answers: HashMap<&str, usize> = HashMap::new();
    for fact in &facts {
        match fact {
            Fact::Registered(id) => assert!(
                active.contains(id) || pending.contains(id),
                "an acknowledged registration is gone: {id}"
            ),
            Fact::Approved { user_id, email } => {
                assert!(
                    active.contains(user_id),
                    "an acknowledged approval is gone: {user_id}"
                );
                assert!(
                    approval_mails.contains(email),
                    "the approval email of {email} is not in the outbox"
                );
            }
            Fact::Session(token) => {
                let body = json!({"session_token": token, "service_id": setup.service_id});
                let res = server.post("/api/auth/validate-session", &body).await;
                let answer: Value = res.json().await.unwrap();
                if logged_out.contains(token) {
                    assert_eq!(answer["valid"], false, "{answer}");
                    assert_eq!(answer["reason"], "logged_out", "{answer}");
                    *answers.entry("logged out").or_default() += 1;
                } else if logout_sent.contains(token) {
                    // Its logout's answer was cut off: either is true.
                    let ended = answer["reason"] == "logged_out";
                    assert!(answer["valid"] == true || ended, "{answer}");
                    *answers.entry("logout cut off").or_default() += 1;
                } else {
                    assert_eq!(
                        answer["valid"], true,
                        "an acknowledged session is gone: {answer}"
                    );
                    *answers.entry("live").or_default() += 1;
                }
            }
            Fact::LogoutSent(_) | Fact::LoggedOut(_) => {}
        }
    }
    drop(server);
    if !db.is_postgres() {
        use sqlx::Connection;
        let mut conn = sqlx::sqlite::SqliteConnection::connect(&db.url)
            .await
            .unwrap();
        let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(check, "ok");
    }
    eprintln!(
        "{ROUNDS} kills: {} acknowledged facts ({approvals} approvals, {sessions} sessions: {answers:?}), all true after restart",
        facts.len()
    );
}
