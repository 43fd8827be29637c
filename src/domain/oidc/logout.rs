//! `/oauth2/end_session`: RP-initiated logout. The ID token hint names the
//! session to end; the browser goes back only to a post-logout redirect
//! URI the client registered (never anywhere else).

use crate::domain::oidc::authorize::with_query;
use crate::domain::oidc::claims::HintClaims;
use crate::domain::types::ServiceId;
use crate::domain::{Core, DomainError};

#[derive(Debug, Default)]
pub struct EndSessionParams {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug)]
pub enum EndSession {
    /// Back to the client.
    Redirect(String),
    /// No registered place to go back to: a page says the person is out.
    SignedOut { client_name: Option<String> },
}

#[derive(Debug)]
pub enum EndSessionRefusal {
    /// Shown as a page; nothing was ended.
    Page(String),
    Failure(DomainError),
}

impl From<crate::storage::StorageError> for EndSessionRefusal {
    fn from(err: crate::storage::StorageError) -> Self {
        Self::Failure(err.into())
    }
}

impl From<DomainError> for EndSessionRefusal {
    fn from(err: DomainError) -> Self {
        Self::Failure(err)
    }
}

impl Core {
    pub async fn end_session(
        &self,
        params: EndSessionParams,
    ) -> Result<EndSession, EndSessionRefusal> {
        let page = |m: &str| EndSessionRefusal::Page(m.to_owned());
        let hint = match params.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
            None => None,
            Some(token) => {
                // Expired hints are fine: a person logs out long after login.
                match self.verify_own_jwt::<HintClaims>(token).await {
                    Some(claims) => Some(claims),
                    None => {
                        return Err(page(
                            "The logout request carries an ID token this server did not issue.",
                        ));
                    }
                }
            }
        };
        let client_id = match (params.client_id.as_deref(), hint.as_ref()) {
            (Some(id), Some(h)) if id != h.aud => {
                return Err(page(
                    "The logout request names one app and carries the token of another.",
                ));
            }
            (Some(id), _) => Some(id.to_owned()),
            (None, Some(h)) => Some(h.aud.clone()),
            (None, None) => None,
        };
        let client = match &client_id {
            Some(id) => self.oidc_client(&ServiceId::from_client(id)).await?,
            None => None,
        };
        let redirect = match params
            .post_logout_redirect_uri
            .as_deref()
            .filter(|u| !u.is_empty())
        {
            None => None,
            Some(uri) => match &client {
                Some(client) if client.allows_post_logout(uri) => Some(uri.to_owned()),
                Some(_) => {
                    return Err(page(
                        "The address to return to after logout is not one registered for this \
                         app, so you are not sent there.",
                    ));
                }
                None => {
                    return Err(page(
                        "The logout request does not say which app it is for (client_id or \
                         id_token_hint), so it cannot return you there.",
                    ));
                }
            },
        };
        if let Some(hint) = &hint
            && let Some(session) = self.db.find_session(&hint.sid).await?
            && session.service_id.as_str() == hint.aud
            && session.ended_at.is_none()
            && self
                .db
                .end_session(&session.session_id, "logged_out", self.now())
                .await?
        {
            tracing::info!(session_id = %session.session_id, "session ended by its app (end_session)");
        }
        match redirect {
            Some(uri) => {
                let target = match params.state.as_deref() {
                    Some(state) => with_query(&uri, &[("state", state)]),
                    None => uri,
                };
                Ok(EndSession::Redirect(target))
            }
            None => {
                let client_name = match &client {
                    Some(c) => self.db.find_service(&c.service_id).await?.map(|s| s.name),
                    None => None,
                };
                Ok(EndSession::SignedOut { client_name })
            }
        }
    }
}
