//! The login page of an authorization request: it shows a QR code made for
//! the client, with the browser's own address and user agent as the
//! requester (the browser talks to us directly, nobody reports them), takes
//! the PIN, and sends the browser back to the client with a code.

use jiff::Timestamp;

use crate::domain::login::qr_code::IssuedQr;
use crate::domain::login::qr_image;
use crate::domain::login::qr_state::QrStatus;
use crate::domain::login::verify::Verifier;
use crate::domain::model::{ClientInfo, Service};
use crate::domain::oidc::authorize::with_query;
use crate::domain::oidc::records::{AuthorizationCode, Interaction};
use crate::domain::secret::{OAuthSecret, Pin, QrToken};
use crate::domain::{Core, DomainError};

/// Why the login page cannot go on.
#[derive(Debug)]
pub enum LoginPageRefusal {
    /// No such request for this browser: an unknown id, or the cookie that
    /// binds it to the browser that started it is missing or another's.
    Unknown,
    /// The request's time is up: the app has to start again.
    Expired,
    /// The request was already answered (a code was issued or the person
    /// cancelled).
    Finished,
    /// A step of the login refused (wrong PIN, closed hours, …) or failed:
    /// the page says why and, where it can, lets the person try again.
    Login(DomainError),
}

impl From<DomainError> for LoginPageRefusal {
    fn from(err: DomainError) -> Self {
        Self::Login(err)
    }
}

/// What the login page shows.
#[derive(Debug)]
pub struct LoginPage {
    pub interaction_id: String,
    pub client_name: String,
    /// The app's web address, as registered.
    pub client_url: Option<String>,
    pub qr_token: QrToken,
    pub qr_png: Vec<u8>,
    pub qr_status: QrStatus,
    /// The QR code's expiry while pending, the PIN's once scanned.
    pub qr_expires_at: Timestamp,
    pub now: Timestamp,
}

impl Core {
    /// The request `interaction_id` if `browser` is the one that started it
    /// and it is still waiting.
    async fn open_interaction(
        &self,
        interaction_id: &str,
        browser: Option<&OAuthSecret>,
    ) -> Result<Interaction, LoginPageRefusal> {
        let found = self
            .db
            .find_interaction(interaction_id)
            .await
            .map_err(DomainError::from)?;
        let interaction = match (found, browser) {
            (Some(i), Some(b)) if i.browser_hash.matches(&b.hash()) => i,
            _ => return Err(LoginPageRefusal::Unknown),
        };
        if interaction.completed_at.is_some() {
            return Err(LoginPageRefusal::Finished);
        }
        if self.now() >= interaction.expires_at {
            return Err(LoginPageRefusal::Expired);
        }
        Ok(interaction)
    }

    /// The client's service, still active.
    async fn interaction_service(&self, interaction: &Interaction) -> Result<Service, DomainError> {
        match self.db.find_service(&interaction.service_id).await? {
            Some(service) if service.is_active => Ok(service),
            _ => Err(DomainError::ServiceInactive),
        }
    }

    /// The login page with a QR code: `keep`'s if it is this request's and
    /// can still lead to a login (after a wrong PIN the phone still shows
    /// the right one), else a new one.
    pub async fn login_page(
        &self,
        interaction_id: &str,
        browser: Option<&OAuthSecret>,
        requester: &ClientInfo,
        keep: Option<&QrToken>,
    ) -> Result<LoginPage, LoginPageRefusal> {
        let interaction = self.open_interaction(interaction_id, browser).await?;
        let service = self.interaction_service(&interaction).await?;
        let now = self.now();
        if let Some(token) = keep
            && let Some(qr) = self
                .db
                .find_qr(&token.hash())
                .await
                .map_err(DomainError::from)?
            && interaction.qr_id.as_deref() == Some(qr.qr_id.as_str())
        {
            let (status, expires_at) = qr.status_at(now);
            if matches!(status, QrStatus::Pending | QrStatus::Scanned) {
                let png = qr_image::png(&self.qr_payload(token))?;
                return Ok(page(
                    &interaction,
                    &service,
                    token.clone(),
                    png,
                    status,
                    expires_at,
                    now,
                ));
            }
        }
        let qr = self
            .login_page_qr(&interaction, &service, requester)
            .await?;
        Ok(page(
            &interaction,
            &service,
            qr.token,
            qr.png,
            QrStatus::Pending,
            qr.expires_at,
            now,
        ))
    }

    /// A new QR code for the request, within the operating hours; the
    /// request remembers it as the one whose PIN it accepts.
    async fn login_page_qr(
        &self,
        interaction: &Interaction,
        service: &Service,
        requester: &ClientInfo,
    ) -> Result<IssuedQr, DomainError> {
        let mut trail = crate::domain::login::AttemptTrail::new(requester);
        trail.service_id = Some(service.service_id.clone());
        let issued = async {
            self.ensure_open().await?;
            self.issue_qr(service, requester, true).await
        }
        .await;
        let qr = match issued {
            Err(err @ DomainError::RateLimited { .. }) => return Err(err),
            other => self.audited(&trail, other).await?,
        };
        if !self
            .db
            .set_interaction_qr(&interaction.interaction_id, &qr.qr_id)
            .await?
        {
            return Err(DomainError::internal(
                "the login request was answered meanwhile",
            ));
        }
        Ok(qr)
    }

