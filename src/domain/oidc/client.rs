//! A service as an OpenID Connect client: where people may be sent back to,
//! whether it holds a secret, what it may ask for and how its ID tokens are
//! signed. Admins set this; the authorize and token endpoints read it
//! through [`Core::oidc_client`]. A service without these settings is not
//! an OIDC client at all.

use url::{Host, Url};

use crate::domain::model::Admin;
use crate::domain::signing::JwsAlgorithm;
use crate::domain::types::ServiceId;
use crate::domain::validation::Validation;
use crate::domain::{Core, DomainError, FieldError};

/// Redirect URIs of each kind a client may register: enough for the
/// environments of one app, few enough to review at a glance.
pub const MAX_REDIRECT_URIS: usize = 20;
/// Longer than any real callback; browsers and proxies start to truncate
/// URLs not far beyond.
pub const MAX_REDIRECT_URI_CHARS: usize = 2000;

/// An address a client may send people back to, registered by an admin and
/// matched exactly (string equality, RFC 9700 §4.1.3): no wildcards, no
/// normalisation, so what was reviewed is exactly what is allowed.
///
/// Accepted: `https` to any host; plain `http` (apps on private networks;
/// the console warns when the host is not this machine's loopback); and
/// private-use schemes of native apps, which RFC 8252 §7.1 asks to be a
/// reversed domain name (`com.example.app:/callback`). Anything a browser
/// would run or read locally (`javascript:`, `data:`, `file:`) has no dot
/// in its scheme and is refused with the rest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Parses one URI; `field` names it in the error (`redirect_uris[1]`).
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let refuse = |message: &str| Err(FieldError::new(field, message));
        if raw.is_empty() {
            return refuse("must not be empty");
        }
        if raw.chars().count() > MAX_REDIRECT_URI_CHARS {
            return refuse("must be at most 2000 characters");
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return refuse("must not contain spaces or control characters");
        }
        // A URI proper is ASCII; an international host in Unicode would be
        // matched against its xn-- form by some clients and not others.
        if !raw.is_ascii() {
            return refuse(
                "must be ASCII: percent-encode other characters and write an international host in its xn-- form",
            );
        }
        if raw.contains('#') {
            return refuse("must not contain a fragment (#)");
        }
        if raw.contains('*') {
            return refuse("must not contain a wildcard (*): register each address exactly");
        }
        // The WHATWG parser reads `https:\\host` as `https://host`; a
        // browser may too, so what the string says and where it goes differ.
        if raw.contains('\\') {
            return refuse("must not contain a backslash");
        }
        let Ok(url) = Url::parse(raw) else {
            return refuse("must be an absolute URI such as https://app.example/callback");
        };
        // The scheme as written, without the parser's lower-casing.
        let after_scheme = raw.get(url.scheme().len() + 1..).unwrap_or_default();
        if has_userinfo(after_scheme) || !url.username().is_empty() || url.password().is_some() {
            return refuse("must not contain a user name or password (user@host)");
        }
        match url.scheme() {
            "https" | "http" => {
                // `https:host/cb` parses, by forgiving rules, as `https://host/cb`.
                if !after_scheme.starts_with("//") || url.host().is_none() {
                    return refuse("must name a host: https://host/path");
                }
            }
            scheme if scheme.contains('.') => {
                if after_scheme.is_empty() {
                    return refuse(
                        "must have a path after the scheme, such as com.example.app:/callback",
                    );
                }
            }
            _ => {
                return refuse(
                    "must use https, http, or a private-use scheme with a dot for native apps (com.example.app:/callback)",
                );
            }
        }
        Ok(Self(raw.to_owned()))
    }

    /// A value read back from storage, parsed when it was stored.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Plain http to another machine: the code and the tokens it leads to
    /// cross the network readable. Allowed (private networks), but the
    /// console says so.
    pub fn is_plain_http_off_loopback(&self) -> bool {
        let Ok(url) = Url::parse(&self.0) else {
            return false;
        };
        url.scheme() == "http"
            && !match url.host() {
                Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
                Some(Host::Ipv4(ip)) => ip.is_loopback(),
                Some(Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            }
    }
}

/// Whether the authority (after `//`, before the path) names a user.
fn has_userinfo(after_scheme: &str) -> bool {
    let Some(rest) = after_scheme.strip_prefix("//") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority.contains('@')
}

/// Whether a client can keep a secret (a server-side app) or not (a
/// single-page or native app, which proves itself with PKCE alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    /// `client_id` = `service_id`, `client_secret` = `api_key`.
    Confidential,
    /// No secret; PKCE on every authorization.
    Public,
}

impl ClientType {
    pub const ALL: [Self; 2] = [Self::Confidential, Self::Public];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// How the client authenticates at the token endpoint, in discovery's
    /// words (`token_endpoint_auth_methods`).
    pub fn token_endpoint_auth_methods(self) -> &'static [&'static str] {
        match self {
            Self::Confidential => &["client_secret_basic", "client_secret_post"],
            Self::Public => &["none"],
        }
    }
}

