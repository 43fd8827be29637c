//! The JSON shapes of API.md that several routes share.

use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::{rfc3339, rfc3339_opt};
use crate::domain::admins::AdminTokenRecord;
use crate::domain::model::{Page, PendingUser, Service, User};

/// A page of a list; pass `next_cursor` back as `?cursor=` for the next one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T: ToSchema> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Paginated<T> {
    pub fn from_page<D>(page: Page<D>, view: impl Fn(D) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(view).collect(),
            next_cursor: page.next_cursor.map(|c| c.encode()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingUserView {
    pub user_id: String,
    pub email: String,
    pub username: String,
    pub full_name: String,
    pub phone: Option<String>,
    #[schema(example = "2026-11-25T14:00:00Z")]
    pub registered_at: String,
}

impl From<PendingUser> for PendingUserView {
    fn from(u: PendingUser) -> Self {
        Self {
            user_id: u.user_id.to_string(),
            email: u.email,
            username: u.username,
            full_name: u.full_name,
            phone: u.phone,
            registered_at: rfc3339(u.registered_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub user_id: String,
    pub email: String,
    pub username: String,
    pub full_name: String,
    pub phone: Option<String>,
    /// `active` or `inactive`.
    #[schema(example = "active")]
    pub status: &'static str,
    pub approved_at: String,
    pub last_login: Option<String>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            status: u.status().as_str(),
            user_id: u.user_id.to_string(),
            email: u.email,
            username: u.username,
            full_name: u.full_name,
            phone: u.phone,
            approved_at: rfc3339(u.approved_at),
            last_login: rfc3339_opt(u.last_login),
        }
    }
}

/// The person a session belongs to, as services receive them.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionUserView {
    pub user_id: String,
    pub username: String,
    pub full_name: String,
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub service_id: String,
    pub name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    /// `active` or `inactive`.
    #[schema(example = "active")]
    pub status: &'static str,
    pub created_at: String,
    /// pin/verify must carry `service_id` and `api_key`, validate-session
    /// `service_id`.
    pub require_credentials: bool,
}

impl From<Service> for ServiceView {
    fn from(s: Service) -> Self {
        Self {
            require_credentials: s.require_credentials,
            status: if s.is_active { "active" } else { "inactive" },
            service_id: s.service_id.to_string(),
            name: s.name,
            description: s.description,
            url: s.url,
            created_at: rfc3339(s.created_at),
        }
    }
}

/// One of the signed-in admin's live bearer tokens. The token itself (and
/// its hash) never appears: `token_id` names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminTokenView {
    pub token_id: String,
    /// When the admin signed in with it.
    pub created_at: String,
    /// The address it was issued to.
    pub created_from: Option<String>,
    /// The browser (user agent) it was issued to.
    pub user_agent: Option<String>,
    /// Its last use, recorded at most once a minute.
    pub last_used_at: Option<String>,
    pub expires_at: String,
    /// Whether it is the token this request presented.
    pub current: bool,
}

impl From<AdminTokenRecord> for AdminTokenView {
    fn from(t: AdminTokenRecord) -> Self {
        Self {
            token_id: t.token_id.to_string(),
            created_at: rfc3339(t.created_at),
            created_from: t.created_from,
            user_agent: t.created_agent,
            last_used_at: rfc3339_opt(t.last_used_at),
            expires_at: rfc3339(t.expires_at),
            current: t.current,
        }
    }
}
