//! Steps 2 and 3 of the guide: `GET /login` (a QR code for this visitor),
//! `GET /login/status` (polled by the page) and `POST /login/pin`.

use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};

use crate::central_auth::{CallError, Pin};
use crate::messages::{self, StatusLine};
use crate::secret::QrToken;
use crate::visitors::PendingLogin;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::cookies::{SESSION, attach};
use crate::web::errors::PageError;
use crate::web::pages::{LoginPage, Notice, QrView, duration_text, render};
use crate::web::session::{self, Session};

pub async fn page(State(state): State<AppState>, browser: Browser) -> Response {
    let mut cookies = Vec::new();
    let result = new_code(&state, &browser, &mut cookies).await;
    attach(result.unwrap_or_else(IntoResponse::into_response), cookies)
}

async fn new_code(
    state: &AppState,
    browser: &Browser,
    cookies: &mut Vec<HeaderValue>,
) -> Result<Response, PageError> {
    let (session, session_cookie) = session::check(state, browser).await?;
    cookies.extend(session_cookie);
    if let Session::Valid(_) = session {
        return Ok(Redirect::to("/").into_response());
    }
    let (visit, visitor_cookie) = session::visit(state, browser)?;
    cookies.extend(visitor_cookie);
    let code = state.central.generate_qr(&browser.requester).await?;
    // The token stays here; the page gets only the picture. Reloading the
    // page starts over with a new code.
    let pending = PendingLogin {
        qr_token: QrToken::new(code.qr_token),
        qr_image: code.qr_image,
        expires_in: code.expires_in,
    };
    state.visitors.start_login(&visit.id, pending.clone());
    Ok(login_page(Some(&pending), visit.csrf, None, StatusCode::OK))
}

fn login_page(
    pending: Option<&PendingLogin>,
    csrf: String,
    error: Option<Notice>,
    status: StatusCode,
) -> Response {
    let page = LoginPage {
        qr: pending.map(|p| QrView {
            image: p.qr_image.clone(),
            valid_for: duration_text(p.expires_in),
        }),
        csrf,
        error,
    };
    render(&page, status)
}

/// What `/login/status` answers the page's script.
#[derive(Serialize)]
struct StatusReply {
    /// Central Auth's status, or `none` when no code is pending here.
    status: String,
    message: &'static str,
    ended: bool,
    offer_new_code: bool,
}

pub async fn status(State(state): State<AppState>, browser: Browser) -> Response {
    let pending = browser
        .visitor_id
        .as_deref()
        .and_then(|id| state.visitors.pending_login(id));
    let (code, body) = match pending {
        None => (StatusCode::OK, reply("none", messages::no_login())),
        Some(pending) => match state.central.qr_status(&pending.qr_token).await {
            Ok(s) => {
                let line = messages::qr_status(&s.status);
                (StatusCode::OK, reply(&s.status, line))
            }
            Err(CallError::Refused(p)) if p.code == "qr_not_found" => {
                (StatusCode::OK, reply("none", messages::no_login()))
            }
            Err(e) => {
                tracing::warn!("QR status unavailable: {e:?}");
                let line = StatusLine {
                    text: "Central Auth is not reachable; still trying…",
                    ended: false,
                    offer_new_code: false,
                };
                (StatusCode::BAD_GATEWAY, reply("unavailable", line))
            }
        },
    };
    let mut response = (code, Json(body)).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn reply(status: &str, line: StatusLine) -> StatusReply {
    StatusReply {
        status: status.to_owned(),
        message: line.text,
        ended: line.ended,
        offer_new_code: line.offer_new_code,
    }
}

#[derive(Deserialize)]
pub struct PinForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pin: String,
}

pub async fn pin(
    State(state): State<AppState>,
    browser: Browser,
    form: Result<Form<PinForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return PageError::ForeignForm.into_response();
    };
    submit_pin(&state, &browser, form)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn submit_pin(
    state: &AppState,
    browser: &Browser,
    form: PinForm,
) -> Result<Response, PageError> {
    session::form_is_ours(state, browser, &form.csrf)?;
    let visitor = browser.visitor_id.as_deref().unwrap_or_default();
    let notice = |code: &str, message: &str| Notice {
        code: code.to_owned(),
        message: message.to_owned(),
    };
    let Some(pending) = state.visitors.pending_login(visitor) else {
        let error = notice("no_login", "No login in progress. Get a new code.");
        return Ok(login_page(
            None,
            form.csrf,
            Some(error),
            StatusCode::CONFLICT,
        ));
    };
    let Some(pin) = Pin::parse(&form.pin) else {
        let error = notice("pin_format", "The PIN is the 6 digits shown on your phone.");
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(login_page(Some(&pending), form.csrf, Some(error), status));
    };
    match state.central.verify_pin(&pending.qr_token, &pin).await {
        Ok(login) => {
            state.visitors.end_login(visitor);
            let cookie = state
                .cookies
                .set(SESSION, login.session_token.expose())
                .ok_or_else(|| PageError::Internal("session token unfit for a cookie".into()))?;
            tracing::info!(username = %login.user.username, "logged in");
            Ok(attach(Redirect::to("/").into_response(), vec![cookie]))
        }
        Err(CallError::Refused(problem)) => {
            tracing::info!(code = %problem.code, "PIN refused");
            let refusal = messages::pin_refused(&problem);
            if !refusal.code_still_usable {
                state.visitors.end_login(visitor);
            }
            let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
            let error = notice(&problem.code, &refusal.message);
            let shown = refusal.code_still_usable.then_some(&pending);
            Ok(login_page(shown, form.csrf, Some(error), status))
        }
        Err(unavailable) => Err(unavailable.into()),
    }
}