/// The scopes this provider knows. A client asks for a subset of those it
/// is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    OpenId,
    Profile,
    Email,
    Groups,
    OfflineAccess,
}

impl Scope {
    pub const ALL: [Self; 5] = [
        Self::OpenId,
        Self::Profile,
        Self::Email,
        Self::Groups,
        Self::OfflineAccess,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenId => "openid",
            Self::Profile => "profile",
            Self::Email => "email",
            Self::Groups => "groups",
            Self::OfflineAccess => "offline_access",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// A service's OIDC client settings, as the authorize and token endpoints
/// use them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcClient {
    pub service_id: ServiceId,
    pub client_type: ClientType,
    /// In the order the admin gave them.
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// Asked by the admin; for public clients PKCE applies regardless (see
    /// [`OidcClient::pkce_required`]).
    pub require_pkce: bool,
    pub allowed_scopes: Vec<Scope>,
    pub id_token_alg: JwsAlgorithm,
}

impl OidcClient {
    /// Whether `uri` is one of the registered redirect URIs, character for
    /// character.
    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r.as_str() == uri)
    }

    /// Whether `uri` is one of the registered post-logout redirect URIs.
    pub fn allows_post_logout(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|r| r.as_str() == uri)
    }

    /// Whether an authorization request must carry a PKCE challenge: always
    /// for public clients, which have nothing else to prove themselves with.
    pub fn pkce_required(&self) -> bool {
        self.require_pkce || self.client_type == ClientType::Public
    }

    pub fn allows_scope(&self, scope: Scope) -> bool {
        self.allowed_scopes.contains(&scope)
    }

    pub fn is_confidential(&self) -> bool {
        self.client_type == ClientType::Confidential
    }
}

/// What an admin sets: the whole of a client's settings, replaced at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcClientSettings {
    pub client_type: ClientType,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub require_pkce: bool,
    pub allowed_scopes: Vec<Scope>,
    pub id_token_alg: JwsAlgorithm,
}

/// The settings as a client sent them (JSON or a console form), before
/// parsing. A field left out takes its default: confidential, PKCE
/// required, every scope, RS256 (what OIDC requires every client to
/// verify), no post-logout URI. Redirect URIs have no default.
#[derive(Debug, Default)]
pub struct OidcClientInput {
    pub client_type: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub require_pkce: Option<bool>,
    pub allowed_scopes: Option<Vec<String>>,
    pub id_token_signed_response_alg: Option<String>,
}

impl OidcClientSettings {
    /// Parses every field and reports every broken rule at once.
    pub fn parse(input: OidcClientInput) -> Result<Self, DomainError> {
        let mut v = Validation::default();
        let client_type = v.check(match input.client_type.as_deref() {
            None => Ok(ClientType::Confidential),
            Some(raw) => ClientType::parse(raw)
                .ok_or_else(|| FieldError::new("client_type", "must be confidential or public")),
        });
        let redirect_uris = match input.redirect_uris {
            Some(list) if !list.is_empty() => uri_list(&mut v, "redirect_uris", &list),
            _ => {
                v.check::<()>(Err(FieldError::new(
                    "redirect_uris",
                    "at least one redirect URI is required",
                )));
                None
            }
        };
        let post_logout = uri_list(
            &mut v,
            "post_logout_redirect_uris",
            &input.post_logout_redirect_uris.unwrap_or_default(),
        );
        let allowed_scopes = match input.allowed_scopes {
            None => Some(Scope::ALL.to_vec()),
            Some(list) => scope_list(&mut v, &list),
        };
        let id_token_alg = v.check(match input.id_token_signed_response_alg.as_deref() {
            None => Ok(JwsAlgorithm::RS256),
            Some(raw) => JwsAlgorithm::parse(raw).ok_or_else(|| {
                FieldError::new("id_token_signed_response_alg", "must be RS256 or EdDSA")
            }),
        });
        let require_pkce = input.require_pkce.unwrap_or(true);
        if client_type == Some(ClientType::Public) && !require_pkce {
            v.check::<()>(Err(FieldError::new(
                "require_pkce",
                "must be true for a public client: without a secret, PKCE is its only proof",
            )));
            return Err(v.into_error());
        }
        match (
            client_type,
            redirect_uris,
            post_logout,
            allowed_scopes,
            id_token_alg,
        ) {
            (
                Some(client_type),
                Some(redirect_uris),
                Some(post_logout_redirect_uris),
                Some(allowed_scopes),
                Some(id_token_alg),
            ) => Ok(Self {
                client_type,
                redirect_uris,
                post_logout_redirect_uris,
                require_pkce,
                allowed_scopes,
                id_token_alg,
            }),
            _ => Err(v.into_error()),
        }
    }

