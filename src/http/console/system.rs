//! System: the operating-hours editor, the current state, the email outbox.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error_page::{Section, error_page};
use super::session::FormFields;
use super::{Console, render, see_other};
use crate::clock::{rfc3339, rfc3339_opt};
use crate::domain::DomainError;
use crate::domain::model::PageRequest;
use crate::domain::schedule::ScheduleInput;
use crate::http::state::AppState;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub struct OutboxRow {
    created_at: String,
    recipient: String,
    subject: String,
    status: String,
    attempts: i64,
    last_error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/system.html")]
struct System<'a> {
    section: &'a str,
    admin: &'a str,
    csrf: &'a str,
    notice: Option<String>,
    error: Option<String>,
    open: bool,
    now: String,
    next_change: Option<String>,
    enabled: bool,
    timezone: String,
    opening: String,
    closing: String,
    days: Vec<(&'static str, bool)>,
    zones: Vec<String>,
    outbox: Vec<OutboxRow>,
}

async fn show(
    state: &AppState,
    console: &Console,
    notice: Option<String>,
    error: Option<String>,
    typed: Option<ScheduleInput>,
) -> Response {
    let status = match state.core.system_status().await {
        Ok(s) => s,
        Err(e) => return error_page(console, Section::System, e),
    };
    let outbox = match PageRequest::parse(Some(50), None) {
        Ok(page) => state.core.outbox(None, &page).await,
        Err(e) => Err(e),
    };
    let outbox = match outbox {
        Ok(o) => o,
        Err(e) => return error_page(console, Section::System, e),
    };
    // After a refused save, show what the admin typed, not the stored hours.
    let shown = typed.unwrap_or_else(|| status.schedule.to_input());
    let mut zones: Vec<String> = jiff::tz::db().available().map(|z| z.to_string()).collect();
    zones.sort();
    let mut response = render(&System {
        section: Section::System.name(),
        admin: &console.admin.username,
        csrf: &console.csrf,
        notice,
        error: error.clone(),
        open: status.state.open,
        now: rfc3339(status.now),
        next_change: rfc3339_opt(status.state.next_change),
        enabled: shown.enabled,
        timezone: shown.timezone.clone(),
        opening: shown.opening_time.clone(),
        closing: shown.closing_time.clone(),
        days: DAYS
            .iter()
            .map(|d| (*d, shown.days.iter().any(|s| s == d)))
            .collect(),
        zones,
        outbox: outbox
            .items
            .into_iter()
            .map(|m| OutboxRow {
                created_at: rfc3339(m.created_at),
                recipient: m.recipient,
                subject: m.subject,
                status: m.status,
                attempts: m.attempts,
                last_error: m.last_error,
            })
            .collect(),
    });
    if error.is_some() {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<NoticeQuery>,
) -> Response {
    show(&state, &console, q.notice, None, None).await
}

pub async fn save_schedule(
    State(state): State<AppState>,
    console: Console,
    body: Bytes,
) -> Response {
    let form = FormFields::parse(&body);
    if let Err(refused) = console.check(&form) {
        return refused.into_response();
    }
    let input = ScheduleInput {
        enabled: form.get("enabled") == Some("true"),
        timezone: form.get("timezone").unwrap_or_default().trim().to_owned(),
        opening_time: form.get("opening_time").unwrap_or_default().to_owned(),
        closing_time: form.get("closing_time").unwrap_or_default().to_owned(),
        days: form.all("days"),
    };
    match state.core.set_schedule(&input, &console.admin).await {
        Ok(_) => see_other("/admin/system", "Operating hours saved."),
        Err(DomainError::Validation(errors)) => {
            let message = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            show(&state, &console, None, Some(message), Some(input)).await
        }
        Err(e) => error_page(&console, Section::System, e),
    }
}
