//! The signed-in admin's own bearer tokens: `GET /api/admin/tokens` and
//! `DELETE /api/admin/tokens/{token_id}` (the console's "Your sign-ins" in
//! JSON). A token is named by its `token_id`, never by the secret.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::DomainError;
use crate::domain::types::AdminTokenId;
use crate::http::extract::{AdminBearer, ApiQuery};
use crate::http::problem::{ApiError, Problem};
use crate::http::routes::admin::PageParams;
use crate::http::state::AppState;
use crate::http::views::{AdminTokenView, Paginated};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens))
        .routes(routes!(revoke_token))
}

/// The signed-in admin's live tokens (API and console sign-ins), newest
/// first; `current` marks the one presented. Never another admin's.
#[utoipa::path(
    get, path = "/api/admin/tokens", tag = "admin",
    params(PageParams),
    security(("admin" = [])),
    responses(
        (status = 200, description = "The admin's live tokens", body = Paginated<AdminTokenView>),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (limit or cursor)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_tokens(
    State(state): State<AppState>,
    AdminBearer { admin, token }: AdminBearer,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Paginated<AdminTokenView>>, ApiError> {
    let page = state
        .core
        .admin_tokens(&admin, &token, &params.parse()?)
        .await?;
    Ok(Json(Paginated::from_page(page, AdminTokenView::from)))
}

#[derive(Serialize, ToSchema)]
pub struct RevokedTokenResponse {
    token_id: String,
    #[schema(example = true)]
    revoked: bool,
}

/// Revoke one of the signed-in admin's tokens: it stops working at once, on
/// every instance. (Revoking the presented one is a logout.)
#[utoipa::path(
    delete, path = "/api/admin/tokens/{token_id}", tag = "admin",
    params(("token_id" = String, Path, description = "From `GET /api/admin/tokens`")),
    security(("admin" = [])),
    responses(
        (status = 200, description = "The token no longer works", body = RevokedTokenResponse),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`token_not_found`: this admin has no live token by that id (ended already, or another admin's)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn revoke_token(
    State(state): State<AppState>,
    AdminBearer { admin, .. }: AdminBearer,
    Path(token_id): Path<String>,
) -> Result<Json<RevokedTokenResponse>, ApiError> {
    let id = AdminTokenId::from_client(&token_id);
    if !state.core.revoke_admin_token(&admin, &id).await? {
        return Err(DomainError::AdminTokenNotFound.into());
    }
    Ok(Json(RevokedTokenResponse {
        token_id: id.to_string(),
        revoked: true,
    }))
}
