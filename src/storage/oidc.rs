//! The OpenID Connect flow's rows: interactions (authorization requests
//! waiting for their QR login), codes and tokens, each secret as its hash.
//! Every change of state is a conditional UPDATE, so a code is redeemed and
//! a refresh token rotated once, however many requests or instances race.

use jiff::Timestamp;
use sqlx::FromRow;

use super::{Database, Forget, StorageError, from_millis, from_millis_opt, to_millis};
use crate::domain::oidc::records::{AuthorizationCode, Interaction, IssuedToken, TokenKind};
use crate::domain::secret::TokenHash;
use crate::domain::types::{ServiceId, UserId};

#[derive(FromRow)]
struct InteractionRow {
    interaction_id: String,
    browser_hash: String,
    service_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    qr_id: Option<String>,
    created_at: i64,
    expires_at: i64,
    completed_at: Option<i64>,
}

impl TryFrom<InteractionRow> for Interaction {
    type Error = StorageError;
    fn try_from(r: InteractionRow) -> Result<Self, StorageError> {
        Ok(Interaction {
            interaction_id: r.interaction_id,
            browser_hash: TokenHash::from_stored(r.browser_hash),
            service_id: ServiceId::from_stored(r.service_id),
            redirect_uri: r.redirect_uri,
            scope: r.scope,
            state: r.state,
            nonce: r.nonce,
            code_challenge: r.code_challenge,
            qr_id: r.qr_id,
            created_at: from_millis(r.created_at)?,
            expires_at: from_millis(r.expires_at)?,
            completed_at: from_millis_opt(r.completed_at)?,
        })
    }
}

