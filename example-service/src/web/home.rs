//! `GET /` (welcome or logged out) and `POST /logout`.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::central_auth::CallError;
use crate::messages;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::cookies::{SESSION, attach};
use crate::web::errors::PageError;
use crate::web::pages::{Ended, HomePage, SignedIn, render};
use crate::web::session::{self, Session};

pub async fn page(State(state): State<AppState>, browser: Browser) -> Response {
    let mut cookies = Vec::new();
    let result = home(&state, &browser, &mut cookies).await;
    attach(result.unwrap_or_else(IntoResponse::into_response), cookies)
}

async fn home(
    state: &AppState,
    browser: &Browser,
    cookies: &mut Vec<axum::http::HeaderValue>,
) -> Result<Response, PageError> {
    let (visit, visitor_cookie) = session::visit(state, browser)?;
    cookies.extend(visitor_cookie);
    let (session, session_cookie) = session::check(state, browser).await?;
    cookies.extend(session_cookie);
    let page = match session {
        Session::Valid(user) => HomePage {
            user: Some(SignedIn {
                full_name: user.full_name,
                username: user.username,
                csrf: visit.csrf,
            }),
            ended: None,
        },
        Session::Ended { reason } => HomePage {
            user: None,
            ended: Some(Ended {
                text: messages::session_ended(&reason),
                reason,
            }),
        },
        Session::Anonymous => HomePage {
            user: None,
            ended: None,
        },
    };
    Ok(render(&page, StatusCode::OK))
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// Step 5 of the guide: end the session at Central Auth, then here.
pub async fn logout(
    State(state): State<AppState>,
    browser: Browser,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Response {
    let csrf = form.map(|Form(f)| f.csrf).unwrap_or_default();
    if let Err(e) = session::form_is_ours(&state, &browser, &csrf) {
        return e.into_response();
    }
    // Forgotten here whatever Central Auth says: on a shared computer the
    // next person must not inherit the session.
    let clear = vec![state.cookies.clear(SESSION)];
    if let Some(token) = &browser.session {
        match state.central.logout(token).await {
            // A refusal (`invalid_token`) means there is no session to end.
            Ok(()) | Err(CallError::Refused(_)) => {}
            Err(CallError::Unavailable(detail)) => {
                return attach(PageError::LogoutUnconfirmed(detail).into_response(), clear);
            }
        }
    }
    attach(Redirect::to("/").into_response(), clear)
}
