//! Starts Central Auth and ServiceB for a test, and plays the other
//! parties: the admin, the person's phone and the person's browser.

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use central_auth::clock::ManualClock;
use central_auth::config::Cli;
use central_auth::startup::Application;
use clap::Parser;
use example_service::Config;
use example_service::config::BaseUrl;
use example_service::secret::ApiKey;
use jiff::Timestamp;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::redirect::Policy;
use reqwest::{Response, StatusCode, Url};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::TcpListener;

const ADMIN_PASSWORD: &str = "test console passphrase";
pub const PASSWORD: &str = "correct horse battery";
/// What the test browser says it is; the phone should see it.
pub const BROWSER_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) ExampleTestBrowser/1.0";

/// A Central Auth with ServiceB registered, and ServiceB running against it.
pub struct World {
    /// Central Auth's base URL.
    pub central: String,
    /// Plain client for Central Auth's API (admin and phone calls).
    pub api: reqwest::Client,
    pub clock: ManualClock,
    pub admin: String,
    pub service_id: String,
    /// ServiceB's API key, for calls made as ServiceB outside the site.
    pub api_key: String,
    pub browser: Browser,
    _db: TempDir,
}

/// An enrolled person: their phone holds `auth_key`.
pub struct Person {
    pub user_id: String,
    pub auth_key: String,
}

impl World {
    pub async fn start() -> World {
        example_service::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("central-auth.db").display());
        // Parsed from flags rather than built field by field, so settings
        // added to Central Auth later get their defaults here too.
        let cli = Cli::try_parse_from([
            "central-auth",
            "--database-url",
            &url,
            "--bind",
            "127.0.0.1:0",
            "--admin-password",
            ADMIN_PASSWORD,
            "--operating-hours-enabled",
            "false",
        ])
        .unwrap();
        let clock = ManualClock::new(Timestamp::now());
        let app = Application::build(&cli.database, &cli.serve, Arc::new(clock.clone()))
            .await
            .expect("Central Auth starts");
        let central = format!("http://{}", app.local_addr().unwrap());
        tokio::spawn(app.run(std::future::pending::<()>()));

        let api = reqwest::Client::new();
        let res = api
            .post(format!("{central}/api/admin/login"))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        let admin = json_of(res, StatusCode::OK).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = api
            .post(format!("{central}/api/services/register"))
            .bearer_auth(&admin)
            .json(&json!({"name": "ServiceB", "url": "http://127.0.0.1:8001"}))
            .send()
            .await
            .unwrap();
        let service = json_of(res, StatusCode::CREATED).await;
        let service_id = service["service_id"].as_str().unwrap().to_owned();
        let api_key = service["api_key"].as_str().unwrap().to_owned();

        let site = start_site(&central, &service_id, &api_key).await;
        World {
            central,
            api,
            clock,
            admin,
            service_id,
            api_key,
            browser: Browser::new(&site),
            _db: dir,
        }
    }

    /// Registers, approves and enrols `username` (full name John Smith).
    pub async fn person(&self, username: &str) -> Person {
        let res = self
            .api
            .post(format!("{}/api/register", self.central))
            .json(&json!({
                "email": format!("{username}@example.com"),
                "username": username,
                "password": PASSWORD,
                "full_name": "John Smith",
            }))
            .send()
            .await
            .unwrap();
        let user_id = json_of(res, StatusCode::CREATED).await["user_id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.admin_post(&format!("/api/admin/approve/{user_id}"))
            .await;
        let res = self
            .api
            .post(format!("{}/api/mobile/login", self.central))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let auth_key = json_of(res, StatusCode::OK).await["auth_key"]
            .as_str()
            .unwrap()
            .to_owned();
        Person { user_id, auth_key }
    }

    /// An admin POST without a body that must succeed.
    pub async fn admin_post(&self, path: &str) -> Value {
        let res = self
            .api
            .post(format!("{}{path}", self.central))
            .bearer_auth(&self.admin)
            .send()
            .await
            .unwrap();
        json_of(res, StatusCode::OK).await
    }

    /// What the phone does: scan the code shown on `login_page`; returns the
    /// scan answer (PIN, service, requester).
    pub async fn scan(&self, login_page: &str, person: &Person) -> Value {
        let token = qr_token_of(login_page);
        let res = self
            .api
            .post(format!("{}/api/auth/qr/scan", self.central))
            .json(&json!({"qr_token": token, "auth_key": person.auth_key}))
            .send()
            .await
            .unwrap();
        json_of(res, StatusCode::OK).await
    }

    /// Scans the code on `login_page` with `person`'s phone; returns the PIN.
    pub async fn pin(&self, login_page: &str, person: &Person) -> String {
        let scanned = self.scan(login_page, person).await;
        scanned["pin"].as_str().unwrap().to_owned()
    }

    /// `validate-session` straight at Central Auth, as another party would.
    pub async fn validate(&self, session_token: &str) -> Value {
        let res = self
            .api
            .post(format!("{}/api/auth/validate-session", self.central))
            .json(&json!({"session_token": session_token, "service_id": self.service_id}))
            .send()
            .await
            .unwrap();
        json_of(res, StatusCode::OK).await
    }

    /// The whole login through ServiceB; returns the page it ends on.
    pub async fn log_in(&self, person: &Person) -> Page {
        let login = self.browser.get("/login").await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.html);
        let pin = self.pin(&login.html, person).await;
        self.browser.submit_pin(&login, &pin).await
    }
}

