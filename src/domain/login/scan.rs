//! Step 2: the phone scans the QR code and receives the PIN after seeing who
//! asks; or the person denies a login they did not start.

use jiff::Timestamp;

use crate::clock::rfc3339;
use crate::domain::emails::{self, DeniedLogin};
use crate::domain::login::AttemptTrail;
use crate::domain::login::qr_state::QrStep;
use crate::domain::login::records::Scan;
use crate::domain::model::{ClientInfo, Service, User};
use crate::domain::rates::network_of;
use crate::domain::secret::{AuthKey, Pin, QrToken};
use crate::domain::{Core, DomainError};

/// What the phone shows: the PIN, and who is asking for it.
#[derive(Debug)]
pub struct Scanned {
    pub pin: Pin,
    pub pin_expires_at: Timestamp,
    pub pin_expires_in: i64,
    pub service: Service,
    pub requester: ClientInfo,
    pub requested_at: Timestamp,
    /// The phone and the requesting browser share an IP address.
    pub same_network: bool,
    /// Where the QR code is shown when it is on Central Auth's own login
    /// page (an OIDC login): the address the browser must show.
    pub login_page_url: Option<String>,
}

impl Core {
    /// The user behind an `auth_key`, or `InvalidAuthKey`.
    async fn user_by_auth_key(&self, key: &AuthKey) -> Result<User, DomainError> {
        self.db
            .find_user_by_auth_key(&key.hash())
            .await?
            .ok_or(DomainError::InvalidAuthKey)
    }

    pub async fn scan_qr(
        &self,
        token: &QrToken,
        auth_key: &AuthKey,
        phone: &ClientInfo,
    ) -> Result<Scanned, DomainError> {
        let mut trail = AttemptTrail::new(phone);
        let result = self.scan_steps(&mut trail, token, auth_key, phone).await;
        self.audited(&trail, result).await
    }

    async fn scan_steps(
        &self,
        trail: &mut AttemptTrail,
        token: &QrToken,
        auth_key: &AuthKey,
        phone: &ClientInfo,
    ) -> Result<Scanned, DomainError> {
        let qr = self.gated_qr(trail, token).await?;
        let now = self.now();
        qr.check(QrStep::Scan, now)?;
        let user = self.user_by_auth_key(auth_key).await?;
        trail.user_id = Some(user.user_id.clone());
        if !user.is_active {
            return Err(DomainError::UserInactive);
        }
        let service = self
            .db
            .find_service(&qr.service_id)
            .await?
            .ok_or(DomainError::ServiceInactive)?;
        if !service.is_active {
            return Err(DomainError::ServiceInactive);
        }
        let pin = Pin::generate().map_err(DomainError::internal)?;
        let pin_ttl = self.settings.pin_ttl;
        let pin_expires_at = now.checked_add(pin_ttl).map_err(DomainError::internal)?;
        let won = self
            .db
            .mark_scanned(
                &qr.qr_id,
                &Scan {
                    user_id: &user.user_id,
                    scanner_ip: phone.ip.as_deref(),
                    pin_hash: &pin.hash_for(token),
                    pin_expires_at,
                },
                now,
            )
            .await?;
        if !won {
            return Err(self.refusal_after_race(&qr.qr_id, QrStep::Scan, now).await);
        }
        tracing::info!(user_id = %user.user_id, service_id = %service.service_id, "QR code scanned");
        let same_network = same_network(qr.requester_ip.as_deref(), phone.ip.as_deref());
        Ok(Scanned {
            pin,
            pin_expires_at,
            pin_expires_in: pin_ttl.as_secs(),
            service,
            requester: ClientInfo {
                ip: qr.requester_ip.clone(),
                user_agent: qr.requester_user_agent.clone(),
            },
            requested_at: qr.created_at,
            same_network,
            login_page_url: qr.on_login_page.then(|| self.settings.public_url.clone()),
        })
    }

