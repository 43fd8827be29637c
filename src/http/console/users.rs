//! Users: the list with search and status filter, a user's page, activation,
//! and the login history.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;

use super::error_page::{Section, error_page};
use super::session::FormFields;
use super::{Console, render, see_other};
use crate::clock::{rfc3339, rfc3339_opt};
use crate::domain::model::{AccountStatus, PageRequest};
use crate::domain::reports::{HistoryEntry, HistoryFilter};
use crate::domain::types::UserId;
use crate::http::problem::ApiError;
use crate::http::state::AppState;
use crate::http::views::UserView;

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct Users<'a> {
    section: &'a str,
    admin: &'a str,
    csrf: &'a str,
    notice: Option<String>,
    q: String,
    status: String,
    items: Vec<UserView>,
    next: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<ListQuery>,
) -> Response {
    let status_text = q.status.clone().unwrap_or_default();
    let status = match status_text.as_str() {
        "active" => Some(AccountStatus::Active),
        "inactive" => Some(AccountStatus::Inactive),
        _ => None,
    };
    let page = match PageRequest::parse(Some(50), q.cursor.as_deref()) {
        Ok(p) => p,
        Err(e) => return error_page(&console, Section::Users, e),
    };
    match state.core.users(status, q.q.as_deref(), &page).await {
        Ok(list) => render(&Users {
            section: Section::Users.name(),
            admin: &console.admin.username,
            csrf: &console.csrf,
            notice: q.notice,
            q: q.q.unwrap_or_default(),
            status: status_text,
            next: list.next_cursor.map(|c| c.encode()),
            items: list.items.into_iter().map(UserView::from).collect(),
        }),
        Err(e) => error_page(&console, Section::Users, e),
    }
}

/// A row of the history tables, formatted for people.
pub struct HistoryRow {
    login_at: String,
    username: Option<String>,
    service_name: Option<String>,
    outcome: String,
    logout_at: Option<String>,
    ended_reason: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    sign_in: Option<String>,
}

impl From<HistoryEntry> for HistoryRow {
    fn from(h: HistoryEntry) -> Self {
        Self {
            login_at: rfc3339(h.login_at),
            username: h.username,
            service_name: h.service_name,
            outcome: h.outcome,
            logout_at: rfc3339_opt(h.logout_at),
            ended_reason: h.ended_reason,
            ip: h.ip,
            user_agent: h.user_agent,
            sign_in: h.sign_in,
        }
    }
}

