//! Step 4 of the guide on every page load: ask Central Auth whether the
//! visitor's session is still good, and keep the renewed token.

use axum::http::HeaderValue;

use crate::central_auth::{User, Verdict};
use crate::visitors::Visit;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::cookies::{SESSION, VISITOR};
use crate::web::errors::PageError;

pub enum Session {
    /// No session cookie.
    Anonymous,
    Valid(User),
    /// Central Auth says it is over (`expired`, `logged_out`, `user_inactive`, …).
    Ended {
        reason: String,
    },
}

/// The visitor's session, and the cookie change it calls for: the renewed
/// token when valid (a session ends 30 minutes after the last validation,
/// so an idle tab logs out on its own), a cleared cookie when it ended.
pub async fn check(
    state: &AppState,
    browser: &Browser,
) -> Result<(Session, Option<HeaderValue>), PageError> {
    let Some(token) = &browser.session else {
        return Ok((Session::Anonymous, None));
    };
    match state.central.validate_session(token).await? {
        Verdict::Valid {
            session_token,
            user,
        } => {
            let cookie = state
                .cookies
                .set(SESSION, session_token.expose())
                .ok_or_else(|| PageError::Internal("session token unfit for a cookie".into()))?;
            Ok((Session::Valid(user), Some(cookie)))
        }
        Verdict::Ended { reason } => Ok((
            Session::Ended { reason },
            Some(state.cookies.clear(SESSION)),
        )),
    }
}

/// The server-side state of this visitor, made on the first visit (then
/// the response must set the visitor cookie, which this returns).
pub fn visit(
    state: &AppState,
    browser: &Browser,
) -> Result<(Visit, Option<HeaderValue>), PageError> {
    let visit = state.visitors.visit(browser.visitor_id.as_deref())?;
    let cookie = if visit.is_new {
        Some(
            state
                .cookies
                .set(VISITOR, &visit.id)
                .ok_or_else(|| PageError::Internal("visitor id unfit for a cookie".into()))?,
        )
    } else {
        None
    };
    Ok((visit, cookie))
}

/// Whether the form's CSRF token is this visitor's own.
pub fn form_is_ours(state: &AppState, browser: &Browser, csrf: &str) -> Result<(), PageError> {
    match browser.visitor_id.as_deref() {
        Some(id) if state.visitors.csrf_matches(id, csrf) => Ok(()),
        _ => Err(PageError::ForeignForm),
    }
}
