//! What the domain hands out: records as read back from storage, and the
//! pagination types every list shares.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;

use crate::domain::types::{AdminId, ServiceId, UserId};
use crate::domain::{DomainError, FieldError};

/// Where a person's account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Pending,
    Rejected,
    Active,
    Inactive,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Rejected => "rejected",
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }
}

/// A registration waiting in the queue (or rejected from it).
#[derive(Debug, Clone)]
pub struct PendingUser {
    pub user_id: UserId,
    pub email: String,
    pub username: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub status: AccountStatus,
    pub registered_at: Timestamp,
    pub rejection_reason: Option<String>,
}

/// An approved person, active or deactivated.
#[derive(Debug, Clone)]
pub struct User {
    pub user_id: UserId,
    pub email: String,
    pub username: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub is_active: bool,
    pub registered_at: Timestamp,
    pub approved_at: Timestamp,
    pub last_login: Option<Timestamp>,
}

impl User {
    pub fn status(&self) -> AccountStatus {
        if self.is_active {
            AccountStatus::Active
        } else {
            AccountStatus::Inactive
        }
    }
}

/// An administrator of this Central Auth server.
#[derive(Debug, Clone)]
pub struct Admin {
    pub admin_id: AdminId,
    pub username: String,
    pub email: Option<String>,
}

/// A relying service (ServiceB, AppC, …); its key never leaves storage.
#[derive(Debug, Clone)]
pub struct Service {
    pub service_id: ServiceId,
    pub name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub is_active: bool,
    pub created_at: Timestamp,
    /// pin/verify must carry its `service_id` and `api_key`, and
    /// validate-session its `service_id`.
    pub require_credentials: bool,
}

/// The browser or device on the other end, as far as it is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// An email the system owes someone, composed and ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// What it is about (`registration_received`, `approved`, …).
    pub kind: &'static str,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

/// A message as stored, with its delivery state.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub next_attempt_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// How a message left the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Handed to the mail server.
    Sent,
    /// Written to the log only, because no mail server is configured: the
    /// recipient has not received it.
    Logged,
}

impl Delivery {
    /// The outbox `status` it leaves the message in.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Logged => "logged",
        }
    }
}

/// One page of a list, and where the next one starts.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

/// A position in a list: the sort key and id of the last item seen. Keyset
/// pagination stays correct while rows are added, unlike offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let raw = serde_json::json!([self.key, self.id]).to_string();
        URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(raw: &str) -> Result<Self, FieldError> {
        let bad = || FieldError::new("cursor", "is not a cursor this server issued");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let (key, id): (String, String) = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        Ok(Self { key, id })
    }
}

/// `?limit=&cursor=`, checked: limit 1..=500 (default 50).
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 500;

    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, DomainError> {
        let mut errors = Vec::new();
        let limit = match limit {
            None => Self::DEFAULT_LIMIT,
            Some(n) if (1..=i64::from(Self::MAX_LIMIT)).contains(&n) => n as u32,
            Some(_) => {
                errors.push(FieldError::new("limit", "must be between 1 and 500"));
                Self::DEFAULT_LIMIT
            }
        };
        let after = match cursor.filter(|c| !c.is_empty()).map(Cursor::decode) {
            None => None,
            Some(Ok(c)) => Some(c),
            Some(Err(e)) => {
                errors.push(e);
                None
            }
        };
        if errors.is_empty() {
            Ok(Self { limit, after })
        } else {
            Err(DomainError::Validation(errors))
        }
    }

    /// Cuts a fetch of `limit + 1` rows down to a page, with a cursor when
    /// there is more.
    pub fn page<T>(&self, mut rows: Vec<T>, cursor_of: impl Fn(&T) -> Cursor) -> Page<T> {
        let limit = self.limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(cursor_of)
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor {
            key: "00000001".into(),
            id: "abc".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("not a cursor!").is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode("[1]")).is_err());
    }

    #[test]
    fn page_request_limits() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 50);
        assert_eq!(PageRequest::parse(Some(500), None).unwrap().limit, 500);
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(501), None).is_err());
        assert!(PageRequest::parse(None, Some("%%%")).is_err());
    }

    #[test]
    fn page_cuts_and_points_at_the_last_item() {
        let req = PageRequest::parse(Some(2), None).unwrap();
        let page = req.page(vec![1, 2, 3], |n| Cursor {
            key: n.to_string(),
            id: n.to_string(),
        });
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor.unwrap().id, "2");
        let last = req.page(vec![1, 2], |n| Cursor {
            key: n.to_string(),
            id: n.to_string(),
        });
        assert!(last.next_cursor.is_none());
    }
}
