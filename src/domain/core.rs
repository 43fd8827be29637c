//! `Core` is what every domain service works with: storage, the clock, the
//! password hasher and the settings that shape the rules. It is cloned into
//! each request; nothing here is global.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::clock::Clock;
use crate::domain::password::PasswordHasher;
use crate::storage::Database;

/// The settings the domain rules depend on.
#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// How long an admin bearer token lives.
    pub admin_token_ttl: SignedDuration,
}

impl Default for CoreSettings {
    fn default() -> Self {
        Self {
            admin_token_ttl: SignedDuration::from_hours(1),
        }
    }
}

#[derive(Clone)]
pub struct Core {
    pub(crate) db: Database,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hasher: PasswordHasher,
    pub(crate) settings: Arc<CoreSettings>,
}

impl Core {
    pub fn new(
        db: Database,
        clock: Arc<dyn Clock>,
        hasher: PasswordHasher,
        settings: CoreSettings,
    ) -> Self {
        Self {
            db,
            clock,
            hasher,
            settings: Arc::new(settings),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn db(&self) -> &Database {
        &self.db
    }
}
