//! `Core` is what every domain service works with: storage, the clock, the
//! password hasher and the settings that shape the rules. It is cloned into
//! each request; nothing here is global.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::domain::DomainError;
use crate::domain::password::PasswordHasher;
use crate::domain::rates::KeyedLimit;
use crate::domain::secret::SessionToken;
use crate::domain::session_token::{SessionClaims, SessionSigner};
use crate::domain::signing::{KeyRing, Rotation};
use crate::domain::throttle::AddressFailures;
use crate::domain::types::ServiceId;
use crate::storage::Database;

/// The settings the domain rules depend on.
#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// Where people and services reach this server: QR links and the JWT issuer.
    pub public_url: String,
    /// How long an admin bearer token lives.
    pub admin_token_ttl: SignedDuration,
    /// Live bearer tokens one admin may hold (`ADMIN_TOKENS_MAX`); a
    /// sign-in past it ends the oldest. `None`: no cap.
    pub admin_tokens_max: Option<u32>,
    /// How long a QR code can be scanned.
    pub qr_ttl: SignedDuration,
    /// How long a PIN can be verified after the scan.
    pub pin_ttl: SignedDuration,
    /// Wrong PINs allowed per QR code before it locks for good.
    pub max_pin_attempts: i64,
    /// A session ends this long after its last validation…
    pub session_idle_timeout: SignedDuration,
    /// …and this long after login at the latest.
    pub session_max_lifetime: SignedDuration,
    /// Validation writes the renewed expiry only when it moves by more than
    /// this: a burst of validations (one per request of a page) writes once,
    /// and a session never ends more than this much before 30 minutes.
    pub session_renew_step: SignedDuration,
    /// Told of registrations and denied logins, besides every admin with an
    /// email (`ADMIN_EMAIL`).
    pub admin_email: Option<String>,
    /// Whether the abuse limits apply (`RATE_LIMITS`); off only for load tests.
    pub rate_limits: bool,
    /// QR codes one service may ask for (`RATE_GENERATE_*`); `None`: no
    /// limit (also under `RATE_LIMITS=off`, applied where it is read).
    pub generate_rate: Option<crate::domain::rates::Rate>,
    /// Caps on the pending registrations (`REGISTRATION_PENDING_*`).
    pub queue_caps: crate::domain::registration::QueueCaps,
    /// When admins hear of registrations one by one, and when in a digest.
    pub digest: crate::domain::registration::DigestSettings,
    /// How long what is over is kept before the purge.
    pub retention: crate::domain::upkeep::Retention,
    /// The password-guessing delays (`SIGNIN_*`); `None` under
    /// `RATE_LIMITS=off`.
    pub guessing: Option<crate::domain::throttle::GuessingPolicy>,
    /// The lifetimes of the OpenID Connect flow.
    pub oidc: crate::domain::oidc::OidcSettings,
}

impl CoreSettings {
    pub fn new(public_url: String) -> Self {
        Self {
            public_url,
            admin_token_ttl: SignedDuration::from_hours(1),
            admin_tokens_max: Some(10),
            qr_ttl: SignedDuration::from_secs(120),
            pin_ttl: SignedDuration::from_secs(300),
            max_pin_attempts: 5,
            session_idle_timeout: SignedDuration::from_mins(30),
            session_max_lifetime: SignedDuration::from_hours(12),
            session_renew_step: SignedDuration::from_secs(5),
            admin_email: None,
            rate_limits: true,
            generate_rate: None,
            queue_caps: Default::default(),
            digest: Default::default(),
            retention: Default::default(),
            guessing: Some(Default::default()),
            oidc: Default::default(),
        }
    }
}

#[derive(Clone)]
pub struct Core {
    pub(crate) db: Database,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hasher: PasswordHasher,
    pub(crate) settings: Arc<CoreSettings>,
    /// The signing keys; the signer in use is swapped when they change.
    pub(crate) keys: Arc<KeyRing>,
    /// Rung after an email is queued, so the outbox worker sends it at once.
    pub(crate) outbox_wake: Arc<Notify>,
    /// `qr/generate` per authenticated service (see `generate_qr`).
    pub(crate) generate_rate: Arc<KeyedLimit<ServiceId>>,
    /// Failed password sign-ins per client address (see `throttle`).
    pub(crate) address_failures: Arc<AddressFailures>,
}

