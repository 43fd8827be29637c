//! The rules a new password must pass wherever one is set (registration,
//! create-admin and its password change, the first admin): long enough, not
//! one of the most common passwords from breaches, not the person's own name.
//! A password offered at sign-in is never held to them, so one set before a
//! rule existed keeps working.

use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;

use crate::domain::FieldError;
use crate::domain::secret::Password;

/// The most common passwords from breaches, one a line, lower case
/// (third-party/common-passwords: zxcvbn-ts's list, MIT).
const COMMON_LIST: &str = include_str!("../../third-party/common-passwords/passwords.txt");

/// The list's entries a password could equal: shorter ones are refused by
/// the length rule already, so they need no room (about 1,600 of the list's
/// 49,000 entries stay, a few tens of KiB; the text itself is in the binary).
static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_LIST
        .lines()
        .filter(|entry| entry.chars().count() >= Password::MIN_CHARS)
        .collect()
});

/// A name shorter than this is not looked for inside a password: a
/// three-letter username would refuse too many good passwords and protect
/// little.
pub const MIN_NAME_OVERLAP: usize = 4;

/// Whose password it is: the names it must not contain.
#[derive(Debug, Clone, Copy, Default)]
pub struct Owner<'a> {
    pub username: Option<&'a str>,
    /// The whole address; its part before the `@` is what is checked.
    pub email: Option<&'a str>,
}

/// A password that passed the rules for a new one; the only kind the
/// services that store a password accept.
#[derive(Clone)]
pub struct NewPassword(Password);

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

impl NewPassword {
    /// Parses a typed password (length, NFKC) and checks it, the refusal
    /// naming `field`.
    pub fn parse(field: &str, raw: String, owner: Owner<'_>) -> Result<Self, FieldError> {
        Self::check(field, Password::parse_field(field, raw)?, owner)
    }

    /// Checks a password already parsed. Compared case-insensitively, in
    /// its NFKC form: `Password123` is `password123`, fullwidth letters are
    /// plain ones.
    pub fn check(field: &str, password: Password, owner: Owner<'_>) -> Result<Self, FieldError> {
        let folded = fold(password.expose());
        if COMMON.contains(folded.as_str()) {
            return Err(FieldError::new(
                field,
                "is one of the most commonly used passwords; choose another",
            ));
        }
        if contains_name(&folded, owner.username) {
            return Err(FieldError::new(field, "must not contain your username"));
        }
        let local_part = owner
            .email
            .map(|email| email.rsplit_once('@').map_or(email, |(local, _)| local));
        if contains_name(&folded, local_part) {
            return Err(FieldError::new(
                field,
                "must not contain your email address (the part before the @)",
            ));
        }
        Ok(Self(password))
    }

    /// A generated random password (the first admin's): 144 random bits
    /// are not on any list, so it needs no check.
    pub fn generate() -> Result<Self, getrandom::Error> {
        Password::generate().map(Self)
    }

    pub fn password(&self) -> &Password {
        &self.0
    }

    pub fn into_password(self) -> Password {
        self.0
    }
}

fn fold(text: &str) -> String {
    text.nfkc().collect::<String>().to_lowercase()
}

/// Whether the folded password contains `name` (folded too), for a name of
/// at least `MIN_NAME_OVERLAP` characters.
fn contains_name(folded_password: &str, name: Option<&str>) -> bool {
    let Some(name) = name.map(|n| fold(n.trim())) else {
        return false;
    };
    name.chars().count() >= MIN_NAME_OVERLAP && folded_password.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, owner: Owner<'_>) -> Result<NewPassword, String> {
        NewPassword::parse("password", raw.into(), owner).map_err(|e| e.message)
    }

    const NOBODY: Owner<'static> = Owner {
        username: None,
        email: None,
    };

    #[test]
    fn the_list_is_folded_and_of_the_expected_size() {
        let entries: Vec<&str> = COMMON_LIST.lines().collect();
        assert_eq!(entries.len(), 49_233);
        assert!(entries.iter().all(|e| fold(e) == *e && !e.is_empty()));
        assert!(COMMON.contains("password123"));
        assert!(COMMON.len() > 1_000);
    }

    #[test]
    fn common_passwords_are_refused_in_any_case_or_width() {
        for common in [
            "password123",
            "Password123",
            "QWERTYUIOP",
            "1234567890",
            // Fullwidth "password123".
            "\u{ff50}\u{ff41}\u{ff53}\u{ff53}\u{ff57}\u{ff4f}\u{ff52}\u{ff44}\u{ff11}\u{ff12}\u{ff13}",
        ] {
            let refused = check(common, NOBODY).unwrap_err();
            assert!(
                refused.contains("most commonly used"),
                "{common}: {refused}"
            );
        }
        assert!(check("correct horse battery", NOBODY).is_ok());
    }

    #[test]
    fn a_password_containing_the_username_is_refused() {
        let owner = Owner {
            username: Some("johnny"),
            email: None,
        };
        assert_eq!(
            check("JohnnyIsGreat2024", owner).unwrap_err(),
            "must not contain your username"
        );
        assert!(check("johnny1234", owner).is_err());
        assert!(check("correct horse battery", owner).is_ok());
        // Names under four characters are not looked for.
        let short = Owner {
            username: Some("bob"),
            email: None,
        };
        assert!(check("bobsled runs fast", short).is_ok());
    }

    #[test]
    fn a_password_containing_the_email_local_part_is_refused() {
        let owner = Owner {
            username: Some("js"),
            email: Some("John.Smith@example.com"),
        };
        let refused = check("john.smith!2024", owner).unwrap_err();
        assert!(refused.contains("email address"), "{refused}");
        // The domain is not the person's name.
        assert!(check("example.com is my site", owner).is_ok());
    }

    #[test]
    fn length_rules_come_first_and_generated_passwords_pass() {
        assert_eq!(
            check("short", NOBODY).unwrap_err(),
            "must be at least 10 characters"
        );
        assert_eq!(
            NewPassword::generate().unwrap().password().expose().len(),
            24
        );
        assert_eq!(
            format!("{:?}", check("correct horse battery", NOBODY).unwrap()),
            "NewPassword([redacted])"
        );
    }
}