    pub fn into_client(self, service_id: ServiceId) -> OidcClient {
        OidcClient {
            service_id,
            client_type: self.client_type,
            redirect_uris: self.redirect_uris,
            post_logout_redirect_uris: self.post_logout_redirect_uris,
            require_pkce: self.require_pkce,
            allowed_scopes: self.allowed_scopes,
            id_token_alg: self.id_token_alg,
        }
    }
}

/// At most [`MAX_REDIRECT_URIS`] URIs, each valid, none twice; `None` once
/// any is refused (the reasons are in `v`).
fn uri_list(v: &mut Validation, field: &str, raw: &[String]) -> Option<Vec<RedirectUri>> {
    if raw.len() > MAX_REDIRECT_URIS {
        v.check::<()>(Err(FieldError::new(field, "must list at most 20 URIs")));
        return None;
    }
    let mut uris = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (i, one) in raw.iter().enumerate() {
        let name = format!("{field}[{i}]");
        let parsed = RedirectUri::parse(&name, one).and_then(|uri| {
            if uris.contains(&uri) {
                Err(FieldError::new(&name, "is listed twice"))
            } else {
                Ok(uri)
            }
        });
        match v.check(parsed) {
            Some(uri) => uris.push(uri),
            None => ok = false,
        }
    }
    ok.then_some(uris)
}

/// Known scopes, none twice, `openid` among them (without it a request is
/// not OpenID Connect and authorize would refuse every one).
fn scope_list(v: &mut Validation, raw: &[String]) -> Option<Vec<Scope>> {
    let mut scopes = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (i, one) in raw.iter().enumerate() {
        let name = format!("allowed_scopes[{i}]");
        let parsed = match Scope::parse(one) {
            None => Err(FieldError::new(
                &name,
                "must be one of openid, profile, email, groups, offline_access",
            )),
            Some(scope) if scopes.contains(&scope) => {
                Err(FieldError::new(&name, "is listed twice"))
            }
            Some(scope) => Ok(scope),
        };
        match v.check(parsed) {
            Some(scope) => scopes.push(scope),
            None => ok = false,
        }
    }
    if ok && !scopes.contains(&Scope::OpenId) {
        v.check::<()>(Err(FieldError::new(
            "allowed_scopes",
            "must include openid",
        )));
        return None;
    }
    ok.then_some(scopes)
}

impl Core {
    /// The service's client settings, or `None` when it is not an OIDC
    /// client. Cheap (cached on SQLite like the service itself); it says
    /// nothing of whether the service is active: ask [`Core::service`].
    pub async fn oidc_client(&self, id: &ServiceId) -> Result<Option<OidcClient>, DomainError> {
        Ok(self.db.find_oidc_client(id).await?)
    }

    /// Makes the service an OIDC client, or replaces its settings whole.
    pub async fn set_oidc_client(
        &self,
        id: &ServiceId,
        settings: OidcClientSettings,
        admin: &Admin,
    ) -> Result<OidcClient, DomainError> {
        // Services are never deleted, so one that exists now still exists
        // when the settings are written.
        self.service(id).await?;
        let client = settings.into_client(id.clone());
        self.db.replace_oidc_client(&client, self.now()).await?;
        tracing::info!(
            service_id = %id,
            admin = %admin.username,
            client_type = client.client_type.as_str(),
            redirect_uris = client.redirect_uris.len(),
            "oidc client settings saved"
        );
        Ok(client)
    }

