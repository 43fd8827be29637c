//! Relying services and their API keys (stored as hashes).

use jiff::Timestamp;
use sqlx::FromRow;

use super::{
    Database, StorageError, after_millis, from_millis, into_page, is_unique_violation, to_millis,
};
use crate::domain::model::{Cursor, Page, PageRequest, Service};
use crate::domain::secret::TokenHash;
use crate::domain::service_registry::NewService;
use crate::domain::types::ServiceId;

#[derive(FromRow)]
struct ServiceRow {
    service_id: String,
    name: String,
    description: Option<String>,
    url: Option<String>,
    is_active: i64,
    created_at: i64,
    require_credentials: i64,
}

impl TryFrom<ServiceRow> for Service {
    type Error = StorageError;
    fn try_from(r: ServiceRow) -> Result<Self, StorageError> {
        Ok(Service {
            service_id: ServiceId::from_stored(r.service_id),
            name: r.name,
            description: r.description,
            url: r.url,
            is_active: r.is_active != 0,
            created_at: from_millis(r.created_at)?,
            require_credentials: r.require_credentials != 0,
        })
    }
}

const SERVICE_COLUMNS: &str =
    "service_id, name, description, url, is_active, created_at, require_credentials";

impl Database {
    /// Registers a service; `Ok(None)` when the name is taken.
    pub async fn insert_service(
        &self,
        s: &NewService<'_>,
    ) -> Result<Option<Service>, StorageError> {
        let sql = format!(
            "INSERT INTO registered_services (service_id, name, name_lower, description, url, \
             api_key_hash, is_active, created_at, require_credentials) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8) \
             RETURNING {SERVICE_COLUMNS}"
        );
        let insert = sqlx::query_as::<_, ServiceRow>(sqlx::AssertSqlSafe(sql))
            .bind(s.service_id.as_str().to_owned())
            .bind(s.name.to_owned())
            .bind(s.name_lower.to_owned())
            .bind(s.description.map(str::to_owned))
            .bind(s.url.map(str::to_owned))
            .bind(s.api_key_hash.as_str().to_owned())
            .bind(to_millis(s.created_at))
            .bind(i64::from(s.require_credentials));
        let row = self
            .write(|writer| async move {
                match insert.fetch_one(&writer).await {
                    Ok(row) => Ok(Some(row)),
                    Err(err) if is_unique_violation(&err) => Ok(None),
                    Err(err) => Err(err.into()),
                }
            })
            .await?;
        row.map(Service::try_from).transpose()
    }

    pub async fn find_service(&self, id: &ServiceId) -> Result<Option<Service>, StorageError> {
        Ok(self
            .find_service_with_key(id)
            .await?
            .map(|(service, _)| service))
    }

    pub async fn find_service_by_name(
        &self,
        name_lower: &str,
    ) -> Result<Option<Service>, StorageError> {
        let sql =
            format!("SELECT {SERVICE_COLUMNS} FROM registered_services WHERE name_lower = $1");
        let row: Option<ServiceRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(name_lower)
            .fetch_optional(&self.pool)
            .await?;
        row.map(Service::try_from).transpose()
    }

    /// A service with the hash of its current API key, for authenticating it.
    pub async fn find_service_with_key(
        &self,
        id: &ServiceId,
    ) -> Result<Option<(Service, TokenHash)>, StorageError> {
        if let Some(found) = self.services.as_ref().and_then(|c| c.get(id.as_str())) {
            return Ok(Some(found));
        }
        let ticket = self.services.as_ref().map(|c| c.begin_read());
        let sql = format!(
            "SELECT {SERVICE_COLUMNS}, api_key_hash FROM registered_services WHERE service_id = $1"
        );
        let row: Option<sqlx::any::AnyRow> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let hash: String = sqlx::Row::try_get(&row, "api_key_hash")?;
        let service = ServiceRow::from_row(&row)?.try_into()?;
        let found = (service, TokenHash::from_stored(hash));
        if let (Some(cache), Some(ticket)) = (&self.services, ticket) {
            cache.store(ticket, id.as_str(), &found);
        }
        Ok(Some(found))
    }

    /// Services in the order they were registered.
    pub async fn list_services(&self, page: &PageRequest) -> Result<Page<Service>, StorageError> {
        let (after_key, after_id) = after_millis(page);
        let sql = format!(
            "SELECT {SERVICE_COLUMNS} FROM registered_services \
             WHERE (created_at > $1 OR (created_at = $1 AND service_id > $2)) \
             ORDER BY created_at, service_id LIMIT $3"
        );
        let rows: Vec<ServiceRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after_key)
            .bind(after_id)
            .bind(i64::from(page.limit) + 1)
            .fetch_all(&self.pool)
            .await?;
        into_page(rows, page, |s: &Service| Cursor {
            key: s.created_at.as_millisecond().to_string(),
            id: s.service_id.to_string(),
        })
    }

    /// Deactivates a service and ends its live sessions for good.
    pub async fn deactivate_service(
        &self,
        id: &ServiceId,
        now: Timestamp,
    ) -> Result<Option<Service>, StorageError> {
        let sql = format!(
            "UPDATE registered_services SET is_active = 0, \
             deactivated_at = CASE WHEN is_active = 1 THEN $2 ELSE deactivated_at END \
             WHERE service_id = $1 RETURNING {SERVICE_COLUMNS}"
        );
        let deactivate = sqlx::query_as::<_, ServiceRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str().to_owned())
            .bind(to_millis(now));
        let row = self
            .write_ending_sessions(
                deactivate,
                "service_id",
                id.as_str(),
                "service_inactive",
                now,
            )
            .await;
        self.forget_services();
        let row = row?;
        row.map(Service::try_from).transpose()
    }

    pub async fn activate_service(&self, id: &ServiceId) -> Result<Option<Service>, StorageError> {
        let sql = format!(
            "UPDATE registered_services SET is_active = 1, deactivated_at = NULL \
             WHERE service_id = $1 RETURNING {SERVICE_COLUMNS}"
        );
        let activate =
            sqlx::query_as::<_, ServiceRow>(sqlx::AssertSqlSafe(sql)).bind(id.as_str().to_owned());
        let row = self
            .write(|writer| async move { Ok(activate.fetch_optional(&writer).await?) })
            .await;
        self.forget_services();
        row?.map(Service::try_from).transpose()
    }

    pub async fn set_service_require_credentials(
        &self,
        id: &ServiceId,
        on: bool,
    ) -> Result<Option<Service>, StorageError> {
        let sql = format!(
            "UPDATE registered_services SET require_credentials = $2 \
             WHERE service_id = $1 RETURNING {SERVICE_COLUMNS}"
        );
        let update = sqlx::query_as::<_, ServiceRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str().to_owned())
            .bind(i64::from(on));
        let row = self
            .write(|writer| async move { Ok(update.fetch_optional(&writer).await?) })
            .await;
        // Cached sessions carry the flag too (see `forget_services`).
        self.forget_services();
        row?.map(Service::try_from).transpose()
    }

    /// Swaps in a new key hash; the old key fails from this statement on.
    pub async fn rotate_service_key(
        &self,
        id: &ServiceId,
        api_key_hash: &TokenHash,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let rotate = sqlx::query(
            "UPDATE registered_services SET api_key_hash = $2, key_rotated_at = $3 WHERE service_id = $1",
        )
        .bind(id.as_str().to_owned())
        .bind(api_key_hash.as_str().to_owned())
        .bind(to_millis(now));
        let rotated = self
            .write(|writer| async move { Ok(rotate.execute(&writer).await?.rows_affected() > 0) })
            .await;
        self.forget_services();
        rotated
    }
}