    /// The PIN typed on the login page: on success, the session is opened
    /// (a login like any other: history, stats, deactivation) and the
    /// browser is sent to the client with a code. Returns where to.
    pub async fn login_page_pin(
        &self,
        interaction_id: &str,
        browser: Option<&OAuthSecret>,
        qr_token: &QrToken,
        pin: &Pin,
        requester: &ClientInfo,
    ) -> Result<String, LoginPageRefusal> {
        let interaction = self.open_interaction(interaction_id, browser).await?;
        let qr = self
            .db
            .find_qr(&qr_token.hash())
            .await
            .map_err(DomainError::from)?;
        let Some(qr) = qr.filter(|qr| interaction.qr_id.as_deref() == Some(qr.qr_id.as_str()))
        else {
            return Err(DomainError::QrNotFound.into());
        };
        let login = self
            .verify_as(
                qr_token,
                pin,
                Verifier::LoginPage(&interaction.service_id),
                requester,
            )
            .await?;
        let now = self.now();
        let code = OAuthSecret::code().map_err(DomainError::internal)?;
        let record = AuthorizationCode {
            code_hash: code.hash(),
            service_id: interaction.service_id.clone(),
            session_id: login.session_id.clone(),
            user_id: login.user.user_id.clone(),
            redirect_uri: interaction.redirect_uri.clone(),
            scope: interaction.scope.clone(),
            nonce: interaction.nonce.clone(),
            code_challenge: interaction.code_challenge.clone(),
            created_at: now,
            expires_at: now
                .checked_add(self.settings.oidc.code_ttl)
                .map_err(DomainError::internal)?,
            used_at: None,
        };
        let won = self
            .db
            .complete_interaction(&interaction.interaction_id, &qr.qr_id, &record, now)
            .await
            .map_err(DomainError::from)?;
        if !won {
            // Another tab of this browser finished first; this login's
            // session serves nobody.
            self.db
                .end_session(&login.session_id, "revoked", now)
                .await
                .map_err(DomainError::from)?;
            return Err(LoginPageRefusal::Finished);
        }
        let mut params = vec![("code", code.expose())];
        if let Some(state) = interaction.state.as_deref() {
            params.push(("state", state));
        }
        params.push(("iss", self.settings.public_url.as_str()));
        Ok(with_query(&interaction.redirect_uri, &params))
    }

    /// The person cancelled on the login page: back to the client with
    /// `access_denied`.
    pub async fn login_page_cancel(
        &self,
        interaction_id: &str,
        browser: Option<&OAuthSecret>,
    ) -> Result<String, LoginPageRefusal> {
        let interaction = self.open_interaction(interaction_id, browser).await?;
        let now = self.now();
        if !self
            .db
            .finish_interaction(&interaction.interaction_id, now)
            .await
            .map_err(DomainError::from)?
        {
            return Err(LoginPageRefusal::Finished);
        }
        let mut params = vec![
            ("error", "access_denied"),
            ("error_description", "the person cancelled the login"),
        ];
        if let Some(state) = interaction.state.as_deref() {
            params.push(("state", state));
        }
        params.push(("iss", self.settings.public_url.as_str()));
        Ok(with_query(&interaction.redirect_uri, &params))
    }

    /// Where a request whose page cannot go on may still send the browser:
    /// back to the client with `access_denied` for an expired request, so
    /// the app can start again. `None` for an unknown request.
    pub async fn login_page_return(
        &self,
        interaction_id: &str,
        browser: Option<&OAuthSecret>,
    ) -> Result<Option<String>, DomainError> {
        let Some(interaction) = self.db.find_interaction(interaction_id).await? else {
            return Ok(None);
        };
        let bound = browser.is_some_and(|b| interaction.browser_hash.matches(&b.hash()));
        if !bound || interaction.completed_at.is_some() {
            return Ok(None);
        }
        let mut params = vec![
            ("error", "access_denied"),
            ("error_description", "the login request expired"),
        ];
        if let Some(state) = interaction.state.as_deref() {
            params.push(("state", state));
        }
        params.push(("iss", self.settings.public_url.as_str()));
        Ok(Some(with_query(&interaction.redirect_uri, &params)))
    }
}

fn page(
    interaction: &Interaction,
    service: &Service,
    qr_token: QrToken,
    qr_png: Vec<u8>,
    qr_status: QrStatus,
    qr_expires_at: Timestamp,
    now: Timestamp,
) -> LoginPage {
    LoginPage {
        interaction_id: interaction.interaction_id.clone(),
        client_name: service.name.clone(),
        client_url: service.url.clone(),
        qr_token,
        qr_png,
        qr_status,
        qr_expires_at,
        now,
    }
}
