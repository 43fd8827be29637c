//! Value types parsed once at the edge. Holding one means the value is valid:
//! functions further in take these types, never a raw `String`.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use crate::domain::{FieldError, idn, text};

/// Builds the error for `field` when a parse fails.
fn rule(field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, message)
}

fn has_control_chars(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// An email address, kept as typed (trimmed). Its domain passed UTS 46 and
/// the one-script rule of `domain::idn`; the address is compared, and
/// mailed to, with the domain in its ASCII (`xn--`) form, so that
/// `a@bücher.example` and `a@xn--bcher-kva.example` are one address.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    typed: String,
    /// The local part: `typed[..local_len]`.
    local_len: usize,
    ascii_domain: String,
}

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let bad = |m: &str| rule("email", m);
        if value.is_empty() {
            return Err(bad("must not be empty"));
        }
        if value.len() > Self::MAX_LEN {
            return Err(bad("must be at most 254 characters"));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("must not contain spaces"));
        }
        // Admins read the address as typed: no hidden or reordering characters.
        text::check_field("email", value)?;
        let Some((local, domain)) = value.rsplit_once('@') else {
            return Err(bad("must be an email address like name@example.com"));
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(bad("must be an email address like name@example.com"));
        }
        let domain =
            idn::check_domain(domain).map_err(|refusal| bad(&refusal.message("domain")))?;
        // The A-label form is longer than the Unicode one; it is the one
        // that must fit a mail server's limit.
        if local.len() + 1 + domain.ascii.len() > Self::MAX_LEN {
            return Err(bad("must be at most 254 characters"));
        }
        Ok(Self {
            typed: value.to_owned(),
            local_len: local.len(),
            ascii_domain: domain.ascii,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.typed
    }

    fn local(&self) -> &str {
        self.typed.get(..self.local_len).unwrap_or_default()
    }

    /// The form used for uniqueness: `John@Example.com` and `john@example.com`
    /// are one address, and so are `a@Bücher.example` and
    /// `a@xn--bcher-kva.example` (the domain in its ASCII form, which UTS 46
    /// has lower-cased).
    pub fn normalized(&self) -> String {
        format!("{}@{}", self.local().to_lowercase(), self.ascii_domain)
    }

    /// The address to send mail to: the local part as typed, the domain in
    /// its ASCII form, so that a mail server without SMTPUTF8 takes it.
    pub fn delivery_address(&self) -> String {
        format!("{}@{}", self.local(), self.ascii_domain)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.typed)
    }
}

