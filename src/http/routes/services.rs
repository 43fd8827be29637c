//! Relying services for admins: `/api/services/*`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::service_registry::ServiceRegistration;
use crate::domain::types::{Description, ServiceId, ServiceName, ServiceUrl};
use crate::domain::validation::{Validation, required};
use crate::http::extract::{AdminAuth, ApiJson, ApiQuery};
use crate::http::problem::{ApiError, Problem};
use crate::http::routes::admin::PageParams;
use crate::http::state::AppState;
use crate::http::views::{Paginated, ServiceView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_service))
        .routes(routes!(list_services))
        .routes(routes!(update_service))
        .routes(routes!(deactivate_service))
        .routes(routes!(activate_service))
        .routes(routes!(rotate_key))
        .merge(super::service_oidc::router())
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"name": "ServiceB", "description": "Our CRM", "url": "https://serviceb.example"}))]
pub struct RegisterServiceRequest {
    /// 1–100 characters, shown on the phone; like `description`, without
    /// text-direction controls, invisible or unassigned characters.
    #[schema(required = true, value_type = String)]
    name: Option<String>,
    description: Option<String>,
    /// An http(s) address. An international host must be valid under IDNA
    /// (UTS 46) with each label of one script, like an email domain.
    url: Option<String>,
    /// Whether pin/verify must carry this service's `service_id` and
    /// `api_key`, and validate-session its `service_id` (default `true`).
    /// Without them another service's login could be accepted by mistake.
    require_credentials: Option<bool>,
}

impl TryFrom<RegisterServiceRequest> for ServiceRegistration {
    type Error = ApiError;

    fn try_from(body: RegisterServiceRequest) -> Result<Self, ApiError> {
        let mut v = Validation::default();
        let name = v.check(required("name", body.name).and_then(|n| ServiceName::parse(&n)));
        let description = v.check(Description::parse_optional(body.description.as_deref()));
        let url = v.check(ServiceUrl::parse_optional(body.url.as_deref()));
        let (Some(name), Some(description), Some(url)) = (name, description, url) else {
            return Err(v.into_error().into());
        };
        Ok(ServiceRegistration {
            name,
            description,
            url,
            require_credentials: body.require_credentials,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct ServiceCreatedResponse {
    service_id: String,
    name: String,
    /// Shown this once: the server keeps only a hash.
    api_key: String,
}

/// Register a relying service and receive its API key (shown once).
#[utoipa::path(
    post, path = "/api/services/register", tag = "services",
    request_body = RegisterServiceRequest,
    security(("admin" = [])),
    responses(
        (status = 201, description = "Registered", body = ServiceCreatedResponse),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`service_name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn register_service(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(body): ApiJson<RegisterServiceRequest>,
) -> Result<(StatusCode, Json<ServiceCreatedResponse>), ApiError> {
    let registration = ServiceRegistration::try_from(body)?;
    let (service, api_key) = state
        .core
        .register_service(registration, Some(&admin))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ServiceCreatedResponse {
            service_id: service.service_id.to_string(),
            name: service.name,
            api_key: api_key.expose().to_owned(),
        }),
    ))
}

/// Registered services, oldest first (never a key).
#[utoipa::path(
    get, path = "/api/services", tag = "services",
    params(PageParams),
    security(("admin" = [])),
    responses(
        (status = 200, description = "Services", body = Paginated<ServiceView>),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_services(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Paginated<ServiceView>>, ApiError> {
    let page = state.core.services(&params.parse()?).await?;
    Ok(Json(Paginated::from_page(page, ServiceView::from)))
}

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"require_credentials": true}))]
pub struct UpdateServiceRequest {
    /// See `POST /api/services/register`. Services registered before this
    /// setting existed have it off until an admin turns it on.
    require_credentials: Option<bool>,
}

/// Change a service's settings; fields left out stay as they are.
#[utoipa::path(
    patch, path = "/api/services/{service_id}", tag = "services",
    params(("service_id" = String, Path)),
    request_body = UpdateServiceRequest,
    security(("admin" = [])),
    responses(
        (status = 200, description = "The service", body = ServiceView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`service_not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update_service(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(service_id): Path<String>,
    ApiJson(body): ApiJson<UpdateServiceRequest>,
) -> Result<Json<ServiceView>, ApiError> {
    let id = ServiceId::from_client(&service_id);
    let service = match body.require_credentials {
        Some(on) => state.core.set_require_credentials(&id, on, &admin).await?,
        None => state.core.service(&id).await?,
    };
    Ok(Json(service.into()))
}

/// Deactivate a service: no new logins, and its live sessions end.
#[utoipa::path(
    post, path = "/api/services/{service_id}/deactivate", tag = "services",
    params(("service_id" = String, Path)),
    security(("admin" = [])),
    responses(
        (status = 200, description = "The service, now inactive", body = ServiceView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`service_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn deactivate_service(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(service_id): Path<String>,
) -> Result<Json<ServiceView>, ApiError> {
    let service = state
        .core
        .deactivate_service(&ServiceId::from_client(&service_id), &admin)
        .await?;
    Ok(Json(service.into()))
}

/// Activate a service again.
#[utoipa::path(
    post, path = "/api/services/{service_id}/activate", tag = "services",
    params(("service_id" = String, Path)),
    security(("admin" = [])),
    responses(
        (status = 200, description = "The service, now active", body = ServiceView),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`service_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn activate_service(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(service_id): Path<String>,
) -> Result<Json<ServiceView>, ApiError> {
    let service = state
        .core
        .activate_service(&ServiceId::from_client(&service_id), &admin)
        .await?;
    Ok(Json(service.into()))
}

#[derive(Serialize, ToSchema)]
pub struct RotatedKeyResponse {
    service_id: String,
    /// The new key, shown this once; the old one has stopped working.
    api_key: String,
}

/// Issue a new API key; the old one stops working at once.
#[utoipa::path(
    post, path = "/api/services/{service_id}/rotate-key", tag = "services",
    params(("service_id" = String, Path)),
    security(("admin" = [])),
    responses(
        (status = 200, description = "New key", body = RotatedKeyResponse),
        (status = 401, description = "`unauthorized`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`service_not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn rotate_key(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(service_id): Path<String>,
) -> Result<Json<RotatedKeyResponse>, ApiError> {
    let id = ServiceId::from_client(&service_id);
    let api_key = state.core.rotate_service_key(&id, Some(&admin)).await?;
    Ok(Json(RotatedKeyResponse {
        service_id: id.to_string(),
        api_key: api_key.expose().to_owned(),
    }))
}