/// ServiceB against the Central Auth at `central`; returns its base URL.
pub async fn start_site(central: &str, service_id: &str, api_key: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        central_auth_url: BaseUrl::parse(central).unwrap(),
        service_id: service_id.to_owned(),
        api_key: ApiKey::new(api_key),
        bind: addr,
        public_url: None,
        trust_proxy_headers: false,
    };
    let router = example_service::app(config).unwrap();
    tokio::spawn(example_service::serve(
        listener,
        router,
        std::future::pending::<()>(),
    ));
    format!("http://{addr}")
}

/// An address where nothing listens.
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A person's browser on ServiceB: keeps cookies, follows redirects (and
/// can be told not to, to look at them).
pub struct Browser {
    pub base: String,
    jar: Arc<Jar>,
    follow: reqwest::Client,
    manual: reqwest::Client,
}

/// A page as the browser got it.
pub struct Page {
    pub status: StatusCode,
    /// The path it ended on, after redirects.
    pub path: String,
    pub html: String,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        example_service::install_crypto_provider();
        let jar = Arc::new(Jar::default());
        let client = |policy| {
            reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .user_agent(BROWSER_UA)
                .redirect(policy)
                .build()
                .unwrap()
        };
        Browser {
            base: base.to_owned(),
            follow: client(Policy::limited(5)),
            manual: client(Policy::none()),
            jar,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Page {
        page(self.follow.get(self.url(path)).send().await.unwrap()).await
    }

    /// GET without following redirects, to see status and headers.
    pub async fn get_raw(&self, path: &str) -> Response {
        self.manual.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let res = self.follow.post(self.url(path)).form(fields).send().await;
        page(res.unwrap()).await
    }

    /// POST without following redirects.
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let res = self.manual.post(self.url(path)).form(fields).send().await;
        res.unwrap()
    }

    /// Types `pin` into the PIN form of `login` and submits it.
    pub async fn submit_pin(&self, login: &Page, pin: &str) -> Page {
        let csrf = csrf_of(&login.html);
        self.post_form("/login/pin", &[("csrf", &csrf), ("pin", pin)])
            .await
    }

    /// Submits the logout form of `home`.
    pub async fn log_out(&self, home: &Page) -> Page {
        let csrf = csrf_of(&home.html);
        self.post_form("/logout", &[("csrf", &csrf)]).await
    }

    /// The value of cookie `name` as the browser would send it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = Url::parse(&self.base).unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .filter_map(|pair| pair.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_owned())
    }

    /// The status line as `/login/status` reports it.
    pub async fn login_status(&self) -> Value {
        let res = self.follow.get(self.url("/login/status")).send().await;
        res.unwrap().json().await.unwrap()
    }
}

async fn page(res: Response) -> Page {
    Page {
        status: res.status(),
        path: res.url().path().to_owned(),
        html: res.text().await.unwrap(),
    }
}

/// Asserts `status` and returns the JSON body (printed on failure).
pub async fn json_of(res: Response, status: StatusCode) -> Value {
    let actual = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(actual, status, "body: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The text between `start` and the next `end` in `html`.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in page:\n{html}"))
        + start.len();
    let len = html[from..].find(end).unwrap();
    &html[from..from + len]
}

pub fn csrf_of(html: &str) -> String {
    between(html, r#"name="csrf" value=""#, "\"").to_owned()
}

/// The QR token, read from the QR image the way the phone's camera does.
pub fn qr_token_of(html: &str) -> String {
    let data = between(html, r#"id="qr" src="data:image/png;base64,"#, "\"");
    let png = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "QR codes in the image");
    let payload = grids[0].decode().unwrap().1;
    payload
        .split_once("#qr=")
        .map(|(_, token)| token.to_owned())
        .unwrap_or_else(|| panic!("no token in {payload}"))
}

/// A PIN that differs from `pin` in every digit.
pub fn wrong_pin(pin: &str) -> String {
    pin.chars()
        .map(|c| char::from_digit((c.to_digit(10).unwrap() + 1) % 10, 10).unwrap())
        .collect()
}

impl Browser {
    /// Puts a cookie into the browser, as a forger (or a stale tab) would.
    pub fn set_cookie(&self, name: &str, value: &str) {
        let url = Url::parse(&self.base).unwrap();
        self.jar
            .add_cookie_str(&format!("{name}={value}; Path=/"), &url);
    }
}

/// The `Set-Cookie` headers of a response.
pub fn set_cookies(res: &Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}
