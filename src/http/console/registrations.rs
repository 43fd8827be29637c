//! Pending registrations: the queue, with Approve and Reject.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error_page::{Section, error_page};
use super::session::FormFields;
use super::{Console, render, see_other};
use crate::domain::model::PageRequest;
use crate::domain::types::{RejectionReason, UserId};
use crate::http::problem::ApiError;
use crate::http::state::AppState;
use crate::http::views::PendingUserView;

#[derive(Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/pending.html")]
struct Pending<'a> {
    section: &'a str,
    admin: &'a str,
    csrf: &'a str,
    notice: Option<String>,
    items: Vec<PendingUserView>,
    next: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<PageQuery>,
) -> Response {
    let page = match PageRequest::parse(Some(50), q.cursor.as_deref()) {
        Ok(p) => p,
        Err(e) => return error_page(&console, Section::Pending, e),
    };
    match state.core.pending_registrations(&page).await {
        Ok(list) => render(&Pending {
            section: Section::Pending.name(),
            admin: &console.admin.username,
            csrf: &console.csrf,
            notice: q.notice,
            next: list.next_cursor.map(|c| c.encode()),
            items: list.items.into_iter().map(PendingUserView::from).collect(),
        }),
        Err(e) => error_page(&console, Section::Pending, e),
    }
}

pub async fn approve(
    State(state): State<AppState>,
    console: Console,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(refused) = console.check(&FormFields::parse(&body)) {
        return refused.into_response();
    }
    match state
        .core
        .approve(&UserId::from_client(&user_id), &console.admin)
        .await
    {
        Ok(user) => see_other("/admin/pending", &format!("Approved {}.", user.username)),
        Err(e) => error_page(&console, Section::Pending, e),
    }
}

pub async fn reject(
    State(state): State<AppState>,
    console: Console,
    Path(user_id): Path<String>,
    body: Bytes,
) -> Response {
    let form = FormFields::parse(&body);
    if let Err(refused) = console.check(&form) {
        return refused.into_response();
    }
    let reason = match RejectionReason::parse_optional(form.get("reason")) {
        Ok(r) => r,
        Err(e) => return error_page(&console, Section::Pending, ApiError::validation(vec![e])),
    };
    match state
        .core
        .reject(&UserId::from_client(&user_id), reason, &console.admin)
        .await
    {
        Ok(user) => see_other("/admin/pending", &format!("Rejected {}.", user.username)),
        Err(e) => error_page(&console, Section::Pending, e),
    }
}
