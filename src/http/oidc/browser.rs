//! The browser-facing endpoints: `/oauth2/authorize`, the login page
//! (`/oauth2/login/{interaction_id}`) and `/oauth2/end_session`. Their
//! refusals are pages, or redirects to a registered URI: never an open
//! redirect, never JSON.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::domain::DomainError;
use crate::domain::login::qr_state::QrStatus;
use crate::domain::oidc::authorize::{AuthorizeParams, AuthorizeRefusal, with_query};
use crate::domain::oidc::error::OAuthError;
use crate::domain::oidc::interaction::{LoginPage, LoginPageRefusal};
use crate::domain::oidc::logout::{EndSession, EndSessionParams, EndSessionRefusal};
use crate::domain::secret::{OAuthSecret, Pin, QrToken};
use crate::http::extract::{Caller, cookie};
use crate::http::oidc::error::log_failure;
use crate::http::oidc::form::{OAuthParams, is_form};
use crate::http::state::AppState;

/// The cookie that binds an authorization request to its browser; its
/// path is the request's own login page, so tabs do not share one.
const COOKIE: &str = "ca_login";

#[derive(Template)]
#[template(path = "oidc/message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
    /// A way on: (label, href).
    link: Option<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "oidc/login.html")]
struct LoginView<'a> {
    page: &'a LoginPage,
    qr_data_url: String,
    seconds_left: i64,
    scanned: bool,
    error: Option<String>,
}

fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (status, no_cache(), Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a login page template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

fn no_cache() -> [(header::HeaderName, HeaderValue); 1] {
    [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))]
}

fn message(status: StatusCode, title: &str, message: &str, link: Option<(&str, &str)>) -> Response {
    html(
        status,
        &MessagePage {
            title,
            message,
            link,
        },
    )
}

/// A 303 to `location`, allowed by the page's CSP even when it follows a
/// form (Chromium checks `form-action` on the redirect's target too).
fn see_other(location: &str) -> Response {
    let Ok(value) = HeaderValue::from_str(location) else {
        return message(
            StatusCode::BAD_REQUEST,
            "Cannot return",
            "The return address cannot be used.",
            None,
        );
    };
    let mut response = (StatusCode::SEE_OTHER, no_cache()).into_response();
    response.headers_mut().insert(header::LOCATION, value);
    if let Some(csp) = form_action_csp(location) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// The page CSP with the redirect target's origin (or scheme, for an app's
/// own scheme) allowed as a form action.
fn form_action_csp(location: &str) -> Option<HeaderValue> {
    let url = url::Url::parse(location).ok()?;
    let source = match url.scheme() {
        "http" | "https" => url.origin().ascii_serialization(),
        scheme => format!("{scheme}:"),
    };
    let csp = crate::http::web::PAGE_CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {source}"),
    );
    HeaderValue::from_str(&csp).ok()
}

fn authorize_params(params: &OAuthParams) -> AuthorizeParams {
    AuthorizeParams {
        client_id: params.get("client_id"),
        redirect_uri: params.get("redirect_uri"),
        response_type: params.get("response_type"),
        response_mode: params.get("response_mode"),
        scope: params.get("scope"),
        state: params.get("state"),
        nonce: params.get("nonce"),
        code_challenge: params.get("code_challenge"),
        code_challenge_method: params.get("code_challenge_method"),
        prompt: params.get("prompt"),
        max_age: params.get("max_age"),
        request: params.get("request"),
        request_uri: params.get("request_uri"),
        repeated: params.repeated(),
    }
}