    /// The person did not start this login: lock the QR code for good and
    /// record it. Before a scan anyone holding a valid `auth_key` may deny
    /// (they are looking at the code); after it, only the person who scanned.
    pub async fn deny_qr(
        &self,
        token: &QrToken,
        auth_key: &AuthKey,
        phone: &ClientInfo,
    ) -> Result<(), DomainError> {
        let mut trail = AttemptTrail::new(phone);
        let result = self.deny_steps(&mut trail, token, auth_key).await;
        match &result {
            Ok(()) => self.record_outcome(&trail, "denied").await,
            Err(err) => self.record_failure(&trail, err).await,
        }
        result
    }

    async fn deny_steps(
        &self,
        trail: &mut AttemptTrail,
        token: &QrToken,
        auth_key: &AuthKey,
    ) -> Result<(), DomainError> {
        let qr = self
            .db
            .find_qr(&token.hash())
            .await?
            .ok_or(DomainError::QrNotFound)?;
        trail.learn_qr(&qr);
        let scanned_by = qr.user_id.clone();
        qr.check(QrStep::Deny, self.now())?;
        let user = self.user_by_auth_key(auth_key).await?;
        trail.user_id = Some(user.user_id.clone());
        if scanned_by.is_some_and(|id| id != user.user_id) {
            return Err(DomainError::WrongUser);
        }
        let service = self.db.find_service(&qr.service_id).await?;
        let alert = emails::login_denied(
            &self.admin_recipients().await?,
            &DeniedLogin {
                username: &user.username,
                service: service
                    .as_ref()
                    .map_or("an unknown service", |s| s.name.as_str()),
                requested_at: &rfc3339(qr.created_at),
                ip: qr.requester_ip.as_deref().unwrap_or("not reported"),
                user_agent: qr.requester_user_agent.as_deref().unwrap_or("not reported"),
            },
            &self.settings.public_url,
        )?;
        let now = self.now();
        if !self.db.mark_denied(&qr.qr_id, &alert, now).await? {
            return Err(self.refusal_after_race(&qr.qr_id, QrStep::Deny, now).await);
        }
        self.outbox_wake.notify_one();
        tracing::warn!(
            user_id = %user.user_id,
            service_id = %qr.service_id,
            requester_ip = qr.requester_ip.as_deref().unwrap_or("unknown"),
            "login denied by the user: possible phishing attempt"
        );
        Ok(())
    }
}

/// Whether the phone and the browser that asked for the QR code are on one
/// network: the same IPv4 address (one NAT), or the same IPv6 /64 (every
/// device of a home or office network has an address of its own in it). A
/// relayed QR code, someone else's login shown to the victim, comes from
/// another network, and the app says so in words. Unknown on either side is
/// not the same network.
fn same_network(requester: Option<&str>, phone: Option<&str>) -> bool {
    let network = |ip: Option<&str>| Some(network_of(ip?.parse().ok()?));
    match (network(requester), network(phone)) {
        (Some(requester), Some(phone)) => requester == phone,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::same_network;

    #[test]
    fn one_ipv4_address_or_one_ipv6_64_is_the_same_network() {
        assert!(same_network(Some("203.0.113.7"), Some("203.0.113.7")));
        assert!(same_network(
            Some("::ffff:203.0.113.7"),
            Some("203.0.113.7")
        ));
        assert!(same_network(
            Some("2001:db8:1:2::10"),
            Some("2001:db8:1:2:abcd::1")
        ));
        assert!(!same_network(Some("203.0.113.7"), Some("203.0.113.8")));
        assert!(!same_network(
            Some("2001:db8:1:2::10"),
            Some("2001:db8:1:3::10")
        ));
        assert!(!same_network(Some("203.0.113.7"), Some("2001:db8::1")));
    }

    #[test]
    fn unknown_or_unreadable_is_not_the_same_network() {
        assert!(!same_network(None, Some("203.0.113.7")));
        assert!(!same_network(Some("203.0.113.7"), None));
        assert!(!same_network(None, None));
        assert!(!same_network(Some("not an address"), Some("also not")));
    }
}
