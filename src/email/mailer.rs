//! How an email leaves: over SMTP (lettre), or into the log when no mail
//! server is configured (the default on a first start).

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{SmtpArgs, SmtpTls};
use crate::domain::model::{Delivery, OutboxEntry};
use crate::domain::types::Email;

/// Why a message did not go out, and whether trying again can help.
#[derive(Debug)]
pub struct SendFailure {
    pub permanent: bool,
    pub message: String,
}

impl SendFailure {
    fn permanent(message: impl Into<String>) -> Self {
        Self {
            permanent: true,
            message: message.into(),
        }
    }
}

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    /// No SMTP_HOST: messages are written to the log, and the outbox says
    /// `logged`, not `sent`: nobody received them.
    Log,
}

impl Mailer {
    pub fn from_settings(smtp: &SmtpArgs) -> anyhow::Result<Self> {
        let Some(host) = smtp.smtp_host.as_deref().filter(|h| !h.is_empty()) else {
            return Ok(Mailer::Log);
        };
        let from: Mailbox = smtp
            .smtp_from
            .parse()
            .map_err(|e| anyhow::anyhow!("SMTP_FROM {:?} is not a mailbox: {e}", smtp.smtp_from))?;
        let builder = match smtp.smtp_tls {
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let port = smtp.smtp_port.unwrap_or(match smtp.smtp_tls {
            SmtpTls::Tls => 465,
            SmtpTls::Starttls => 587,
            SmtpTls::None => 25,
        });
        let mut builder = builder
            .port(port)
            .timeout(Some(Duration::from_secs(smtp.smtp_timeout_secs.max(1))));
        if let (Some(user), Some(password)) = (&smtp.smtp_username, &smtp.smtp_password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Mailer::Smtp {
            transport: builder.build(),
            from,
        })
    }

    pub async fn send(&self, email: &OutboxEntry) -> Result<Delivery, SendFailure> {
        let (transport, from) = match self {
            Mailer::Log => {
                tracing::info!(
                    to = %email.recipient,
                    subject = %email.subject,
                    body = %email.body_text,
                    "email (no SMTP_HOST set: written to the log instead of sent)"
                );
                return Ok(Delivery::Logged);
            }
            Mailer::Smtp { transport, from } => (transport, from),
        };
        let to: Mailbox = delivery_address(&email.recipient)
            .parse()
            .map_err(|e| SendFailure::permanent(format!("bad recipient address: {e}")))?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(email.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                email.body_text.clone(),
                email.body_html.clone(),
            ))
            .map_err(|e| SendFailure::permanent(format!("cannot build the message: {e}")))?;
        transport
            .send(message)
            .await
            .map(|_| Delivery::Sent)
            .map_err(|e| SendFailure {
                permanent: e.is_permanent(),
                message: e.to_string(),
            })
    }
}

/// The recipient with its domain in ASCII (`xn--`) form. lettre would send
/// a Unicode domain as it is, which needs the server's SMTPUTF8 and is
/// refused by most servers without it; the A-label is the same address to
/// every server. An address that does not parse (an admin's address from
/// before the domain rules) goes out as stored.
fn delivery_address(recipient: &str) -> String {
    Email::parse(recipient).map_or_else(|_| recipient.to_owned(), |e| e.delivery_address())
}
