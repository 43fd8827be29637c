//! `GET /api/admin/outbox`: the email outbox, so an operator can see mail
//! that is stuck and why.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::clock::{rfc3339, rfc3339_opt};
use crate::domain::FieldError;
use crate::domain::model::OutboxEntry;
use crate::domain::model::PageRequest;
use crate::http::extract::{AdminAuth, ApiQuery};
use crate::http::problem::{ApiError, Problem};
use crate::http::state::AppState;
use crate::http::views::Paginated;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(outbox))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxParams {
    /// `pending`, `sent`, `logged` or `failed`.
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OutboxView {
    id: i64,
    /// `registration_received`, `approved`, `rejected`, `new_device` or `login_denied`.
    kind: String,
    recipient: String,
    subject: String,
    /// `pending` (waiting or retrying), `sent` (handed to the mail server),
    /// `logged` (no mail server is configured: written to the log, not
    /// received by anyone) or `failed` (refused for good).
    status: String,
    attempts: i64,
    last_error: Option<String>,
    created_at: String,
    /// When a pending message is tried next.
    next_attempt_at: Option<String>,
    /// When the message was sent (or, for `logged`, written to the log).
    sent_at: Option<String>,
}

impl From<OutboxEntry> for OutboxView {
    fn from(e: OutboxEntry) -> Self {
        Self {
            next_attempt_at: (e.status == "pending").then(|| rfc3339(e.next_attempt_at)),
            id: e.id,
            kind: e.kind,
            recipient: e.recipient,
            subject: e.subject,
            status: e.status,
            attempts: e.attempts,
            last_error: e.last_error,
            created_at: rfc3339(e.created_at),
            sent_at: rfc3339_opt(e.sent_at),
        }
    }
}

/// Emails owed, sent and failed, newest first.
#[utoipa::path(
    get, path = "/api/admin/outbox", tag = "admin",
    params(OutboxParams),
    security(("admin" = [])),
    responses(
        (status = 200, description = "The outbox", body = Paginated<OutboxView>),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn outbox(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
    ApiQuery(params): ApiQuery<OutboxParams>,
) -> Result<Json<Paginated<OutboxView>>, ApiError> {
    let status = match params.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s @ ("pending" | "sent" | "logged" | "failed")) => Some(s),
        Some(_) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "status",
                "must be pending, sent, logged or failed",
            )]));
        }
    };
    let page = PageRequest::parse(params.limit, params.cursor.as_deref())?;
    let entries = state.core.outbox(status, &page).await?;
    Ok(Json(Paginated::from_page(entries, OutboxView::from)))
}
