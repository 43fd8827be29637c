//! Settings, from flags or the environment. The service's credentials live
//! here and nowhere else: pages never see them.

use std::net::SocketAddr;

use clap::Parser;

use crate::secret::ApiKey;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "example-service",
    version,
    about = "ServiceB: an example site that logs its visitors in with Central Auth"
)]
pub struct Config {
    /// Where Central Auth answers (http for a local one, https in production).
    #[arg(
        long,
        env = "CENTRAL_AUTH_URL",
        default_value = "http://127.0.0.1:8000",
        value_parser = BaseUrl::parse
    )]
    pub central_auth_url: BaseUrl,
    /// This service's id, from the admin who registered it.
    #[arg(long, env = "SERVICE_ID")]
    pub service_id: String,
    /// This service's API key (shown once at registration).
    #[arg(long = "api-key", env = "SERVICE_API_KEY", hide_env_values = true)]
    pub api_key: ApiKey,
    /// Address and port to listen on.
    #[arg(long = "bind", env = "BIND_ADDR", default_value = "127.0.0.1:8001")]
    pub bind: SocketAddr,
    /// The address visitors reach this site at; cookies are `Secure` when it
    /// is https. Default: `http://` + the bind address.
    #[arg(long, env = "PUBLIC_URL", value_parser = BaseUrl::parse)]
    pub public_url: Option<BaseUrl>,
    /// Take the visitor's address from `X-Forwarded-For` (only behind a
    /// reverse proxy that sets it).
    #[arg(long, env = "TRUST_PROXY_HEADERS", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_proxy_headers: bool,
}

impl Config {
    /// Whether visitors reach this site over https, so cookies must be `Secure`.
    pub fn serves_https(&self) -> bool {
        self.public_url.as_ref().is_some_and(BaseUrl::is_https)
    }
}

/// An http(s) URL without a trailing slash, so paths can be appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = raw.trim().trim_end_matches('/');
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        match rest {
            Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
                Ok(Self(url.to_owned()))
            }
            _ => Err(format!("{raw:?} is not an http:// or https:// URL")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// This URL with `path` (starting with `/`) appended.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        let mut all = vec!["example-service"];
        all.extend_from_slice(args);
        Config::try_parse_from(all).unwrap()
    }

    #[test]
    fn debug_does_not_print_the_api_key() {
        let config = parse(&["--service-id", "svc_1", "--api-key", "cas_secret_key"]);
        let printed = format!("{config:?}");
        assert!(!printed.contains("cas_secret_key"), "{printed}");
        assert!(printed.contains("svc_1"));
    }

    #[test]
    fn defaults_talk_to_a_local_central_auth() {
        let config = parse(&["--service-id", "s", "--api-key", "k"]);
        assert_eq!(config.central_auth_url.as_str(), "http://127.0.0.1:8000");
        assert_eq!(config.bind.to_string(), "127.0.0.1:8001");
        assert!(!config.serves_https());
    }

    #[test]
    fn cookies_are_secure_behind_an_https_public_url() {
        let config = parse(&[
            "--service-id",
            "s",
            "--api-key",
            "k",
            "--public-url",
            "https://serviceb.example/",
        ]);
        assert!(config.serves_https());
    }

    #[test]
    fn a_base_url_must_be_http_or_https() {
        assert!(BaseUrl::parse("ftp://x").is_err());
        assert!(BaseUrl::parse("https://").is_err());
        assert_eq!(
            BaseUrl::parse("http://auth.local:8000/")
                .unwrap()
                .join("/api"),
            "http://auth.local:8000/api"
        );
    }
}
