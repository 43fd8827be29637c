//! `/oauth2/authorize`: the request is checked in the order OAuth asks for
//! (client and redirect URI first: until both are known good, nothing may be
//! sent to the redirect URI, or we would be an open redirect), then kept
//! server-side as an interaction bound to the browser by a cookie.

use crate::domain::oidc::client::OidcClient;
use crate::domain::oidc::error::{OAuthError, OAuthErrorCode};
use crate::domain::oidc::records::Interaction;
use crate::domain::secret::OAuthSecret;
use crate::domain::types::ServiceId;
use crate::domain::{Core, DomainError};

/// The parameters of an authorization request as the browser sent them.
#[derive(Debug, Default, Clone)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    /// A parameter that came more than once (RFC 6749 §3.1 forbids it).
    pub repeated: Option<String>,
}

/// Why an authorization request is refused.
#[derive(Debug)]
pub enum AuthorizeRefusal {
    /// Shown as a page here: the client or its redirect URI cannot be
    /// trusted, so the browser is not sent anywhere.
    Page {
        message: String,
    },
    /// Sent back to the client's registered redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
    Failure(DomainError),
}

impl From<DomainError> for AuthorizeRefusal {
    fn from(err: DomainError) -> Self {
        Self::Failure(err)
    }
}

/// A request accepted: the browser goes on to the login page with the
/// cookie that binds it to the interaction.
#[derive(Debug)]
pub struct StartedLogin {
    pub interaction_id: String,
    pub browser: OAuthSecret,
    pub expires_in: i64,
}

/// The longest `state` and `nonce` kept: both are echoed, never read, but
/// they are stored, so they are bounded.
const MAX_STATE: usize = 2048;
const MAX_NONCE: usize = 512;

impl Core {
    pub async fn authorize(
        &self,
        params: AuthorizeParams,
    ) -> Result<StartedLogin, AuthorizeRefusal> {
        let client = self.authorize_client(&params).await?;
        let redirect_uri = registered_redirect(&client, &params)?;
        let refuse = |code: OAuthErrorCode, description: &str| AuthorizeRefusal::Redirect {
            redirect_uri: redirect_uri.clone(),
            state: params.state.clone(),
            error: OAuthError::new(code, description),
        };
        let request = check_request(&client, &params).map_err(|(code, why)| refuse(code, &why))?;
        match self.ensure_open().await {
            Ok(()) => {}
            Err(DomainError::SystemClosed { opens_at, .. }) => {
                let why = match opens_at {
                    Some(at) => format!(
                        "logins are closed outside the operating hours; they open at {}",
                        crate::clock::rfc3339(at)
                    ),
                    None => "logins are closed (no operating hours are set)".to_owned(),
                };
                return Err(refuse(OAuthErrorCode::TemporarilyUnavailable, &why));
            }
            Err(other) => return Err(other.into()),
        }
        let now = self.now();
        let browser = OAuthSecret::browser_binding().map_err(DomainError::internal)?;
        let ttl = self.settings.oidc.interaction_ttl;
        let interaction = Interaction {
            interaction_id: uuid::Uuid::new_v4().to_string(),
            browser_hash: browser.hash(),
            service_id: client.service_id.clone(),
            redirect_uri,
            scope: request.scope,
            state: params.state,
            nonce: params.nonce,
            code_challenge: params.code_challenge,
            qr_id: None,
            created_at: now,
            expires_at: now.checked_add(ttl).map_err(DomainError::internal)?,
            completed_at: None,
        };
        self.db
            .insert_interaction(&interaction)
            .await
            .map_err(DomainError::from)?;
        Ok(StartedLogin {
            interaction_id: interaction.interaction_id,
            browser,
            expires_in: ttl.as_secs(),
        })
    }

    /// The client the request names: an active service with OIDC settings.
    async fn authorize_client(
        &self,
        params: &AuthorizeParams,
    ) -> Result<OidcClient, AuthorizeRefusal> {
        let page = |message: &str| AuthorizeRefusal::Page {
            message: message.to_owned(),
        };
        if matches!(
            params.repeated.as_deref(),
            Some("client_id" | "redirect_uri")
        ) {
            return Err(page(
                "The request names its app or its return address more than once.",
            ));
        }
        let Some(client_id) = params.client_id.as_deref().filter(|id| !id.is_empty()) else {
            return Err(page(
                "The request does not say which app asks (client_id is missing).",
            ));
        };
        let service_id = ServiceId::from_client(client_id);
        let client = self.oidc_client(&service_id).await?;
        let service = self
            .db
            .find_service(&service_id)
            .await
            .map_err(DomainError::from)?;
        let (Some(client), Some(service)) = (client, service) else {
            return Err(page(
                "The app that sent you here is not registered with Central Auth as an OpenID \
                 Connect client.",
            ));
        };
        if !service.is_active {
            return Err(page(
                "The app that sent you here has been deactivated by an administrator.",
            ));
        }
        Ok(client)
    }
}

/// The redirect URI, if it is one the client registered (exact match).
fn registered_redirect(
    client: &OidcClient,
    params: &AuthorizeParams,
) -> Result<String, AuthorizeRefusal> {
    let page = |message: &str| AuthorizeRefusal::Page {
        message: message.to_owned(),
    };
    let Some(uri) = params.redirect_uri.as_deref().filter(|u| !u.is_empty()) else {
        return Err(page(
            "The request does not say where to return (redirect_uri is missing).",
        ));
    };
    if !client.allows_redirect(uri) {
        return Err(page(
            "The return address in the request is not one registered for this app, so you \
             are not sent there. An administrator can register it on the app's page in the \
             console.",
        ));
    }
    Ok(uri.to_owned())
}