impl Core {
    pub fn new(
        db: Database,
        clock: Arc<dyn Clock>,
        hasher: PasswordHasher,
        settings: CoreSettings,
        keys: KeyRing,
    ) -> Self {
        Self {
            generate_rate: Arc::new(KeyedLimit::new(settings.generate_rate)),
            address_failures: Arc::new(AddressFailures::new(
                settings.guessing.and_then(|g| g.per_address),
            )),
            db,
            clock,
            hasher,
            settings: Arc::new(settings),
            keys: Arc::new(keys),
            outbox_wake: Arc::new(Notify::new()),
        }
    }

    /// Drops idle keys of the in-memory rate limits (called on a timer).
    pub fn rates_upkeep(&self) {
        self.generate_rate.upkeep();
        self.address_failures.upkeep(self.now());
    }

    /// Where people and services reach this server; the issuer.
    pub fn public_url(&self) -> &str {
        &self.settings.public_url
    }

    /// The bell the outbox worker listens to.
    pub fn outbox_wake(&self) -> Arc<Notify> {
        self.outbox_wake.clone()
    }

    /// Everyone told about registrations and denied logins: admins with an
    /// email, and `ADMIN_EMAIL`, each once.
    pub(crate) async fn admin_recipients(&self) -> Result<Vec<String>, DomainError> {
        let mut recipients = self.db.admin_emails().await?;
        recipients.extend(self.settings.admin_email.clone());
        let mut seen = std::collections::HashSet::new();
        recipients.retain(|r| seen.insert(r.to_lowercase()));
        Ok(recipients)
    }

    /// The signer in use now (a rotation swaps it).
    pub fn signer(&self) -> Arc<SessionSigner> {
        self.keys.current()
    }

    /// The claims of a token signed by one of our published keys. A kid we
    /// do not know may be a key another instance has started signing with:
    /// the keys are read again (at most once a second) before saying no.
    pub(crate) async fn verify_session_token(
        &self,
        token: &SessionToken,
    ) -> Option<Arc<SessionClaims>> {
        let signer = self.signer();
        match signer.verify(token) {
            Ok(claims) => Some(claims),
            Err(_) if signer.names_unknown_kid(token) => {
                if self.keys.reload_for_unknown_kid(self.now()).await {
                    self.signer().verify(token).ok()
                } else {
                    None
                }
            }
            Err(_) => None,
        }
    }

    /// Makes sure the RSA key that signs RS256 tokens exists and is loaded
    /// (made on first need, not at start: see `KeyRing::ensure_rsa`). Cheap
    /// once it is there. Call it before `signer().sign_claims(RS256, ..)`,
    /// when serving the JWKS or discovery, and when an OIDC client is set up.
    pub async fn ensure_rsa_key(&self) -> Result<(), DomainError> {
        self.keys.ensure_rsa(self.now()).await
    }

    /// The claims of a JWS we signed (`id_token_hint`): see
    /// `SessionSigner::verify_claims`; expiry is judged by our clock. A kid
    /// we do not know may be a key another instance made since we last
    /// looked: the keys are read again (at most once a second) before
    /// saying no.
    pub async fn verify_claims<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        allow_expired: bool,
    ) -> Option<T> {
        let signer = self.signer();
        if signer.names_unknown_kid_str(token) && self.keys.reload_for_unknown_kid(self.now()).await
        {
            return self
                .signer()
                .verify_claims(token, self.now(), allow_expired);
        }
        signer.verify_claims(token, self.now(), allow_expired)
    }

    /// Picks up keys rotated elsewhere and drops retired keys whose time
    /// is up (called on a timer, `SIGNING_KEY_RELOAD_SECS`).
    pub async fn reload_signing_keys(&self) -> Result<bool, DomainError> {
        self.keys.reload(self.now()).await
    }

    /// `rotate-signing-key`: new keys sign from now on.
    pub async fn rotate_signing_key(&self) -> Result<Rotation, DomainError> {
        self.keys.rotate(self.now()).await
    }

    pub fn settings(&self) -> &CoreSettings {
        &self.settings
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Whether the database answers within `timeout` (for `/readyz`).
    pub async fn database_ready(&self, timeout: std::time::Duration) -> Result<(), DomainError> {
        Ok(self.db.ping(timeout).await?)
    }
}
