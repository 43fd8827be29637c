//! "Your sign-ins": the signed-in admin's live bearer tokens (console and
//! API alike), each revocable, and "sign out everywhere else". Only the
//! admin's own tokens, named by `token_id`, never by the secret.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error_page::{Section, error_page};
use super::session::FormFields;
use super::{Console, render, see_other};
use crate::domain::model::PageRequest;
use crate::domain::types::AdminTokenId;
use crate::http::state::AppState;
use crate::http::views::AdminTokenView;

#[derive(Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct Tokens<'a> {
    section: &'a str,
    admin: &'a str,
    csrf: &'a str,
    notice: Option<String>,
    items: Vec<AdminTokenView>,
    next: Option<String>,
    /// `ADMIN_TOKENS_MAX`, when there is a cap.
    cap: Option<u32>,
    ttl_minutes: i64,
}

impl Tokens<'_> {
    fn others(&self) -> usize {
        self.items.iter().filter(|t| !t.current).count()
    }
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<PageQuery>,
) -> Response {
    let page = match PageRequest::parse(Some(50), q.cursor.as_deref()) {
        Ok(p) => p,
        Err(e) => return error_page(&console, Section::Tokens, e),
    };
    match state
        .core
        .admin_tokens(&console.admin, console.token(), &page)
        .await
    {
        Ok(list) => {
            let settings = state.core.settings();
            render(&Tokens {
                section: Section::Tokens.name(),
                admin: &console.admin.username,
                csrf: &console.csrf,
                notice: q.notice,
                next: list.next_cursor.map(|c| c.encode()),
                items: list.items.into_iter().map(AdminTokenView::from).collect(),
                cap: settings.admin_tokens_max,
                ttl_minutes: settings.admin_token_ttl.as_mins(),
            })
        }
        Err(e) => error_page(&console, Section::Tokens, e),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    console: Console,
    Path(token_id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(refused) = console.check(&FormFields::parse(&body)) {
        return refused.into_response();
    }
    let id = AdminTokenId::from_client(&token_id);
    match state.core.revoke_admin_token(&console.admin, &id).await {
        Ok(true) => see_other("/admin/tokens", "Revoked: that sign-in no longer works."),
        // Ended meanwhile (expired, revoked elsewhere) or not this admin's:
        // either way it does not work, which is what was asked.
        Ok(false) => see_other("/admin/tokens", "That sign-in had already ended."),
        Err(e) => error_page(&console, Section::Tokens, e),
    }
}

pub async fn sign_out_others(
    State(state): State<AppState>,
    console: Console,
    body: Bytes,
) -> Response {
    if let Err(refused) = console.check(&FormFields::parse(&body)) {
        return refused.into_response();
    }
    match state
        .core
        .end_other_admin_tokens(&console.admin, console.token())
        .await
    {
        Ok(n) => {
            let notice = match n {
                0 => "There was no other sign-in.".to_owned(),
                1 => "Signed out 1 other sign-in.".to_owned(),
                n => format!("Signed out {n} other sign-ins."),
            };
            see_other("/admin/tokens", &notice)
        }
        Err(e) => error_page(&console, Section::Tokens, e),
    }
}