/// Start a login (OAuth 2.0 authorization endpoint, authorization code flow).
///
/// Sends the browser to Central Auth's login page (QR code and PIN field),
/// then back to the registered `redirect_uri` with `code`, `state` and
/// `iss`. A wrong client or redirect URI is an HTML page here, never a
/// redirect; other errors go to the redirect URI (`error`,
/// `error_description`). `prompt=none` is always `login_required`;
/// outside the operating hours, `temporarily_unavailable`.
#[utoipa::path(
    get, path = "/oauth2/authorize", tag = "oidc",
    params(
        ("client_id" = String, Query, description = "The service_id"),
        ("redirect_uri" = String, Query, description = "One of the client's registered redirect URIs, exactly"),
        ("response_type" = String, Query, description = "`code`"),
        ("scope" = String, Query, description = "Must include `openid`; also `profile`, `email`, `groups`, `offline_access`"),
        ("state" = Option<String>, Query),
        ("nonce" = Option<String>, Query, description = "Echoed in the ID token"),
        ("code_challenge" = Option<String>, Query, description = "PKCE, required for public clients and by default"),
        ("code_challenge_method" = Option<String>, Query, description = "`S256`"),
        ("prompt" = Option<String>, Query),
        ("max_age" = Option<u64>, Query),
    ),
    responses(
        (status = 303, description = "To the login page, or to the redirect URI with an error"),
        (status = 400, description = "HTML page: unknown client or unregistered redirect URI", body = String, content_type = "text/html"),
    )
)]
pub async fn authorize(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = OAuthParams::parse(query.unwrap_or_default().as_bytes());
    start_login(&state, &params).await
}

/// OIDC Core §3.1.2.1: the authorization endpoint takes a form POST too.
pub async fn authorize_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = OAuthParams::parse(if is_form(&headers) { &body } else { &[] });
    start_login(&state, &params).await
}

async fn start_login(state: &AppState, params: &OAuthParams) -> Response {
    match state.core.authorize(authorize_params(params)).await {
        Ok(started) => {
            let path = format!("/oauth2/login/{}", started.interaction_id);
            let secure = if state.core.public_url().starts_with("https://") {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{COOKIE}={}; Path={path}; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
                started.browser.expose(),
                started.expires_in
            );
            let mut response = see_other(&path);
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(AuthorizeRefusal::Page { message: text }) => message(
            StatusCode::BAD_REQUEST,
            "This login request cannot be used",
            &text,
            None,
        ),
        Err(AuthorizeRefusal::Redirect {
            redirect_uri,
            state: client_state,
            error,
        }) => see_other(&error_redirect(
            state,
            &redirect_uri,
            client_state.as_deref(),
            &error,
        )),
        Err(AuthorizeRefusal::Failure(err)) => failure_page(&OAuthError::Failure(err)),
    }
}

fn error_redirect(
    state: &AppState,
    redirect_uri: &str,
    client_state: Option<&str>,
    error: &OAuthError,
) -> String {
    let description = error.description();
    let mut params = vec![
        ("error", error.code().as_str()),
        ("error_description", description.as_str()),
    ];
    if let Some(s) = client_state {
        params.push(("state", s));
    }
    params.push(("iss", state.core.public_url()));
    with_query(redirect_uri, &params)
}

fn failure_page(err: &OAuthError) -> Response {
    log_failure(err);
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Something went wrong",
        "Central Auth could not handle the login just now. Go back to the app and try again in a moment.",
        None,
    )
}

fn browser_cookie(headers: &HeaderMap) -> Option<OAuthSecret> {
    cookie(headers, COOKIE).map(|value| OAuthSecret::from_client(value.to_owned()))
}

fn render_login(page: &LoginPage, error: Option<String>) -> Response {
    let seconds_left = page.qr_expires_at.duration_since(page.now).as_secs().max(0);
    html(
        StatusCode::OK,
        &LoginView {
            qr_data_url: format!("data:image/png;base64,{}", STANDARD.encode(&page.qr_png)),
            seconds_left,
            scanned: page.qr_status == QrStatus::Scanned,
            page,
            error,
        },
    )
}

