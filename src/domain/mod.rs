//! The rules of Central Auth: value types that are valid by construction and
//! the services that carry out registration, approval, enrolment and
//! administration. Nothing here knows about HTTP or SQL.

pub mod accounts;
pub mod admins;
pub mod core;
pub mod error;
pub mod hours;
pub mod login;
pub mod model;
pub mod password;
pub mod registration;
pub mod reports;
pub mod schedule;
pub mod secret;
pub mod service_registry;
pub mod session_token;
pub mod signing;
pub mod types;
pub mod validation;

pub use self::core::{Core, CoreSettings};
pub use error::{DomainError, FieldError};
