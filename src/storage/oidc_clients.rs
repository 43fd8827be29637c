//! Services' OpenID Connect client settings and their redirect URIs.

use jiff::Timestamp;

use super::{Database, StorageError, to_millis};
use crate::domain::oidc::client::{ClientType, OidcClient, RedirectUri, Scope};
use crate::domain::signing::JwsAlgorithm;
use crate::domain::types::ServiceId;

const LOGIN: &str = "login";
const POST_LOGOUT: &str = "post_logout";

/// One row of the join: the client's columns, repeated on each of its URIs.
#[derive(sqlx::FromRow)]
struct ClientUriRow {
    client_type: String,
    require_pkce: i64,
    allowed_scopes: String,
    id_token_alg: String,
    kind: Option<String>,
    uri: Option<String>,
}

fn corrupt(what: &str, value: &str) -> StorageError {
    StorageError::Corrupt(format!("oidc_clients: unknown {what} {value:?}"))
}

fn into_client(
    id: &ServiceId,
    rows: Vec<ClientUriRow>,
) -> Result<Option<OidcClient>, StorageError> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let client_type = ClientType::parse(&first.client_type)
        .ok_or_else(|| corrupt("client_type", &first.client_type))?;
    let id_token_alg = JwsAlgorithm::parse(&first.id_token_alg)
        .ok_or_else(|| corrupt("id_token_alg", &first.id_token_alg))?;
    let allowed_scopes = first
        .allowed_scopes
        .split_whitespace()
        .map(|s| Scope::parse(s).ok_or_else(|| corrupt("scope", s)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut client = OidcClient {
        service_id: id.clone(),
        client_type,
        redirect_uris: Vec::new(),
        post_logout_redirect_uris: Vec::new(),
        require_pkce: first.require_pkce != 0,
        allowed_scopes,
        id_token_alg,
    };
    for row in rows {
        match (row.kind.as_deref(), row.uri) {
            (Some(LOGIN), Some(uri)) => client.redirect_uris.push(RedirectUri::from_stored(uri)),
            (Some(POST_LOGOUT), Some(uri)) => client
                .post_logout_redirect_uris
                .push(RedirectUri::from_stored(uri)),
            (None, None) => {}
            (kind, _) => return Err(corrupt("redirect kind", kind.unwrap_or_default())),
        }
    }
    Ok(Some(client))
}

impl Database {
    /// A service's client settings; `None` when it is not an OIDC client.
    pub async fn find_oidc_client(
        &self,
        id: &ServiceId,
    ) -> Result<Option<OidcClient>, StorageError> {
        if let Some(found) = self.oidc_clients.as_ref().and_then(|c| c.get(id.as_str())) {
            return Ok(found);
        }
        let ticket = self.oidc_clients.as_ref().map(|c| c.begin_read());
        // One round trip: the client with its URIs (a client always has
        // one login URI; the LEFT JOIN only guards against a half row).
        let rows: Vec<ClientUriRow> = sqlx::query_as(
            "SELECT c.client_type, c.require_pkce, c.allowed_scopes, c.id_token_alg, u.kind, u.uri \
             FROM oidc_clients c LEFT JOIN oidc_redirect_uris u ON u.service_id = c.service_id \
             WHERE c.service_id = $1 ORDER BY u.kind, u.position",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        let found = into_client(id, rows)?;
        if let (Some(cache), Some(ticket)) = (&self.oidc_clients, ticket) {
            cache.store(ticket, id.as_str(), &found);
        }
        Ok(found)
    }

    /// Writes the client's settings whole, in one transaction: a reader
    /// sees the old set of URIs or the new one, never a mix.
    pub async fn replace_oidc_client(
        &self,
        client: &OidcClient,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let id = client.service_id.as_str().to_owned();
        let scopes = client
            .allowed_scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        // The upsert comes first, so the transaction starts with a write
        // (see `storage`).
        let upsert = sqlx::query(
            "INSERT INTO oidc_clients (service_id, client_type, require_pkce, allowed_scopes, \
             id_token_alg, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (service_id) DO UPDATE SET client_type = excluded.client_type, \
             require_pkce = excluded.require_pkce, allowed_scopes = excluded.allowed_scopes, \
             id_token_alg = excluded.id_token_alg, updated_at = excluded.updated_at",
        )
        .bind(id.clone())
        .bind(client.client_type.as_str())
        .bind(i64::from(client.require_pkce))
        .bind(scopes)
        .bind(client.id_token_alg.as_str())
        .bind(to_millis(now));
        let clear =
            sqlx::query("DELETE FROM oidc_redirect_uris WHERE service_id = $1").bind(id.clone());
        let uris = [
            (LOGIN, &client.redirect_uris),
            (POST_LOGOUT, &client.post_logout_redirect_uris),
        ];
        let inserts: Vec<_> = uris
            .into_iter()
            .flat_map(|(kind, list)| {
                list.iter()
                    .enumerate()
                    .map(move |(position, uri)| (kind, position, uri))
            })
            .map(|(kind, position, uri)| {
                sqlx::query(
                    "INSERT INTO oidc_redirect_uris (service_id, kind, uri, position) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(id.clone())
                .bind(kind)
                .bind(uri.as_str().to_owned())
                .bind(i64::try_from(position).unwrap_or(i64::MAX))
            })
            .collect();
        let written = self
            .write(|writer| async move {
                let mut tx = writer.begin().await?;
                upsert.execute(&mut *tx).await?;
                clear.execute(&mut *tx).await?;
                for insert in inserts {
                    insert.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            })
            .await;
        self.forget_oidc_client(&client.service_id);
        written
    }

    /// Removes the client's settings; `false` when there were none.
    pub async fn delete_oidc_client(&self, id: &ServiceId) -> Result<bool, StorageError> {
        let delete = sqlx::query("DELETE FROM oidc_clients WHERE service_id = $1")
            .bind(id.as_str().to_owned());
        let clear = sqlx::query("DELETE FROM oidc_redirect_uris WHERE service_id = $1")
            .bind(id.as_str().to_owned());
        let deleted = self
            .write(|writer| async move {
                let mut tx = writer.begin().await?;
                let deleted = delete.execute(&mut *tx).await?.rows_affected() > 0;
                clear.execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(deleted)
            })
            .await;
        self.forget_oidc_client(id);
        deleted
    }

    fn forget_oidc_client(&self, id: &ServiceId) {
        if let Some(cache) = &self.oidc_clients {
            cache.forget(id.as_str());
        }
    }
}