/// The words for a refused login step, on the login page.
fn login_error(err: &DomainError) -> String {
    match err {
        DomainError::InvalidPin { attempts_remaining } => {
            format!("That PIN is not right. {attempts_remaining} attempt(s) left with this code.")
        }
        DomainError::TooManyAttempts => {
            "Too many wrong PINs: that code is locked. Scan this new code instead.".to_owned()
        }
        DomainError::QrNotScanned => {
            "Scan the code with the Central Auth app first: it shows the PIN.".to_owned()
        }
        DomainError::QrExpired | DomainError::PinExpired => {
            "That code or its PIN expired. Scan this new code.".to_owned()
        }
        DomainError::QrDenied => {
            "The login was denied on the phone. If that was you by mistake, scan this new code."
                .to_owned()
        }
        DomainError::UserInactive => "That account is deactivated.".to_owned(),
        DomainError::QrNotFound => "That code is not this page's. Scan this new code.".to_owned(),
        DomainError::Validation(_) => "The PIN has 6 digits.".to_owned(),
        other => other.to_string(),
    }
}

/// What the page shows when it cannot go on.
fn refusal_page(refusal: LoginPageRefusal, back: Option<String>) -> Response {
    match refusal {
        LoginPageRefusal::Unknown => message(
            StatusCode::NOT_FOUND,
            "This login page is not yours",
            "This login request is unknown, or was started in another browser. Go back to the app and log in again.",
            None,
        ),
        LoginPageRefusal::Expired => message(
            StatusCode::GONE,
            "This login request expired",
            "Go back to the app and log in again.",
            back.as_deref().map(|href| ("Back to the app", href)),
        ),
        LoginPageRefusal::Finished => message(
            StatusCode::CONFLICT,
            "This login request is already answered",
            "Go back to the app: it has the answer, or start a new login there.",
            None,
        ),
        LoginPageRefusal::Login(DomainError::SystemClosed { opens_at, .. }) => {
            let when = opens_at.map_or("Logins are closed now.".to_owned(), |at| {
                format!(
                    "Logins are closed outside the operating hours; they open at {}.",
                    crate::clock::rfc3339(at)
                )
            });
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                "Logins are closed",
                &when,
                None,
            )
        }
        LoginPageRefusal::Login(DomainError::ServiceInactive) => message(
            StatusCode::FORBIDDEN,
            "This app is deactivated",
            "An administrator deactivated the app that sent you here.",
            None,
        ),
        LoginPageRefusal::Login(DomainError::RateLimited { .. }) => message(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many new codes",
            "Wait a moment, then reload this page.",
            None,
        ),
        LoginPageRefusal::Login(err) => failure_page(&OAuthError::Failure(err)),
    }
}

/// Central Auth's login page: the QR code for the app, a countdown and the PIN field.
pub async fn login_page(
    State(state): State<AppState>,
    Path(interaction_id): Path<String>,
    headers: HeaderMap,
    Caller(browser): Caller,
) -> Response {
    let binding = browser_cookie(&headers);
    match state
        .core
        .login_page(&interaction_id, binding.as_ref(), &browser, None)
        .await
    {
        Ok(page) => render_login(&page, None),
        Err(refusal) => {
            let back = state
                .core
                .login_page_return(&interaction_id, binding.as_ref())
                .await
                .ok()
                .flatten();
            refusal_page(refusal, back)
        }
    }
}

