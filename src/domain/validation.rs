//! Collecting the field errors of one request, so the client hears about
//! all of them at once rather than one per attempt.

use crate::domain::{DomainError, FieldError};

/// Collects the field errors of one request, so the client hears about all
/// of them at once.
#[derive(Debug, Default)]
pub struct Validation {
    errors: Vec<FieldError>,
}

impl Validation {
    /// Keeps the value, or records why it was refused.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// Takes the field errors of a result that may carry several; any other
    /// error is passed on.
    pub fn merge<T>(&mut self, result: Result<T, DomainError>) -> Result<Option<T>, DomainError> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(DomainError::Validation(errors)) => {
                self.errors.extend(errors);
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    /// The error to answer with once a value turned out missing.
    pub fn into_error(self) -> DomainError {
        DomainError::Validation(self.errors)
    }
}

/// A field that must be present.
pub fn required<T>(field: &str, value: Option<T>) -> Result<T, FieldError> {
    value.ok_or_else(|| FieldError::new(field, "is required"))
}