/// What a request asks for once its client and redirect URI are trusted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CheckedRequest {
    /// The scopes granted: those asked for that the client may have, in the
    /// order asked, each once.
    pub scope: String,
}

/// Checks everything an error for the redirect URI can be about.
pub(crate) fn check_request(
    client: &OidcClient,
    params: &AuthorizeParams,
) -> Result<CheckedRequest, (OAuthErrorCode, String)> {
    use OAuthErrorCode::*;
    let err = |code, why: &str| Err((code, why.to_owned()));
    if let Some(name) = &params.repeated {
        return Err((
            InvalidRequest,
            format!("the parameter {name} is given more than once"),
        ));
    }
    if params.request.is_some() {
        return err(RequestNotSupported, "request objects are not supported");
    }
    if params.request_uri.is_some() {
        return err(RequestUriNotSupported, "request_uri is not supported");
    }
    match params.response_type.as_deref() {
        None | Some("") => return err(InvalidRequest, "response_type is missing"),
        Some("code") => {}
        Some(_) => {
            return err(
                UnsupportedResponseType,
                "only the authorization code flow (response_type=code) is supported",
            );
        }
    }
    if params
        .response_mode
        .as_deref()
        .is_some_and(|m| m != "query")
    {
        return err(InvalidRequest, "only response_mode=query is supported");
    }
    if params.state.as_deref().is_some_and(|s| s.len() > MAX_STATE) {
        return err(InvalidRequest, "state is longer than 2048 bytes");
    }
    if params.nonce.as_deref().is_some_and(|n| n.len() > MAX_NONCE) {
        return err(InvalidRequest, "nonce is longer than 512 bytes");
    }
    let scope = granted_scope(client, params.scope.as_deref().unwrap_or(""))
        .ok_or((InvalidScope, "scope must include openid".to_owned()))?;
    check_pkce(client, params)?;
    if let Some(max_age) = params.max_age.as_deref()
        && max_age.parse::<u64>().is_err()
    {
        return err(InvalidRequest, "max_age must be a whole number of seconds");
    }
    let prompts: Vec<&str> = params
        .prompt
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    if prompts.contains(&"none") {
        if prompts.len() > 1 {
            return err(
                InvalidRequest,
                "prompt=none cannot be combined with other values",
            );
        }
        // There is no browser session at Central Auth: every login is a
        // QR login, which needs the person.
        return err(
            LoginRequired,
            "every login needs the QR code and PIN: prompt=none cannot succeed",
        );
    }
    Ok(CheckedRequest { scope })
}

/// The PKCE rules: only S256; required for public clients and, unless
/// switched off, for confidential ones.
fn check_pkce(
    client: &OidcClient,
    params: &AuthorizeParams,
) -> Result<(), (OAuthErrorCode, String)> {
    let bad = |why: &str| Err((OAuthErrorCode::InvalidRequest, why.to_owned()));
    match (
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
    ) {
        (None, None) if client.pkce_required() => bad(
            "PKCE is required for this client: send code_challenge with code_challenge_method=S256",
        ),
        (None, None) => Ok(()),
        (None, Some(_)) => bad("code_challenge_method without code_challenge"),
        // RFC 7636 says a missing method means "plain", which we refuse.
        (Some(_), None | Some("plain")) => {
            bad("code_challenge_method must be S256 (plain is not supported)")
        }
        (Some(_), Some(m)) if m != "S256" => bad("code_challenge_method must be S256"),
        (Some(challenge), Some(_)) if !is_s256_challenge(challenge) => {
            bad("code_challenge must be the 43-character base64url SHA-256 of the verifier")
        }
        (Some(_), Some(_)) => Ok(()),
    }
}

/// An S256 challenge: base64url (no padding) of 32 bytes.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The scopes asked for that the client may have, `None` without `openid`
/// (which every client may have). Others are dropped, as RFC 6749 §3.3
/// allows: apps often ask for scopes a provider does not know.
pub(crate) fn granted_scope(client: &OidcClient, asked: &str) -> Option<String> {
    let mut granted: Vec<&str> = Vec::new();
    for word in asked.split(' ').filter(|w| !w.is_empty()) {
        let allowed = word == "openid" || client.allowed_scopes.iter().any(|s| s.as_str() == word);
        if allowed && !granted.contains(&word) {
            granted.push(word);
        }
    }
    granted.contains(&"openid").then(|| granted.join(" "))
}

/// PKCE: whether `verifier` is the one `challenge` was made from (S256).
pub(crate) fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let shaped = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    shaped && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// `uri` with `params` added to its query (the redirect URI may have one).
pub(crate) fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{}", query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_verifier_matches_its_challenge() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verifier_matches(verifier, challenge));
        assert!(is_s256_challenge(challenge));
        assert!(!verifier_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX",
            challenge
        ));
        assert!(!verifier_matches("short", challenge));
    }

    #[test]
    fn query_parameters_are_added_after_an_existing_query() {
        assert_eq!(
            with_query(
                "https://app.example/cb",
                &[("code", "a b"), ("state", "x&y")]
            ),
            "https://app.example/cb?code=a+b&state=x%26y"
        );
        assert_eq!(
            with_query("https://app.example/cb?tenant=1", &[("code", "c")]),
            "https://app.example/cb?tenant=1&code=c"
        );
    }
}
