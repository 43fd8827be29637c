//! Admin sign-in for the console: the bearer token of the JSON API, carried
//! in a cookie instead of a header, and CSRF tokens derived from it.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use super::error_page::{Section, bare_error_page, error_page, plain_error_page};
use super::render;
use crate::domain::DomainError;
use crate::domain::model::Admin;
use crate::domain::secret::{AdminToken, Password, TokenHash, random_token};
use crate::http::extract::{Caller, cookie};
use crate::http::problem::ApiError;
use crate::http::state::AppState;

const SESSION_COOKIE: &str = "ca_admin";
/// Protects the sign-in form itself (double-submit: cookie and field agree).
const LOGIN_COOKIE: &str = "ca_admin_login";

/// A signed-in admin on a console page, with the CSRF token its forms carry.
pub struct Console {
    pub admin: Admin,
    pub csrf: String,
    token: AdminToken,
}

fn csrf_for(token: &AdminToken) -> String {
    TokenHash::of(&format!("csrf:{}", token.expose()))
        .as_str()
        .to_owned()
}

fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// `Secure` when people reach the server over https.
fn secure(state: &AppState) -> &'static str {
    if state.core.settings().public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || Redirect::to("/admin/login").into_response();
        let Some(raw) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let token = AdminToken::from_client(raw.to_owned());
        match state.core.authenticate_admin(&token).await {
            Ok(admin) => Ok(Console {
                admin,
                csrf: csrf_for(&token),
                token,
            }),
            Err(DomainError::Unauthorized) => Err(to_login()),
            Err(other) => Err(bare_error_page(other)),
        }
    }
}

/// A posted form: its fields, in order (repeated names such as checkboxes
/// keep every value).
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub fn parse(body: &Bytes) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// A form whose CSRF token is missing or not this session's: 403.
#[derive(Debug)]
pub struct CsrfRefused;

impl IntoResponse for CsrfRefused {
    fn into_response(self) -> Response {
        plain_error_page(
            StatusCode::FORBIDDEN,
            "Form expired",
            "csrf_refused",
            "The form expired or did not come from this site. Go back, reload and try again.",
        )
    }
}

impl Console {
    /// The token this console session holds (to mark and keep it on the
    /// sign-ins page; never shown).
    pub fn token(&self) -> &AdminToken {
        &self.token
    }

    /// The form's CSRF token must be this session's.
    pub fn check(&self, form: &FormFields) -> Result<(), CsrfRefused> {
        match form.get("csrf") {
            Some(sent) if same(sent, &self.csrf) => Ok(()),
            _ => Err(CsrfRefused),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    username: &'a str,
    error: Option<&'a str>,
}

fn login_form(
    state: &AppState,
    username: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let nonce = match random_token() {
        Ok(nonce) => nonce,
        Err(e) => return bare_error_page(ApiError::Internal(e.to_string())),
    };
    let mut response = render(&LoginPage {
        csrf: &nonce,
        username,
        error,
    });
    *response.status_mut() = status;
    let cookie = format!(
        "{LOGIN_COOKIE}={nonce}; Path=/admin/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        secure(state)
    );
    if let Ok(value) = cookie.parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub async fn login_page(State(state): State<AppState>) -> Response {
    login_form(&state, "", None, StatusCode::OK)
}

pub async fn login(
    State(state): State<AppState>,
    Caller(client): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormFields::parse(&body);
    let username = form.get("username").unwrap_or_default().to_owned();
    let fresh = match (cookie(&headers, LOGIN_COOKIE), form.get("csrf")) {
        (Some(a), Some(b)) => same(a, b),
        _ => false,
    };
    if !fresh {
        let msg = "The sign-in form expired; please try again.";
        return login_form(&state, &username, Some(msg), StatusCode::FORBIDDEN);
    }
    let password = form
        .get("password")
        .map(|p| p.to_owned())
        .and_then(Password::offered);
    match state.core.admin_login(&username, password, &client).await {
        Ok(session) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={}{}",
                session.token.expose(),
                session.expires_in,
                secure(&state)
            );
            let mut response = Redirect::to("/admin").into_response();
            if let Ok(value) = cookie.parse() {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(DomainError::InvalidCredentials) => login_form(
            &state,
            &username,
            Some("Wrong username or password."),
            StatusCode::UNAUTHORIZED,
        ),
        Err(DomainError::RateLimited { retry_after }) => {
            let msg = format!(
                "Too many failed sign-ins for this name or from this address: \
                 wait {retry_after} seconds, then try again."
            );
            let mut page = login_form(&state, &username, Some(&msg), StatusCode::TOO_MANY_REQUESTS);
            page.headers_mut()
                .insert(header::RETRY_AFTER, retry_after.into());
            page
        }
        Err(other) => bare_error_page(other),
    }
}

pub async fn logout(State(state): State<AppState>, console: Console, body: Bytes) -> Response {
    if let Err(refused) = console.check(&FormFields::parse(&body)) {
        return refused.into_response();
    }
    if let Err(e) = state.core.admin_logout(&console.token).await {
        return error_page(&console, Section::Dashboard, e);
    }
    let mut response = Redirect::to("/admin/login").into_response();
    let expired = format!(
        "{SESSION_COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0{}",
        secure(&state)
    );
    if let Ok(value) = expired.parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
