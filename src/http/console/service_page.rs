//! One service's page: its OpenID Connect settings (a form) and the
//! configuration snippets for the apps operators connect most often.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error_page::{Section, error_page};
use super::session::FormFields;
use super::{Console, render, see_other};
use crate::domain::DomainError;
use crate::domain::oidc::client::{
    ClientType, OidcClient, OidcClientInput, OidcClientSettings, RedirectUri, Scope,
};
use crate::domain::signing::JwsAlgorithm;
use crate::domain::types::ServiceId;
use crate::http::routes::service_oidc::discovery_url;
use crate::http::state::AppState;
use crate::http::views::ServiceView;

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

/// What the OIDC form shows: the stored settings, the defaults, or what
/// the admin just sent (after a refusal, so nothing typed is lost).
struct OidcForm {
    redirect_uris: String,
    post_logout_redirect_uris: String,
    public: bool,
    require_pkce: bool,
    /// Every scope, and whether it is ticked.
    scopes: Vec<(&'static str, bool)>,
    alg: String,
}

impl OidcForm {
    fn of(client: Option<&OidcClient>) -> Self {
        let lines = |list: &[RedirectUri]| {
            list.iter()
                .map(RedirectUri::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        };
        match client {
            Some(c) => Self {
                redirect_uris: lines(&c.redirect_uris),
                post_logout_redirect_uris: lines(&c.post_logout_redirect_uris),
                public: c.client_type == ClientType::Public,
                require_pkce: c.pkce_required(),
                scopes: Scope::ALL
                    .iter()
                    .map(|s| (s.as_str(), c.allows_scope(*s)))
                    .collect(),
                alg: c.id_token_alg.as_str().to_owned(),
            },
            None => Self {
                redirect_uris: String::new(),
                post_logout_redirect_uris: String::new(),
                public: false,
                require_pkce: true,
                scopes: Scope::ALL.iter().map(|s| (s.as_str(), true)).collect(),
                alg: JwsAlgorithm::RS256.as_str().to_owned(),
            },
        }
    }

    fn sent(form: &FormFields) -> Self {
        let ticked = form.all("allowed_scopes");
        Self {
            redirect_uris: form.get("redirect_uris").unwrap_or_default().to_owned(),
            post_logout_redirect_uris: form
                .get("post_logout_redirect_uris")
                .unwrap_or_default()
                .to_owned(),
            public: form.get("client_type") == Some(ClientType::Public.as_str()),
            require_pkce: form.get("require_pkce").is_some(),
            scopes: Scope::ALL
                .iter()
                .map(|s| (s.as_str(), ticked.iter().any(|t| t == s.as_str())))
                .collect(),
            alg: form
                .get("id_token_signed_response_alg")
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

/// One URI per line; blank lines and the spaces around a line (pasting
/// leaves them) are not part of any URI.
fn lines(text: Option<&str>) -> Vec<String> {
    text.unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn settings(form: &FormFields) -> Result<OidcClientSettings, DomainError> {
    OidcClientSettings::parse(OidcClientInput {
        client_type: form.get("client_type").map(str::to_owned),
        redirect_uris: Some(lines(form.get("redirect_uris"))),
        post_logout_redirect_uris: Some(lines(form.get("post_logout_redirect_uris"))),
        // An unticked box is not sent at all.
        require_pkce: Some(form.get("require_pkce").is_some()),
        allowed_scopes: Some(form.all("allowed_scopes")),
        id_token_signed_response_alg: form.get("id_token_signed_response_alg").map(str::to_owned),
    })
}

#[derive(Template)]
#[template(path = "admin/service.html")]
struct ServicePage<'a> {
    section: &'a str,
    admin: &'a str,
    csrf: &'a str,
    notice: Option<String>,
    /// Why the form was refused, one line per broken rule.
    errors: Vec<String>,
    service: ServiceView,
    /// Whether the service is an OIDC client now.
    configured: bool,
    form: OidcForm,
    /// Registered plain-http URIs to another machine.
    insecure: Vec<String>,
    issuer: &'a str,
    discovery_url: String,
    /// The scopes the snippets ask for: the allowed ones.
    scopes: String,
    /// The oauth2-proxy callback, if one is registered.
    proxy_callback: String,
}

async fn show(
    state: &AppState,
    console: &Console,
    id: &ServiceId,
    notice: Option<String>,
    refused: Option<(OidcForm, Vec<String>)>,
) -> Response {
    let service = match state.core.service(id).await {
        Ok(s) => s,
        Err(e) => return error_page(console, Section::Services, e),
    };
    let client = match state.core.oidc_client(id).await {
        Ok(c) => c,
        Err(e) => return error_page(console, Section::Services, e),
    };
    let issuer = &state.core.settings().public_url;
    let stored = OidcForm::of(client.as_ref());
    let scopes = stored
        .scopes
        .iter()
        .filter(|(_, on)| *on)
        .map(|(s, _)| *s)
        .collect::<Vec<_>>()
        .join(" ");
    let registered: Vec<&RedirectUri> = client
        .iter()
        .flat_map(|c| c.redirect_uris.iter().chain(&c.post_logout_redirect_uris))
        .collect();
    let proxy_callback = registered
        .iter()
        .find(|u| u.as_str().ends_with("/oauth2/callback"))
        .map_or("https://APP_HOST/oauth2/callback", |u| u.as_str())
        .to_owned();
    let insecure = registered
        .iter()
        .filter(|u| u.is_plain_http_off_loopback())
        .map(|u| u.as_str().to_owned())
        .collect();
    let status = refused
        .as_ref()
        .map_or(StatusCode::OK, |_| StatusCode::UNPROCESSABLE_ENTITY);
    let (form, errors) = refused.unwrap_or((stored, Vec::new()));
    let mut response = render(&ServicePage {
        section: Section::Services.name(),
        admin: &console.admin.username,
        csrf: &console.csrf,
        notice,
        errors,
        service: service.into(),
        configured: client.is_some(),
        form,
        insecure,
        issuer,
        discovery_url: discovery_url(issuer),
        scopes,
        proxy_callback,
    });
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Path(service_id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let id = ServiceId::from_client(&service_id);
    show(&state, &console, &id, q.notice, None).await
}

pub async fn save_oidc(
    State(state): State<AppState>,
    console: Console,
    Path(service_id): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormFields::parse(&body);
    if let Err(refused) = console.check(&form) {
        return refused.into_response();
    }
    let id = ServiceId::from_client(&service_id);
    let saved = match settings(&form) {
        Ok(s) => state.core.set_oidc_client(&id, s, &console.admin).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => see_other(
            &format!("/admin/services/{}", url_segment(&id)),
            "OpenID Connect settings saved.",
        ),
        Err(DomainError::Validation(errors)) => {
            let errors = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            show(
                &state,
                &console,
                &id,
                None,
                Some((OidcForm::sent(&form), errors)),
            )
            .await
        }
        Err(e) => error_page(&console, Section::Services, e),
    }
}

pub async fn remove_oidc(
    State(state): State<AppState>,
    console: Console,
    Path(service_id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(refused) = console.check(&FormFields::parse(&body)) {
        return refused.into_response();
    }
    let id = ServiceId::from_client(&service_id);
    match state.core.remove_oidc_client(&id, &console.admin).await {
        Ok(()) => see_other(
            &format!("/admin/services/{}", url_segment(&id)),
            "This service is no longer an OpenID Connect client.",
        ),
        Err(e) => error_page(&console, Section::Services, e),
    }
}

/// The id as one path segment of a `Location` (ids are UUIDs; encoded
/// anyway, since an id comes from the URL it is sent back to).
fn url_segment(id: &ServiceId) -> String {
    form_urlencoded::byte_serialize(id.as_str().as_bytes()).collect()
}
