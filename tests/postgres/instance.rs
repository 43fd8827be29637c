//! A real `central-auth` process, as an operator runs it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{ADMIN_PASSWORD, Api};

pub struct Instance {
    api: Api,
    child: Child,
}

impl std::ops::Deref for Instance {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Instance {
    /// Starts the binary on `database_url` and waits until it is ready.
    #[allow(dead_code)] // the api test binary starts it with settings
    pub async fn start(database_url: &str) -> Instance {
        Self::start_with(database_url, &[]).await
    }

    /// The same, with more settings in its environment.
    pub async fn start_with(database_url: &str, env: &[(&str, &str)]) -> Instance {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_central-auth"))
            .arg("serve")
            .envs(env.iter().copied())
            .env("DATABASE_URL", database_url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            // Every instance names the same issuer, as behind a load balancer.
            .env("PUBLIC_URL", "http://auth.test")
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("DATABASE_ACQUIRE_TIMEOUT_SECS", "3")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let instance = Instance {
            api: Api::new(format!("http://127.0.0.1:{port}")),
            child,
        };
        for _ in 0..300 {
            let ready = instance.client.get(instance.url("/readyz")).send().await;
            if ready.is_ok_and(|res| res.status() == StatusCode::OK) {
                return instance;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("central-auth did not become ready on port {port}");
    }
}

pub fn text(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing in {body}"))
        .to_owned()
}