#[derive(FromRow)]
struct CodeRow {
    code_hash: String,
    service_id: String,
    session_id: String,
    user_id: String,
    redirect_uri: String,
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl TryFrom<CodeRow> for AuthorizationCode {
    type Error = StorageError;
    fn try_from(r: CodeRow) -> Result<Self, StorageError> {
        Ok(AuthorizationCode {
            code_hash: TokenHash::from_stored(r.code_hash),
            service_id: ServiceId::from_stored(r.service_id),
            session_id: r.session_id,
            user_id: UserId::from_stored(r.user_id),
            redirect_uri: r.redirect_uri,
            scope: r.scope,
            nonce: r.nonce,
            code_challenge: r.code_challenge,
            created_at: from_millis(r.created_at)?,
            expires_at: from_millis(r.expires_at)?,
            used_at: from_millis_opt(r.used_at)?,
        })
    }
}

#[derive(FromRow)]
struct TokenRow {
    token_hash: String,
    kind: String,
    session_id: String,
    service_id: String,
    user_id: String,
    scope: String,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<TokenRow> for IssuedToken {
    type Error = StorageError;
    fn try_from(r: TokenRow) -> Result<Self, StorageError> {
        Ok(IssuedToken {
            kind: TokenKind::from_stored(&r.kind)
                .ok_or_else(|| StorageError::Corrupt(format!("token kind {:?}", r.kind)))?,
            token_hash: TokenHash::from_stored(r.token_hash),
            session_id: r.session_id,
            service_id: ServiceId::from_stored(r.service_id),
            user_id: UserId::from_stored(r.user_id),
            scope: r.scope,
            created_at: from_millis(r.created_at)?,
            expires_at: from_millis(r.expires_at)?,
            used_at: from_millis_opt(r.used_at)?,
            revoked_at: from_millis_opt(r.revoked_at)?,
        })
    }
}

type Query = sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>;

fn insert_token(t: &IssuedToken) -> Query {
    sqlx::query(
        "INSERT INTO oidc_tokens (token_hash, kind, session_id, service_id, user_id, scope, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(t.token_hash.as_str().to_owned())
    .bind(t.kind.as_str())
    .bind(t.session_id.clone())
    .bind(t.service_id.as_str().to_owned())
    .bind(t.user_id.as_str().to_owned())
    .bind(t.scope.clone())
    .bind(to_millis(t.created_at))
    .bind(to_millis(t.expires_at))
}

impl Database {
    pub async fn insert_interaction(&self, i: &Interaction) -> Result<(), StorageError> {
        let insert = sqlx::query(
            "INSERT INTO oidc_interactions (interaction_id, browser_hash, service_id, \
             redirect_uri, scope, state, nonce, code_challenge, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(i.interaction_id.clone())
        .bind(i.browser_hash.as_str().to_owned())
        .bind(i.service_id.as_str().to_owned())
        .bind(i.redirect_uri.clone())
        .bind(i.scope.clone())
        .bind(i.state.clone())
        .bind(i.nonce.clone())
        .bind(i.code_challenge.clone())
        .bind(to_millis(i.created_at))
        .bind(to_millis(i.expires_at));
        self.write(|writer| async move { Ok(insert.execute(&writer).await.map(|_| ())?) })
            .await
    }

    pub async fn find_interaction(&self, id: &str) -> Result<Option<Interaction>, StorageError> {
        let row: Option<InteractionRow> = sqlx::query_as(
            "SELECT interaction_id, browser_hash, service_id, redirect_uri, scope, state, nonce, \
             code_challenge, qr_id, created_at, expires_at, completed_at \
             FROM oidc_interactions WHERE interaction_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Interaction::try_from).transpose()
    }

    /// Makes `qr_id` the QR code whose PIN the request accepts, while the
    /// request still waits.
    pub async fn set_interaction_qr(&self, id: &str, qr_id: &str) -> Result<bool, StorageError> {
        let update = sqlx::query(
            "UPDATE oidc_interactions SET qr_id = $2 \
             WHERE interaction_id = $1 AND completed_at IS NULL",
        )
        .bind(id.to_owned())
        .bind(qr_id.to_owned());
        self.write(|writer| async move { Ok(update.execute(&writer).await?.rows_affected() == 1) })
            .await
    }

    /// Answers the request with `code`, if it still waits on `qr_id`: both
    /// in one transaction, so a request yields one code.
    pub async fn complete_interaction(
        &self,
        id: &str,
        qr_id: &str,
        code: &AuthorizationCode,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let complete = sqlx::query(
            "UPDATE oidc_interactions SET completed_at = $3 \
             WHERE interaction_id = $1 AND qr_id = $2 AND completed_at IS NULL",
        )
        .bind(id.to_owned())
        .bind(qr_id.to_owned())
        .bind(to_millis(now));
        let insert = sqlx::query(
            "INSERT INTO oidc_codes (code_hash, service_id, session_id, user_id, redirect_uri, \
             scope, nonce, code_challenge, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(code.code_hash.as_str().to_owned())
        .bind(code.service_id.as_str().to_owned())
        .bind(code.session_id.clone())
        .bind(code.user_id.as_str().to_owned())
        .bind(code.redirect_uri.clone())
        .bind(code.scope.clone())
        .bind(code.nonce.clone())
        .bind(code.code_challenge.clone())
        .bind(to_millis(code.created_at))
        .bind(to_millis(code.expires_at));
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            if complete.execute(&mut *tx).await?.rows_affected() != 1 {
                return Ok(false);
            }
            insert.execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// Closes a request without a code (the person cancelled).
    pub async fn finish_interaction(&self, id: &str, now: Timestamp) -> Result<bool, StorageError> {
        let update = sqlx::query(
            "UPDATE oidc_interactions SET completed_at = $2 \
             WHERE interaction_id = $1 AND completed_at IS NULL",
        )
        .bind(id.to_owned())
        .bind(to_millis(now));
        self.write(|writer| async move { Ok(update.execute(&writer).await?.rows_affected() == 1) })
            .await
    }

    pub async fn find_code(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<AuthorizationCode>, StorageError> {
        let row: Option<CodeRow> = sqlx::query_as(
            "SELECT code_hash, service_id, session_id, user_id, redirect_uri, scope, nonce, \
             code_challenge, created_at, expires_at, used_at FROM oidc_codes WHERE code_hash = $1",
        )
        .bind(hash.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(AuthorizationCode::try_from).transpose()
    }

    /// Marks the code used and stores the tokens it buys, in one
    /// transaction; `false` when it was used meanwhile (nothing stored).
    pub async fn redeem_code(
        &self,
        hash: &TokenHash,
        now: Timestamp,
        tokens: &[IssuedToken],
    ) -> Result<bool, StorageError> {
        let claim = sqlx::query(
            "UPDATE oidc_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL",
        )
        .bind(hash.as_str().to_owned())
        .bind(to_millis(now));
        let inserts: Vec<Query> = tokens.iter().map(insert_token).collect();
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            if claim.execute(&mut *tx).await?.rows_affected() != 1 {
                return Ok(false);
            }
            for insert in inserts {
                insert.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// Rotates a refresh token: marks it used, stores its successors and
    /// renews the session's idle expiry, in one transaction; `false` when
    /// it was used or revoked meanwhile (nothing stored).
    pub async fn rotate_refresh_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
        tokens: &[IssuedToken],
        session_id: &str,
        idle_expires_at: Timestamp,
    ) -> Result<bool, StorageError> {
        let claim = sqlx::query(
            "UPDATE oidc_tokens SET used_at = $2 WHERE token_hash = $1 AND kind = 'refresh' \
             AND used_at IS NULL AND revoked_at IS NULL",
        )
        .bind(hash.as_str().to_owned())
        .bind(to_millis(now));
        let renew = sqlx::query(
            "UPDATE user_sessions SET last_seen_at = $2, idle_expires_at = $3 \
             WHERE session_id = $1 AND ended_at IS NULL AND idle_expires_at < $3",
        )
        .bind(session_id.to_owned())
        .bind(to_millis(now))
        .bind(to_millis(idle_expires_at));
        let inserts: Vec<Query> = tokens.iter().map(insert_token).collect();
        let rotated = self
            .write(|writer| async move {
                let mut tx = writer.begin().await?;
                if claim.execute(&mut *tx).await?.rows_affected() != 1 {
                    return Ok(false);
                }
                for insert in inserts {
                    insert.execute(&mut *tx).await?;
                }
                renew.execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(true)
            })
            .await;
        self.forget_sessions(Forget::One(session_id));
        rotated
    }

    pub async fn find_oidc_token(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<IssuedToken>, StorageError> {
        let row: Option<TokenRow> = sqlx::query_as(
            "SELECT token_hash, kind, session_id, service_id, user_id, scope, created_at, \
             expires_at, used_at, revoked_at FROM oidc_tokens WHERE token_hash = $1",
        )
        .bind(hash.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(IssuedToken::try_from).transpose()
    }

    pub async fn revoke_oidc_token(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let update = sqlx::query(
            "UPDATE oidc_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash.as_str().to_owned())
        .bind(to_millis(now));
        self.write(|writer| async move { Ok(update.execute(&writer).await?.rows_affected() == 1) })
            .await
    }

    /// The groups an admin gave the user, by name.
    pub async fn user_groups(&self, user_id: &UserId) -> Result<Vec<String>, StorageError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT group_name FROM user_groups WHERE user_id = $1 ORDER BY group_name",
        )
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(g,)| g).collect())
    }
}

impl Database {
    /// Replaces a user's groups in one transaction.
    pub async fn replace_user_groups(
        &self,
        user_id: &UserId,
        groups: &[crate::domain::groups::GroupName],
    ) -> Result<(), StorageError> {
        let clear = sqlx::query("DELETE FROM user_groups WHERE user_id = $1")
            .bind(user_id.as_str().to_owned());
        let inserts: Vec<Query> = groups
            .iter()
            .map(|g| {
                sqlx::query("INSERT INTO user_groups (user_id, group_name) VALUES ($1, $2)")
                    .bind(user_id.as_str().to_owned())
                    .bind(g.as_str().to_owned())
            })
            .collect();
        self.write(|writer| async move {
            let mut tx = writer.begin().await?;
            clear.execute(&mut *tx).await?;
            for insert in inserts {
                insert.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}
