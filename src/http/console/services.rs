//! Services: register (the key is shown once), list, rotate the key,
//! deactivate and activate.

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
use crate::domain::model::PageRequest;
use crate::domain::service_registry::ServiceRegistration;
use crate::domain::types::{Description, ServiceId, ServiceName, ServiceUrl};
use crate::domain::validation::{Validation, required};
use crate::http::problem::ApiError;
use crate::http::state::AppState;
use crate::http::views::ServiceView;

#[derive(Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/services.html")]
struct Services<'a> {
    section: &'a str,
    admin: &'a str,
    csrf: &'a str,
    notice: Option<String>,
    error: Option<String>,
    /// (name, service_id, api_key) right after registration or rotation.
    new_key: Option<(String, String, String)>,
    items: Vec<ServiceView>,
    next: Option<String>,
}

/// The services page; `new_key` is rendered directly by the POST that made
/// it (never put in a URL or a redirect), so it is shown exactly once.
async fn show(
    state: &AppState,
    console: &Console,
    cursor: Option<&str>,
    notice: Option<String>,
    error: Option<String>,
    new_key: Option<(String, String, String)>,
) -> Response {
    let page = match PageRequest::parse(Some(100), cursor) {
        Ok(p) => p,
        Err(e) => return error_page(console, Section::Services, e),
    };
    match state.core.services(&page).await {
        Ok(list) => {
            let mut response = render(&Services {
                section: Section::Services.name(),
                admin: &console.admin.username,
                csrf: &console.csrf,
                notice,
                error: error.clone(),
                new_key,
                next: list.next_cursor.map(|c| c.encode()),
                items: list.items.into_iter().map(ServiceView::from).collect(),
            });
            if error.is_some() {
                *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            }
            response
        }
        Err(e) => error_page(console, Section::Services, e),
    }
}

pub async fn page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<PageQuery>,
) -> Response {
    show(&state, &console, q.cursor.as_deref(), q.notice, None, None).await
}

fn registration(form: &FormFields) -> Result<ServiceRegistration, DomainError> {
    let mut v = Validation::default();
    let name = v.check(required("name", form.get("name")).and_then(ServiceName::parse));
    let description = v.check(Description::parse_optional(form.get("description")));
    let url = v.check(ServiceUrl::parse_optional(form.get("url")));
    match (name, description, url) {
        (Some(name), Some(description), Some(url)) => Ok(ServiceRegistration {
            name,
            description,
            url,
            // An unticked box is not sent at all.
            require_credentials: Some(form.get("require_credentials").is_some()),
        }),
        _ => Err(v.into_error()),
    }
}

fn describe(err: &DomainError) -> String {
    match err {
        DomainError::Validation(errors) => errors
            .iter()
            .map(|e| format!("{} {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

pub async fn register(State(state): State<AppState>, console: Console, body: Bytes) -> Response {
    let form = FormFields::parse(&body);
    if let Err(refused) = console.check(&form) {
        return refused.into_response();
    }
    let registered = match registration(&form) {
        Ok(reg) => state.core.register_service(reg, Some(&console.admin)).await,
        Err(e) => Err(e),
    };
    match registered {
        Ok((service, key)) => {
            let shown = (
                service.name,
                service.service_id.to_string(),
                key.expose().to_owned(),
            );
            show(&state, &console, None, None, None, Some(shown)).await
        }
        Err(e @ (DomainError::Validation(_) | DomainError::ServiceNameTaken)) => {
            show(&state, &console, None, None, Some(describe(&e)), None).await
        }
        Err(e) => error_page(&console, Section::Services, e),
    }
}

pub async fn act(
    State(state): State<AppState>,
    console: Console,
    Path((service_id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Err(refused) = console.check(&FormFields::parse(&body)) {
        return refused.into_response();
    }
    let id = ServiceId::from_client(&service_id);
    let admin = &console.admin;
    let changed = match action.as_str() {
        "rotate-key" => {
            return match state.core.rotate_service_key(&id, Some(admin)).await {
                Ok(key) => {
                    let name = match state.core.service(&id).await {
                        Ok(s) => s.name,
                        Err(e) => return error_page(&console, Section::Services, e),
                    };
                    let shown = (name, id.to_string(), key.expose().to_owned());
                    let notice = Some("Key rotated: the old key no longer works.".to_owned());
                    show(&state, &console, None, notice, None, Some(shown)).await
                }
                Err(e) => error_page(&console, Section::Services, e),
            };
        }
        "deactivate" => state.core.deactivate_service(&id, admin).await,
        "activate" => state.core.activate_service(&id, admin).await,
        "credentials-required" | "credentials-optional" => {
            let on = action == "credentials-required";
            return match state.core.set_require_credentials(&id, on, admin).await {
                Ok(service) => see_other(
                    "/admin/services",
                    &format!(
                        "{} now {} its credentials.",
                        service.name,
                        if on { "must send" } else { "may leave out" }
                    ),
                ),
                Err(e) => error_page(&console, Section::Services, e),
            };
        }
        _ => return error_page(&console, Section::Services, ApiError::RouteNotFound),
    };
    match changed {
        Ok(service) => see_other(
            "/admin/services",
            &format!(
                "{} is now {}.",
                service.name,
                if service.is_active {
                    "active"
                } else {
                    "inactive"
                }
            ),
        ),
        Err(e) => error_page(&console, Section::Services, e),
    }
}
