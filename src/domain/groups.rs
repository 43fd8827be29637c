//! The groups an admin gives a user: what the OIDC `groups` claim says, so
//! an app can map them to its roles (e.g. Grafana's `admins` → Admin).
//! Nothing is a group by default: a user is in a group only because an
//! admin put them there.

use crate::domain::model::Admin;
use crate::domain::types::UserId;
use crate::domain::validation::Validation;
use crate::domain::{Core, DomainError, FieldError};

/// A group name: 1–64 of lowercase ASCII letters, digits, `-`, `_`, `.`,
/// so it reads the same in every app's configuration language (JMESPath,
/// YAML, shell).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupName(String);

/// Groups one user may be in at most.
pub const MAX_GROUPS: usize = 50;

impl GroupName {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let ok = (1..=64).contains(&raw.len())
            && raw.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
            });
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                field,
                "must be 1-64 lowercase letters, digits, '-', '_' or '.'",
            ))
        }
    }

    /// Every name of a list, each once (sorted), or every broken rule.
    pub fn parse_list(raw: &[String]) -> Result<Vec<Self>, DomainError> {
        let mut v = Validation::default();
        let mut broken = false;
        if raw.len() > MAX_GROUPS {
            v.check::<()>(Err(FieldError::new(
                "groups",
                format!("at most {MAX_GROUPS} groups"),
            )));
            broken = true;
        }
        let mut names = Vec::new();
        for (i, name) in raw.iter().enumerate() {
            match v.check(Self::parse(&format!("groups[{i}]"), name)) {
                Some(name) => names.push(name),
                None => broken = true,
            }
        }
        if broken {
            return Err(v.into_error());
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Core {
    /// The groups of an approved user.
    pub async fn user_groups(&self, user_id: &UserId) -> Result<Vec<String>, DomainError> {
        if self.db.find_user(user_id).await?.is_none() {
            return Err(DomainError::UserNotFound);
        }
        Ok(self.db.user_groups(user_id).await?)
    }

    /// Replaces the groups of an approved user; their next ID token and
    /// userinfo say so.
    pub async fn set_user_groups(
        &self,
        user_id: &UserId,
        groups: Vec<GroupName>,
        admin: &Admin,
    ) -> Result<Vec<String>, DomainError> {
        if self.db.find_user(user_id).await?.is_none() {
            return Err(DomainError::UserNotFound);
        }
        self.db.replace_user_groups(user_id, &groups).await?;
        tracing::info!(%user_id, admin = %admin.username, count = groups.len(), "user groups set");
        Ok(groups.into_iter().map(|g| g.0).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_are_plain_lowercase_and_each_once() {
        let names =
            GroupName::parse_list(&["admins".into(), "ops.team".into(), "admins".into()]).unwrap();
        let names: Vec<&str> = names.iter().map(GroupName::as_str).collect();
        assert_eq!(names, ["admins", "ops.team"]);
        assert!(GroupName::parse("g", "Admins").is_err());
        assert!(GroupName::parse("g", "").is_err());
        assert!(GroupName::parse("g", "a b").is_err());
        assert!(GroupName::parse_list(&vec!["x".to_owned(); 51]).is_err());
    }
}
