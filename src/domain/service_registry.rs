//! The relying services (ServiceB, AppC, …) that log their users in through
//! Central Auth, and their API keys.

use jiff::Timestamp;

use crate::domain::model::{Admin, Page, PageRequest, Service};
use crate::domain::secret::{ApiKey, TokenHash};
use crate::domain::types::{Description, ServiceId, ServiceName, ServiceUrl};
use crate::domain::{Core, DomainError};

#[derive(Debug)]
pub struct ServiceRegistration {
    pub name: ServiceName,
    pub description: Option<Description>,
    pub url: Option<ServiceUrl>,
    /// `None`: on, the default for new services.
    pub require_credentials: Option<bool>,
}

/// A service to store, with the hash of its first API key.
pub struct NewService<'a> {
    pub service_id: &'a ServiceId,
    pub name: &'a str,
    pub name_lower: &'a str,
    pub description: Option<&'a str>,
    pub url: Option<&'a str>,
    pub api_key_hash: &'a TokenHash,
    pub created_at: Timestamp,
    pub require_credentials: bool,
}

impl Core {
    /// Registers a service and returns its API key, the only time it exists
    /// in clear.
    pub async fn register_service(
        &self,
        reg: ServiceRegistration,
        admin: Option<&Admin>,
    ) -> Result<(Service, ApiKey), DomainError> {
        let api_key = ApiKey::generate().map_err(DomainError::internal)?;
        let service_id = ServiceId::generate();
        let service = self
            .db
            .insert_service(&NewService {
                service_id: &service_id,
                name: reg.name.as_str(),
                name_lower: &reg.name.normalized(),
                description: reg.description.as_ref().map(Description::as_str),
                url: reg.url.as_ref().map(ServiceUrl::as_str),
                api_key_hash: &api_key.hash(),
                created_at: self.now(),
                require_credentials: reg.require_credentials.unwrap_or(true),
            })
            .await?
            .ok_or(DomainError::ServiceNameTaken)?;
        tracing::info!(
            service_id = %service.service_id,
            name = %service.name,
            admin = admin.map(|a| a.username.as_str()).unwrap_or("cli"),
            "service registered"
        );
        Ok((service, api_key))
    }

    pub async fn find_service_by_name(
        &self,
        name: &ServiceName,
    ) -> Result<Option<Service>, DomainError> {
        Ok(self.db.find_service_by_name(&name.normalized()).await?)
    }

    pub async fn service(&self, id: &ServiceId) -> Result<Service, DomainError> {
        self.db
            .find_service(id)
            .await?
            .ok_or(DomainError::ServiceNotFound)
    }

    pub async fn services(&self, page: &PageRequest) -> Result<Page<Service>, DomainError> {
        Ok(self.db.list_services(page).await?)
    }

    /// Deactivates a service; sessions it holds end at once and for good.
    pub async fn deactivate_service(
        &self,
        id: &ServiceId,
        admin: &Admin,
    ) -> Result<Service, DomainError> {
        let service = self
            .db
            .deactivate_service(id, self.now())
            .await?
            .ok_or(DomainError::ServiceNotFound)?;
        tracing::info!(service_id = %id, admin = %admin.username, "service deactivated");
        Ok(service)
    }

    pub async fn activate_service(
        &self,
        id: &ServiceId,
        admin: &Admin,
    ) -> Result<Service, DomainError> {
        let service = self
            .db
            .activate_service(id)
            .await?
            .ok_or(DomainError::ServiceNotFound)?;
        tracing::info!(service_id = %id, admin = %admin.username, "service activated");
        Ok(service)
    }

    /// Whether the service must send its credentials on pin/verify and its
    /// `service_id` on validate-session.
    pub async fn set_require_credentials(
        &self,
        id: &ServiceId,
        on: bool,
        admin: &Admin,
    ) -> Result<Service, DomainError> {
        let service = self
            .db
            .set_service_require_credentials(id, on)
            .await?
            .ok_or(DomainError::ServiceNotFound)?;
        tracing::info!(service_id = %id, admin = %admin.username, require_credentials = on, "service setting changed");
        Ok(service)
    }

    /// Issues a new API key; the old one fails from now on.
    pub async fn rotate_service_key(
        &self,
        id: &ServiceId,
        admin: Option<&Admin>,
    ) -> Result<ApiKey, DomainError> {
        let api_key = ApiKey::generate().map_err(DomainError::internal)?;
        if !self
            .db
            .rotate_service_key(id, &api_key.hash(), self.now())
            .await?
        {
            return Err(DomainError::ServiceNotFound);
        }
        tracing::info!(
            service_id = %id,
            admin = admin.map(|a| a.username.as_str()).unwrap_or("cli"),
            "service key rotated"
        );
        Ok(api_key)
    }

    /// Checks a service's credentials. Unknown service and wrong key are one
    /// answer; the hash comparison is constant-time.
    pub async fn authenticate_service(
        &self,
        id: &ServiceId,
        key: &ApiKey,
    ) -> Result<Service, DomainError> {
        let found = self.db.find_service_with_key(id).await?;
        check_api_key(found, key)
    }
}

/// The service, if `key` is its key; for a `find_service_with_key` result
/// that the caller also needed for something else.
pub(crate) fn check_api_key(
    found: Option<(Service, TokenHash)>,
    key: &ApiKey,
) -> Result<Service, DomainError> {
    let offered = key.hash();
    match found {
        Some((service, stored)) if stored.matches(&offered) => Ok(service),
        _ => Err(DomainError::InvalidApiKey),
    }
}
