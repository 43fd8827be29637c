//! The emails the rules owe people (a registration received, approved or
//! rejected, a new device, a denied login), each with a plain-text and an
//! HTML body from askama templates (`templates/email/`). HTML templates
//! escape what users typed; subjects are kept to one line. Composed here,
//! queued by storage in the transaction of the change that owes them, and
//! delivered by `crate::email`.

use askama::Template;

use crate::domain::DomainError;
use crate::domain::model::{OutgoingEmail, PendingUser};

/// Defines the text and HTML templates of one email over the same fields.
macro_rules! email_templates {
    ($text:ident = $text_file:literal, $html:ident = $html_file:literal,
     { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Template)]
        #[template(path = $text_file)]
        struct $text<'a> { $($field: $ty),* }

        #[derive(Template)]
        #[template(path = $html_file)]
        struct $html<'a> { $($field: $ty),* }
    };
}

email_templates!(
    RegistrationText = "email/registration_received.txt",
    RegistrationHtml = "email/registration_received.html",
    {
    full_name: &'a str, username: &'a str, email: &'a str, phone: Option<&'a str>, queue_url: &'a str,
});
email_templates!(
    DigestText = "email/registration_digest.txt",
    DigestHtml = "email/registration_digest.html",
    {
    count: i64, listed: &'a [DigestLine<'a>], more: i64, queue_url: &'a str,
});
email_templates!(
    ApprovedText = "email/approved.txt",
    ApprovedHtml = "email/approved.html",
    {
    full_name: &'a str, username: &'a str, app_url: &'a str,
});
email_templates!(
    RejectedText = "email/rejected.txt",
    RejectedHtml = "email/rejected.html",
    {
    full_name: &'a str, username: &'a str, reason: Option<&'a str>,
});
email_templates!(
    NewDeviceText = "email/new_device.txt",
    NewDeviceHtml = "email/new_device.html",
    {
    full_name: &'a str, username: &'a str, at: &'a str, ip: Option<&'a str>, user_agent: Option<&'a str>,
});
email_templates!(
    DeniedText = "email/login_denied.txt",
    DeniedHtml = "email/login_denied.html",
    {
    username: &'a str, service: &'a str, requested_at: &'a str, ip: &'a str, user_agent: &'a str,
    history_url: &'a str,
});

fn render(t: &impl Template) -> Result<String, DomainError> {
    t.render()
        .map_err(|e| DomainError::Internal(format!("email template failed: {e}")))
}

/// Subjects are one header line: user-typed parts lose line breaks.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn email(
    kind: &'static str,
    recipient: &str,
    subject: String,
    text: &impl Template,
    html: &impl Template,
) -> Result<OutgoingEmail, DomainError> {
    Ok(OutgoingEmail {
        kind,
        recipient: recipient.to_owned(),
        subject: one_line(&subject),
        body_text: render(text)?,
        body_html: render(html)?,
    })
}

/// The person behind an email: who they are, as the templates name them.
pub struct Person<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub full_name: &'a str,
}

/// To each admin: a registration waits in the queue.
pub fn registration_received(
    admins: &[String],
    person: &Person<'_>,
    phone: Option<&str>,
    public_url: &str,
) -> Result<Vec<OutgoingEmail>, DomainError> {
    let queue_url = format!("{public_url}/admin/pending");
    let text = RegistrationText {
        full_name: person.full_name,
        username: person.username,
        email: person.email,
        phone,
        queue_url: &queue_url,
    };
    let html = RegistrationHtml {
        full_name: person.full_name,
        username: person.username,
        email: person.email,
        phone,
        queue_url: &queue_url,
    };
    let subject = format!(
        "New registration: {} ({})",
        person.full_name, person.username
    );
    admins
        .iter()
        .map(|admin| {
            email(
                "registration_received",
                admin,
                subject.clone(),
                &text,
                &html,
            )
        })
        .collect()
}

/// One registration as a digest names it.
pub struct DigestLine<'a> {
    full_name: &'a str,
    username: &'a str,
    email: &'a str,
}

/// To each admin: `count` registrations arrived since the last email, of
/// which `first` are named (the oldest) and the rest counted.
pub fn registration_digest(
    admins: &[String],
    first: &[PendingUser],
    count: i64,
    public_url: &str,
) -> Result<Vec<OutgoingEmail>, DomainError> {
    let queue_url = format!("{public_url}/admin/pending");
    let listed: Vec<DigestLine<'_>> = first
        .iter()
        .map(|p| DigestLine {
            full_name: &p.full_name,
            username: &p.username,
            email: &p.email,
        })
        .collect();
    let more = count.saturating_sub(i64::try_from(listed.len()).unwrap_or(i64::MAX));
    let text = DigestText {
        count,
        listed: &listed,
        more,
        queue_url: &queue_url,
    };
    let html = DigestHtml {
        count,
        listed: &listed,
        more,
        queue_url: &queue_url,
    };
    let subject = format!("{count} new registrations waiting for approval");
    admins
        .iter()
        .map(|admin| email("registration_digest", admin, subject.clone(), &text, &html))
        .collect()
}