pub struct UsageRow {
    name: String,
    logins_this_month: i64,
    last_login: String,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage<'a> {
    section: &'a str,
    admin: &'a str,
    csrf: &'a str,
    notice: Option<String>,
    user: UserView,
    usage: Vec<UsageRow>,
    history: Vec<HistoryRow>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    console: Console,
    Path(user_id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let id = UserId::from_client(&user_id);
    let stats = match state.core.stats(Some(&id)).await {
        Ok(s) => s,
        Err(e) => return error_page(&console, Section::Users, e),
    };
    let user = match state.core.user(&id).await {
        Ok(u) => u,
        Err(e) => return error_page(&console, Section::Users, e),
    };
    let filter = HistoryFilter {
        user_id: Some(user_id),
        ..HistoryFilter::default()
    };
    let recent = match PageRequest::parse(Some(20), None) {
        Ok(page) => state.core.login_history(&filter, &page).await,
        Err(e) => Err(e),
    };
    let recent = match recent {
        Ok(r) => r,
        Err(e) => return error_page(&console, Section::Users, e),
    };
    render(&UserPage {
        section: Section::Users.name(),
        admin: &console.admin.username,
        csrf: &console.csrf,
        notice: q.notice,
        user: user.into(),
        usage: stats
            .user
            .map(|u| u.by_service)
            .unwrap_or_default()
            .into_iter()
            .map(|s| UsageRow {
                name: s.name,
                logins_this_month: s.logins_this_month,
                last_login: rfc3339(s.last_login),
            })
            .collect(),
        history: recent.items.into_iter().map(HistoryRow::from).collect(),
    })
}

pub async fn set_status(
    State(state): State<AppState>,
    console: Console,
    Path((user_id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let form = FormFields::parse(&body);
    if let Err(refused) = console.check(&form) {
        return refused.into_response();
    }
    let id = UserId::from_client(&user_id);
    let result = match action.as_str() {
        "deactivate" => state.core.deactivate_user(&id, &console.admin).await,
        "activate" => state.core.activate_user(&id, &console.admin).await,
        _ => return error_page(&console, Section::Users, ApiError::RouteNotFound),
    };
    match result {
        Ok(user) => {
            let notice = format!("{} is now {}.", user.username, user.status().as_str());
            if form.get("back") == Some("user") {
                see_other(&format!("/admin/users/{}", user.user_id), &notice)
            } else {
                see_other("/admin/users", &notice)
            }
        }
        Err(e) => error_page(&console, Section::Users, e),
    }
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    user_id: Option<String>,
    service_id: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/history.html")]
struct History<'a> {
    section: &'a str,
    admin: &'a str,
    csrf: &'a str,
    notice: Option<String>,
    error: Option<String>,
    f_user: String,
    f_service: String,
    f_outcome: String,
    f_from: String,
    f_to: String,
    services: Vec<(String, String)>,
    history: Vec<HistoryRow>,
    next: Option<String>,
}

/// A `YYYY-MM-DD` date field as the start of that UTC day; `to` is inclusive,
/// so its bound is the start of the next day.
fn day_bound(raw: &str, next_day: bool) -> Result<Option<Timestamp>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    let date: jiff::civil::Date = raw.parse().map_err(|_| format!("{raw} is not a date"))?;
    let date = if next_day {
        date.tomorrow().map_err(|e| e.to_string())?
    } else {
        date
    };
    date.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map(|z| Some(z.timestamp()))
        .map_err(|e| e.to_string())
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.clone().filter(|s| !s.is_empty())
}

pub async fn history(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let f_from = q.from.clone().unwrap_or_default();
    let f_to = q.to.clone().unwrap_or_default();
    let bounds = day_bound(&f_from, false).and_then(|from| Ok((from, day_bound(&f_to, true)?)));
    let (error, (from, to)) = match bounds {
        Ok(b) => (None, b),
        Err(e) => (Some(e), (None, None)),
    };
    let filter = HistoryFilter {
        user_id: non_empty(&q.user_id),
        service_id: non_empty(&q.service_id),
        outcome: non_empty(&q.outcome),
        from,
        to,
    };
    let page = match PageRequest::parse(Some(50), q.cursor.as_deref()) {
        Ok(p) => p,
        Err(e) => return error_page(&console, Section::History, e),
    };
    let entries = match state.core.login_history(&filter, &page).await {
        Ok(e) => e,
        Err(e) => return error_page(&console, Section::History, e),
    };
    let services = match PageRequest::parse(Some(500), None) {
        Ok(all) => state.core.services(&all).await,
        Err(e) => Err(e),
    };
    let services = match services {
        Ok(s) => s
            .items
            .into_iter()
            .map(|s| (s.service_id.to_string(), s.name))
            .collect(),
        Err(e) => return error_page(&console, Section::History, e),
    };
    let next = entries.next_cursor.map(|c| {
        let params = [
            ("user_id", q.user_id.clone().unwrap_or_default()),
            ("service_id", q.service_id.clone().unwrap_or_default()),
            ("outcome", q.outcome.clone().unwrap_or_default()),
            ("from", f_from.clone()),
            ("to", f_to.clone()),
            ("cursor", c.encode()),
        ];
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter().filter(|(_, v)| !v.is_empty()))
            .finish();
        format!("/admin/history?{query}")
    });
    render(&History {
        section: Section::History.name(),
        admin: &console.admin.username,
        csrf: &console.csrf,
        notice: q.notice,
        error,
        f_user: q.user_id.unwrap_or_default(),
        f_service: q.service_id.unwrap_or_default(),
        f_outcome: q.outcome.unwrap_or_default(),
        f_from,
        f_to,
        services,
        history: entries.items.into_iter().map(HistoryRow::from).collect(),
        next,
    })
}