/// A username: NFKC-normalised and lower-cased, `[a-z0-9._-]{3,32}`
/// (fullwidth `ｊｏｈｎ`, as some phone keyboards type it, is `john`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// The form a typed name is looked up and counted under: trimmed, NFKC,
    /// lower-cased. Also for names that do not parse (the sign-in throttle
    /// counts those too), so every spelling of one name is one key.
    pub fn fold(raw: &str) -> String {
        raw.trim().nfkc().collect::<String>().to_lowercase()
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::parse_field("username", raw)
    }

    pub fn parse_field(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = Self::fold(raw);
        let len = value.chars().count();
        if !(3..=32).contains(&len) {
            return Err(rule(field, "must be 3 to 32 characters"));
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        if !value.chars().all(allowed) {
            return Err(rule(
                field,
                "may contain only letters a-z, digits and . _ -",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's full name as they wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

impl FullName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(rule("full_name", "must not be empty"));
        }
        if value.chars().count() > 200 {
            return Err(rule("full_name", "must be at most 200 characters"));
        }
        if has_control_chars(value) {
            return Err(rule("full_name", "must not contain control characters"));
        }
        text::check_field("full_name", value)?;
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number: digits with the usual separators, 6 to 20 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// An absent or blank phone is `None`: the field is optional.
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, FieldError> {
        let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let bad = || rule("phone", "must be a phone number like +15551234567");
        let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
        if value.len() > 32 || !value.chars().all(allowed) {
            return Err(bad());
        }
        if value[1..].contains('+') {
            return Err(bad());
        }
        let digits = value.chars().filter(char::is_ascii_digit).count();
        if !(6..=20).contains(&digits) {
            return Err(bad());
        }
        Ok(Some(Self(value.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The display name of a relying service ("ServiceB"); unique regardless of case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceName(String);

impl ServiceName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(rule("name", "must not be empty"));
        }
        if value.chars().count() > 100 {
            return Err(rule("name", "must be at most 100 characters"));
        }
        if has_control_chars(value) {
            return Err(rule("name", "must not contain control characters"));
        }
        text::check_field("name", value)?;
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// The public address of a relying service: an absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUrl(String);

impl ServiceUrl {
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, FieldError> {
        let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let authority = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"))
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default())
            .unwrap_or_default();
        if authority.is_empty() || value.len() > 2048 || value.chars().any(char::is_whitespace) {
            return Err(rule(
                "url",
                "must be an http:// or https:// address, like https://serviceb.example",
            ));
        }
        text::check_field("url", value)?;
        // The phone shows this host as the one to check in the browser: an
        // international one must pass the email domains' rules (UTS 46, one
        // script per label), so that no look-alike of another host gets in.
        // ASCII hosts (including `localhost` and addresses) are as before.
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = host.rsplit_once(':').map_or(host, |(name, _)| name);
        let international = !host.is_ascii()
            || host
                .split('.')
                .any(|l| l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")));
        if international && !host.starts_with('[') {
            idn::check_domain(host).map_err(|refusal| rule("url", refusal.message("host")))?;
        }
        Ok(Some(Self(value.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text describing a service, up to 1000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, FieldError> {
        let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        if value.chars().count() > 1000 {
            return Err(rule("description", "must be at most 1000 characters"));
        }
        text::check_field("description", value)?;
        Ok(Some(Self(value.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The reason an admin gives when rejecting a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectionReason(String);

impl RejectionReason {
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, FieldError> {
        let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        if value.chars().count() > 1000 {
            return Err(rule("reason", "must be at most 1000 characters"));
        }
        text::check_field("reason", value)?;
        Ok(Some(Self(value.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// A new random identifier.
            pub fn generate() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }

            /// Any string a client sends back; an unknown one is simply not found.
            pub fn from_client(raw: &str) -> Self {
                Self(raw.to_owned())
            }

            /// A value read back from storage.
            pub fn from_stored(raw: String) -> Self {
                Self(raw)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

opaque_id!(
    /// Identifies a person from registration on; kept when approval moves them.
    UserId
);
opaque_id!(
    /// Identifies a relying service (ServiceB, AppC, …).
    ServiceId
);
opaque_id!(
    /// Identifies an administrator.
    AdminId
);
opaque_id!(
    /// Names one admin bearer token in the console and the API, so that it
    /// can be listed and revoked without the secret (or its hash) leaving
    /// the server.
    AdminTokenId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_accepts_usual_addresses_and_keeps_case() {
        let e = Email::parse("  John.Smith+tag@Example.co.uk ").unwrap();
        assert_eq!(e.as_str(), "John.Smith+tag@Example.co.uk");
        assert_eq!(e.normalized(), "john.smith+tag@example.co.uk");
    }

    #[test]
    fn email_rejects_malformed_addresses() {
        for bad in [
            "",
            "john",
            "john@",
            "@example.com",
            "john@example",
            "john@exa mple.com",
            "john@-example.com",
            "john@example..com",
            "a@b@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn email_with_a_unicode_domain_is_one_address_with_its_a_label() {
        let typed = Email::parse("Anna@Bücher.example").unwrap();
        assert_eq!(typed.as_str(), "Anna@Bücher.example");
        assert_eq!(typed.normalized(), "anna@xn--bcher-kva.example");
        assert_eq!(typed.delivery_address(), "Anna@xn--bcher-kva.example");
        let punycode = Email::parse("anna@xn--bcher-kva.example").unwrap();
        assert_eq!(punycode.normalized(), typed.normalized());
        assert_eq!(
            Email::parse("a@яндекс.рф").unwrap().normalized(),
            "a@xn--d1acpjx3f.xn--p1ai"
        );
    }

    #[test]
    fn email_domains_that_mix_scripts_or_break_uts46_are_refused() {
        let e = Email::parse("john@p\u{0430}ypal.com").unwrap_err();
        assert_eq!(e.field, "email");
        assert!(e.message.contains("mix scripts"), "{}", e.message);
        for bad in ["john@exa_mple.com", "john@xn--a.com", "john@example.com."] {
            assert_eq!(Email::parse(bad).unwrap_err().field, "email", "{bad:?}");
        }
        let hidden = Email::parse("john@exam\u{200B}ple.com").unwrap_err();
        assert!(hidden.message.contains("invisible"), "{}", hidden.message);
        assert!(Email::parse("jo\u{202E}hn@example.com").is_err());
        // Short as typed, too long once the domain is in A-label form.
        let label = format!("{}ü", "a".repeat(50));
        let long = format!("{}@{label}.{label}.{label}.{label}.example", "a".repeat(30));
        assert!(long.len() <= 254);
        assert!(Email::parse(&long).unwrap_err().message.contains("254"));
    }

    #[test]
    fn username_is_lowercased_and_limited() {
        assert_eq!(Username::parse("John").unwrap().as_str(), "john");
        assert_eq!(Username::parse("a.b_c-9").unwrap().as_str(), "a.b_c-9");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        assert!(Username::parse("john smith").is_err());
        assert!(Username::parse("jöhn").is_err());
        assert!(Username::parse("john@x").is_err());
    }

    #[test]
    fn username_is_nfkc_normalised() {
        let fullwidth = "\u{ff2a}\u{ff4f}\u{ff48}\u{ff4e}";
        assert_eq!(Username::parse(fullwidth).unwrap().as_str(), "john");
        assert_eq!(Username::fold(" \u{ff4a}ohn "), "john");
        // Letters that NFKC does not make ASCII stay refused.
        assert!(Username::parse("jo\u{308}hn").is_err());
    }

    #[test]
    fn full_name_must_be_present_and_short() {
        assert_eq!(
            FullName::parse(" John Smith ").unwrap().as_str(),
            "John Smith"
        );
        assert!(FullName::parse("   ").is_err());
        assert!(FullName::parse(&"x".repeat(201)).is_err());
        assert!(FullName::parse(&"é".repeat(200)).is_ok());
        assert!(FullName::parse("John\u{0}").is_err());
    }

    #[test]
    fn shown_text_refuses_bidi_and_invisible_characters_at_its_field() {
        let e = FullName::parse("John \u{202E}htimS").unwrap_err();
        assert_eq!(e.field, "full_name");
        assert!(e.message.contains("text-direction"), "{}", e.message);
        assert_eq!(
            FullName::parse("Jo\u{200B}hn").unwrap_err().field,
            "full_name"
        );
        assert_eq!(
            ServiceName::parse("Service\u{2066}B").unwrap_err().field,
            "name"
        );
        let d = Description::parse_optional(Some("line one\nline \u{202E}two")).unwrap_err();
        assert_eq!(d.field, "description");
        let r = RejectionReason::parse_optional(Some("no\u{FEFF}")).unwrap_err();
        assert_eq!(r.field, "reason");
        // Line breaks stay allowed where they were.
        assert!(Description::parse_optional(Some("line one\nline two")).is_ok());
    }

    #[test]
    fn phone_is_optional_and_plausible() {
        assert_eq!(Phone::parse_optional(None).unwrap(), None);
        assert_eq!(Phone::parse_optional(Some("  ")).unwrap(), None);
        assert!(
            Phone::parse_optional(Some("+1 (555) 123-4567"))
                .unwrap()
                .is_some()
        );
        assert!(Phone::parse_optional(Some("12345")).is_err());
        assert!(Phone::parse_optional(Some("call me")).is_err());
        assert!(Phone::parse_optional(Some("1+5551234567")).is_err());
    }

    #[test]
    fn service_fields_parse() {
        assert_eq!(
            ServiceName::parse(" ServiceB ").unwrap().normalized(),
            "serviceb"
        );
        assert!(ServiceName::parse("").is_err());
        assert!(
            ServiceUrl::parse_optional(Some("https://serviceb.example"))
                .unwrap()
                .is_some()
        );
        assert!(ServiceUrl::parse_optional(Some("ftp://x")).is_err());
        assert!(ServiceUrl::parse_optional(Some("https://")).is_err());
        assert!(ServiceUrl::parse_optional(None).unwrap().is_none());
        assert!(
            ServiceUrl::parse_optional(Some("http://localhost:8080/x"))
                .unwrap()
                .is_some()
        );
        assert!(
            ServiceUrl::parse_optional(Some("https://bücher.example:8443/a"))
                .unwrap()
                .is_some()
        );
        let look_alike = ServiceUrl::parse_optional(Some("https://p\u{0430}ypal.com/login"));
        assert_eq!(look_alike.unwrap_err().field, "url");
        assert!(ServiceUrl::parse_optional(Some("https://xn--pypal-4ve.com")).is_err());
        assert!(ServiceUrl::parse_optional(Some("https://XN--PYPAL-4VE.com")).is_err());
        assert!(ServiceUrl::parse_optional(Some("https://example.com/\u{202E}")).is_err());
        assert!(Description::parse_optional(Some(&"d".repeat(1001))).is_err());
    }
}
