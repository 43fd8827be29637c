//! The rules of Central Auth: value types that are valid by construction and
//! the services that carry out registration, approval, enrolment, the login
//! flow and administration. Nothing here knows about HTTP or SQL.
//!
//! Which layer a type belongs to: a type lives here when a rule reads or
//! decides something with it (every record, command, outcome and state the
//! services pass to or get from storage); storage keeps only the row structs
//! that mirror its tables, and the edge only the shapes of its answers.

pub mod accounts;
pub mod admins;
pub mod core;
pub mod emails;
pub mod error;
pub mod groups;
pub mod hours;
pub mod idn;
pub mod login;
pub mod model;
pub mod oidc;
pub mod password;
pub mod password_rules;
pub mod rates;
pub mod registration;
pub mod reports;
pub mod schedule;
pub mod sealing;
pub mod secret;
pub mod service_registry;
pub mod session_token;
pub mod signing;
pub mod text;
pub mod throttle;
pub mod types;
pub mod upkeep;
pub mod validation;

pub use self::core::{Core, CoreSettings};
pub use error::{DomainError, FieldError};