/// To the person: the account is active; how to set up the authenticator.
pub fn approved(person: &Person<'_>, public_url: &str) -> Result<OutgoingEmail, DomainError> {
    let app_url = format!("{public_url}/app");
    email(
        "approved",
        person.email,
        "Your Central Auth account is active".to_owned(),
        &ApprovedText {
            full_name: person.full_name,
            username: person.username,
            app_url: &app_url,
        },
        &ApprovedHtml {
            full_name: person.full_name,
            username: person.username,
            app_url: &app_url,
        },
    )
}

/// To the person: the registration was rejected, with the reason if given.
pub fn rejected(person: &Person<'_>, reason: Option<&str>) -> Result<OutgoingEmail, DomainError> {
    email(
        "rejected",
        person.email,
        "Your Central Auth registration was not approved".to_owned(),
        &RejectedText {
            full_name: person.full_name,
            username: person.username,
            reason,
        },
        &RejectedHtml {
            full_name: person.full_name,
            username: person.username,
            reason,
        },
    )
}

/// To the person: a security notice that a device was enrolled.
pub fn new_device(
    person: &Person<'_>,
    at: &str,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<OutgoingEmail, DomainError> {
    email(
        "new_device",
        person.email,
        "Your authenticator was set up on a new device".to_owned(),
        &NewDeviceText {
            full_name: person.full_name,
            username: person.username,
            at,
            ip,
            user_agent,
        },
        &NewDeviceHtml {
            full_name: person.full_name,
            username: person.username,
            at,
            ip,
            user_agent,
        },
    )
}

/// What the admins are told about a denied login.
pub struct DeniedLogin<'a> {
    pub username: &'a str,
    pub service: &'a str,
    pub requested_at: &'a str,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

/// To each admin: a person denied a login they did not start.
pub fn login_denied(
    admins: &[String],
    denied: &DeniedLogin<'_>,
    public_url: &str,
) -> Result<Vec<OutgoingEmail>, DomainError> {
    let history_url = format!("{public_url}/admin/history");
    let d = denied;
    let text = DeniedText {
        username: d.username,
        service: d.service,
        requested_at: d.requested_at,
        ip: d.ip,
        user_agent: d.user_agent,
        history_url: &history_url,
    };
    let html = DeniedHtml {
        username: d.username,
        service: d.service,
        requested_at: d.requested_at,
        ip: d.ip,
        user_agent: d.user_agent,
        history_url: &history_url,
    };
    let subject = format!("Login denied by {} for {}", d.username, d.service);
    admins
        .iter()
        .map(|admin| email("login_denied", admin, subject.clone(), &text, &html))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn john() -> Person<'static> {
        Person {
            email: "john@example.com",
            username: "john",
            full_name: "<b>John</b> & Co",
        }
    }

    #[test]
    fn html_escapes_what_users_typed_and_text_keeps_it() {
        let mails =
            registration_received(&["ops@example.com".into()], &john(), None, "http://x").unwrap();
        let mail = &mails[0];
        assert_eq!(mail.recipient, "ops@example.com");
        assert!(
            mail.body_html
                .contains("&#60;b&#62;John&#60;/b&#62; &#38; Co")
                || mail.body_html.contains("&lt;b&gt;John&lt;/b&gt; &amp; Co")
        );
        assert!(!mail.body_html.contains("<b>John</b>"));
        assert!(mail.body_text.contains("<b>John</b> & Co"));
        assert!(mail.body_text.contains("http://x/admin/pending"));
    }

    #[test]
    fn a_digest_names_the_first_registrations_and_counts_the_rest() {
        use crate::domain::model::AccountStatus;
        use crate::domain::types::UserId;
        let pending = |name: &str| PendingUser {
            user_id: UserId::generate(),
            email: format!("{name}@example.com"),
            username: name.to_owned(),
            full_name: format!("<i>{name}</i>"),
            phone: None,
            status: AccountStatus::Pending,
            registered_at: jiff::Timestamp::UNIX_EPOCH,
            rejection_reason: None,
        };
        let first = [pending("ann"), pending("bob")];
        let admins = ["a@example.com".to_owned(), "b@example.com".to_owned()];
        let mails = registration_digest(&admins, &first, 7, "http://x").unwrap();
        assert_eq!(mails.len(), 2, "one digest per admin");
        let mail = &mails[0];
        assert_eq!(mail.kind, "registration_digest");
        assert_eq!(mail.subject, "7 new registrations waiting for approval");
        for body in [&mail.body_text, &mail.body_html] {
            assert!(
                body.contains("ann@example.com") && body.contains("bob"),
                "{body}"
            );
            assert!(body.contains("5 more"), "{body}");
            assert!(body.contains("http://x/admin/pending"), "{body}");
        }
        assert!(!mail.body_html.contains("<i>ann</i>"), "escaped");
        let all_named = registration_digest(&admins, &first, 2, "http://x").unwrap();
        assert!(!all_named[0].body_text.contains("more"));
    }

    #[test]
    fn subjects_are_one_line() {
        let person = Person {
            full_name: "Evil\r\nBcc: victim@example.com",
            ..john()
        };
        let mails =
            registration_received(&["a@example.com".into()], &person, None, "http://x").unwrap();
        assert!(!mails[0].subject.contains('\n') && !mails[0].subject.contains('\r'));
    }

    #[test]
    fn rejection_names_the_reason_only_when_given() {
        let with = rejected(&john(), Some("unknown applicant")).unwrap();
        assert!(with.body_text.contains("unknown applicant"));
        let without = rejected(&john(), None).unwrap();
        assert!(!without.body_text.contains("reason given"));
    }
}