/// The PIN typed on the login page.
pub async fn login_page_pin(
    State(state): State<AppState>,
    Path(interaction_id): Path<String>,
    headers: HeaderMap,
    Caller(browser): Caller,
    body: Bytes,
) -> Response {
    let binding = browser_cookie(&headers);
    let form = OAuthParams::parse(&body);
    let token = QrToken::from_client(form.get("qr_token").unwrap_or_default());
    let pin = match Pin::parse(form.get("pin").unwrap_or_default()) {
        Ok(pin) => Ok(pin),
        Err(field) => Err(LoginPageRefusal::Login(DomainError::Validation(vec![
            field,
        ]))),
    };
    let result = match pin {
        Ok(pin) => {
            state
                .core
                .login_page_pin(&interaction_id, binding.as_ref(), &token, &pin, &browser)
                .await
        }
        Err(refusal) => Err(refusal),
    };
    match result {
        Ok(location) => see_other(&location),
        Err(LoginPageRefusal::Login(err)) if is_retryable(&err) => {
            match state
                .core
                .login_page(&interaction_id, binding.as_ref(), &browser, Some(&token))
                .await
            {
                Ok(page) => render_login(&page, Some(login_error(&err))),
                Err(refusal) => refusal_page(refusal, None),
            }
        }
        Err(refusal) => {
            let back = state
                .core
                .login_page_return(&interaction_id, binding.as_ref())
                .await
                .ok()
                .flatten();
            refusal_page(refusal, back)
        }
    }
}

fn is_retryable(err: &DomainError) -> bool {
    matches!(
        err,
        DomainError::InvalidPin { .. }
            | DomainError::TooManyAttempts
            | DomainError::QrNotScanned
            | DomainError::QrExpired
            | DomainError::PinExpired
            | DomainError::QrDenied
            | DomainError::QrNotFound
            | DomainError::UserInactive
            | DomainError::Validation(_)
    )
}

/// "Cancel" on the login page: back to the app with `access_denied`.
pub async fn login_page_cancel(
    State(state): State<AppState>,
    Path(interaction_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let binding = browser_cookie(&headers);
    match state
        .core
        .login_page_cancel(&interaction_id, binding.as_ref())
        .await
    {
        Ok(location) => see_other(&location),
        Err(refusal) => refusal_page(refusal, None),
    }
}

/// Log out (OIDC RP-initiated logout): ends the session the `id_token_hint`
/// names and returns to a registered `post_logout_redirect_uri`.
#[utoipa::path(
    get, path = "/oauth2/end_session", tag = "oidc",
    params(
        ("id_token_hint" = Option<String>, Query, description = "An ID token this server issued (expired is fine)"),
        ("client_id" = Option<String>, Query),
        ("post_logout_redirect_uri" = Option<String>, Query, description = "One the client registered, exactly"),
        ("state" = Option<String>, Query),
    ),
    responses(
        (status = 303, description = "To the post-logout redirect URI, with `state`"),
        (status = 200, description = "HTML page: signed out", body = String, content_type = "text/html"),
        (status = 400, description = "HTML page: a foreign token or an unregistered URI (nothing ended)", body = String, content_type = "text/html"),
    )
)]
pub async fn end_session(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = OAuthParams::parse(query.unwrap_or_default().as_bytes());
    logout(&state, &params).await
}

/// RP-initiated logout takes a form POST too.
pub async fn end_session_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = OAuthParams::parse(if is_form(&headers) { &body } else { &[] });
    logout(&state, &params).await
}

async fn logout(state: &AppState, params: &OAuthParams) -> Response {
    let request = EndSessionParams {
        id_token_hint: params.get("id_token_hint"),
        client_id: params.get("client_id"),
        post_logout_redirect_uri: params.get("post_logout_redirect_uri"),
        state: params.get("state"),
    };
    match state.core.end_session(request).await {
        Ok(EndSession::Redirect(location)) => see_other(&location),
        Ok(EndSession::SignedOut { client_name }) => {
            let text = match client_name {
                Some(name) => format!("You are logged out of {name}. You can close this page."),
                None => "You are logged out. You can close this page.".to_owned(),
            };
            message(StatusCode::OK, "Logged out", &text, None)
        }
        Err(EndSessionRefusal::Page(text)) => message(
            StatusCode::BAD_REQUEST,
            "This logout request cannot be used",
            &text,
            None,
        ),
        Err(EndSessionRefusal::Failure(err)) => failure_page(&OAuthError::Failure(err)),
    }
}