    /// The service stops being an OIDC client (its other logins go on).
    pub async fn remove_oidc_client(
        &self,
        id: &ServiceId,
        admin: &Admin,
    ) -> Result<(), DomainError> {
        self.service(id).await?;
        if !self.db.delete_oidc_client(id).await? {
            return Err(DomainError::OidcNotConfigured);
        }
        tracing::info!(service_id = %id, admin = %admin.username, "oidc client settings removed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(raw: &str) -> Result<RedirectUri, FieldError> {
        RedirectUri::parse("redirect_uris[0]", raw)
    }

    #[test]
    fn redirect_uris_of_web_and_native_apps_are_accepted_as_written() {
        for good in [
            "https://grafana.example/login/generic_oauth",
            "https://App.Example:8443/cb?tenant=a",
            "http://10.0.0.5:3000/login/generic_oauth",
            "http://127.0.0.1:8080/callback",
            "com.example.app:/oauth2redirect",
            "com.example.app://callback",
        ] {
            assert_eq!(uri(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn redirect_uris_that_could_mislead_are_refused() {
        for bad in [
            "",
            "/callback",
            "app.example/callback",
            "https://app.example/cb#frag",
            "https://app.example/cb#",
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "localhost:8080/cb",
            "https://user:pw@app.example/cb",
            "https://@app.example/cb",
            "https://app.example@evil.example/cb",
            "https://*.app.example/cb",
            "https://app.example/cb/*",
            "https:\\\\evil.example/cb",
            "https:evil.example/cb",
            "https://app.example/a b",
            "https://app.example/\tcb",
            "https://bücher.example/cb",
            "com.example.app:",
        ] {
            assert!(uri(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("https://app.example/{}", "a".repeat(2000));
        assert!(uri(&long).is_err());
    }

    #[test]
    fn plain_http_is_flagged_only_off_loopback() {
        let flagged = |raw: &str| uri(raw).unwrap().is_plain_http_off_loopback();
        assert!(flagged("http://grafana.lan/cb"));
        assert!(flagged("http://10.0.0.5/cb"));
        assert!(!flagged("http://localhost:3000/cb"));
        assert!(!flagged("http://127.0.0.1/cb"));
        assert!(!flagged("http://[::1]/cb"));
        assert!(!flagged("https://grafana.lan/cb"));
        assert!(!flagged("com.example.app:/cb"));
    }

    fn input(uris: &[&str]) -> OidcClientInput {
        OidcClientInput {
            redirect_uris: Some(uris.iter().map(|s| (*s).to_owned()).collect()),
            ..Default::default()
        }
    }

    fn fields(err: DomainError) -> Vec<String> {
        match err {
            DomainError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn settings_default_to_a_confidential_rs256_client_with_pkce_and_every_scope() {
        let s = OidcClientSettings::parse(input(&["https://a.example/cb"])).unwrap();
        assert_eq!(s.client_type, ClientType::Confidential);
        assert!(s.require_pkce);
        assert_eq!(s.allowed_scopes, Scope::ALL);
        assert_eq!(s.id_token_alg, JwsAlgorithm::RS256);
        assert!(s.post_logout_redirect_uris.is_empty());
    }

    #[test]
    fn every_broken_rule_is_reported_by_field() {
        let mut bad = input(&[
            "https://a.example/cb",
            "https://a.example/cb#x",
            "https://a.example/cb",
        ]);
        bad.allowed_scopes = Some(vec!["openid".into(), "admin".into()]);
        bad.id_token_signed_response_alg = Some("HS256".into());
        bad.client_type = Some("secret".into());
        assert_eq!(
            fields(OidcClientSettings::parse(bad).unwrap_err()),
            [
                "client_type",
                "redirect_uris[1]",
                "redirect_uris[2]",
                "allowed_scopes[1]",
                "id_token_signed_response_alg"
            ]
        );
    }

    #[test]
    fn a_public_client_cannot_turn_pkce_off_and_always_needs_it() {
        let mut public = input(&["com.example.app:/cb"]);
        public.client_type = Some("public".into());
        public.require_pkce = Some(false);
        assert_eq!(
            fields(OidcClientSettings::parse(public).unwrap_err()),
            ["require_pkce"]
        );
        let mut confidential = input(&["https://a.example/cb"]);
        confidential.require_pkce = Some(false);
        let client = OidcClientSettings::parse(confidential)
            .unwrap()
            .into_client(ServiceId::from_client("s"));
        assert!(!client.pkce_required());
        let mut forced = client.clone();
        forced.client_type = ClientType::Public;
        assert!(forced.pkce_required());
    }

    #[test]
    fn redirects_match_character_for_character() {
        let client = OidcClientSettings::parse(OidcClientInput {
            post_logout_redirect_uris: Some(vec!["https://a.example/bye".into()]),
            ..input(&["https://a.example/cb"])
        })
        .unwrap()
        .into_client(ServiceId::from_client("s"));
        assert!(client.allows_redirect("https://a.example/cb"));
        for near in [
            "https://a.example/cb/",
            "https://A.example/cb",
            "https://a.example/cb?x=1",
            "https://a.example/bye",
        ] {
            assert!(!client.allows_redirect(near), "{near}");
        }
        assert!(client.allows_post_logout("https://a.example/bye"));
        assert!(!client.allows_post_logout("https://a.example/cb"));
    }

    #[test]
    fn uri_lists_have_a_size_limit_and_allowed_scopes_need_openid() {
        let many: Vec<String> = (0..21).map(|i| format!("https://a.example/{i}")).collect();
        let err = OidcClientSettings::parse(OidcClientInput {
            redirect_uris: Some(many),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(fields(err), ["redirect_uris"]);
        let err = OidcClientSettings::parse(input(&[])).unwrap_err();
        assert_eq!(fields(err), ["redirect_uris"]);
        let mut no_openid = input(&["https://a.example/cb"]);
        no_openid.allowed_scopes = Some(vec!["email".into()]);
        assert_eq!(
            fields(OidcClientSettings::parse(no_openid).unwrap_err()),
            ["allowed_scopes"]
        );
    }
}
