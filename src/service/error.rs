use crate::domain::DomainError;
use crate::error::{ErrorCode, Problem};
use crate::store::StoreError;

/// What a use case can fail with. Refusals carry the user's message; storage and
/// internal failures carry the cause for the log and show the user a generic problem.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Refused(Problem),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
    /// licd cannot start with what it found on disk (named in the message).
    #[error("{0}")]
    Startup(String),
}

impl ServiceError {
    /// The problem the caller sees. Internal causes are not revealed.
    pub fn problem(&self) -> Problem {
        match self {
            ServiceError::Refused(p) => p.clone(),
            ServiceError::Domain(d) => d.problem(),
            ServiceError::Store(StoreError::TooNew { .. } | StoreError::Foreign { .. }) => {
                Problem::new(
                    ErrorCode::Unavailable,
                    "the database is not usable by this licd release",
                )
            }
            ServiceError::Store(_) | ServiceError::Internal(_) | ServiceError::Startup(_) => {
                Problem::new(
                    ErrorCode::Internal,
                    "licd could not complete the request; the server log has the cause",
                )
            }
        }
    }

    /// Whether this is licd's fault (logged at error level) rather than the caller's.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            ServiceError::Store(_) | ServiceError::Internal(_) | ServiceError::Startup(_)
        )
    }
}

/// A refusal with its code and a sentence for the user.
pub fn refuse(code: ErrorCode, detail: impl Into<String>) -> ServiceError {
    ServiceError::Refused(Problem::new(code, detail))
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
