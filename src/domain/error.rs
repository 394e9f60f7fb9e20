use crate::error::{ErrorCode, Problem};

/// A rule refused an input. Always the caller's doing, never licd's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field's value is not acceptable; the message names the field.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl DomainError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn problem(&self) -> Problem {
        match self {
            DomainError::Invalid { .. } => {
                Problem::new(ErrorCode::ValidationFailed, self.to_string())
            }
        }
    }
}
