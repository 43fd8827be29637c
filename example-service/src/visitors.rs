//! Per-visitor state on the server, keyed by a random id in an HttpOnly
//! cookie: the CSRF token of the visitor's forms and the QR code they are
//! logging in with. In memory, which is enough for an example; a real site
//! would use its usual session store (and survive restarts).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use crate::secret::QrToken;

/// A visitor unseen for this long is forgotten (their QR code died long ago).
const IDLE_LIMIT: Duration = Duration::from_secs(60 * 60);

#[derive(Clone, Default)]
pub struct Visitors {
    inner: Arc<Mutex<HashMap<String, Visitor>>>,
}

struct Visitor {
    csrf: String,
    pending: Option<PendingLogin>,
    last_seen: Instant,
}

/// A login in progress: the QR code on the visitor's screen.
#[derive(Clone, Debug)]
pub struct PendingLogin {
    pub qr_token: QrToken,
    /// Kept to show the same code again when the PIN form is re-shown.
    pub qr_image: String,
    pub expires_in: i64,
}

/// The visitor of the current request.
#[derive(Debug, Clone)]
pub struct Visit {
    pub id: String,
    pub csrf: String,
    /// A new visitor: the response must set the cookie.
    pub is_new: bool,
}

/// The operating system had no randomness to give.
#[derive(Debug)]
pub struct NoRandomness(pub String);

impl Visitors {
    /// The visitor with this cookie id, or a new one (unknown or missing id,
    /// e.g. after a restart of this service).
    pub fn visit(&self, cookie_id: Option<&str>) -> Result<Visit, NoRandomness> {
        let now = Instant::now();
        let mut map = self.lock();
        if let Some(id) = cookie_id
            && let Some(visitor) = map.get_mut(id)
        {
            visitor.last_seen = now;
            return Ok(Visit {
                id: id.to_owned(),
                csrf: visitor.csrf.clone(),
                is_new: false,
            });
        }
        // Pruning when someone new arrives keeps the map bounded by the
        // visitors of the last hour, without a background task.
        map.retain(|_, v| now.duration_since(v.last_seen) < IDLE_LIMIT);
        let id = random_token()?;
        let csrf = random_token()?;
        map.insert(
            id.clone(),
            Visitor {
                csrf: csrf.clone(),
                pending: None,
                last_seen: now,
            },
        );
        Ok(Visit {
            id,
            csrf,
            is_new: true,
        })
    }

    /// Whether `sent` is this visitor's CSRF token (in constant time, so the
    /// comparison leaks nothing about it).
    pub fn csrf_matches(&self, id: &str, sent: &str) -> bool {
        self.lock()
            .get(id)
            .is_some_and(|v| bool::from(v.csrf.as_bytes().ct_eq(sent.as_bytes())))
    }

    pub fn start_login(&self, id: &str, login: PendingLogin) {
        if let Some(visitor) = self.lock().get_mut(id) {
            visitor.pending = Some(login);
        }
    }

    pub fn pending_login(&self, id: &str) -> Option<PendingLogin> {
        self.lock().get(id).and_then(|v| v.pending.clone())
    }

    /// The QR code is used up (logged in) or dead (expired, locked, denied).
    pub fn end_login(&self, id: &str) {
        if let Some(visitor) = self.lock().get_mut(id) {
            visitor.pending = None;
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Visitor>> {
        // The map stays consistent even if a holder panicked: every update
        // is a single insert or field write.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// 32 random bytes as hex: unguessable, and safe in a cookie or a form field.
pub fn random_token() -> Result<String, NoRandomness> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| NoRandomness(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_cookie_finds_the_same_visitor() {
        let visitors = Visitors::default();
        let first = visitors.visit(None).unwrap();
        assert!(first.is_new);
        let again = visitors.visit(Some(&first.id)).unwrap();
        assert!(!again.is_new);
        assert_eq!(again.csrf, first.csrf);
    }

    #[test]
    fn an_unknown_cookie_gets_a_new_visitor() {
        let visitors = Visitors::default();
        let visit = visitors.visit(Some("forged")).unwrap();
        assert!(visit.is_new);
        assert_ne!(visit.id, "forged");
    }

    #[test]
    fn csrf_must_match_the_visitors_own_token() {
        let visitors = Visitors::default();
        let a = visitors.visit(None).unwrap();
        let b = visitors.visit(None).unwrap();
        assert!(visitors.csrf_matches(&a.id, &a.csrf));
        assert!(!visitors.csrf_matches(&a.id, &b.csrf));
        assert!(!visitors.csrf_matches(&a.id, ""));
        assert!(!visitors.csrf_matches("nobody", &a.csrf));
    }

    #[test]
    fn tokens_are_64_hex_characters_and_differ() {
        let a = random_token().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_token().unwrap());
    }
}
