use crate::domain::DomainError;
use crate::error::{ErrorCode, Problem};
use crate::store::StoreError;
use std::error::Error;
use std::fmt;

/// Any error kept as the cause of another.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// What a use case can fail with. Refusals carry the user's message; storage and
/// internal failures keep their cause (`source()`) for the log and show the user a
/// generic problem.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Refused(Problem),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// licd failed inside: what it was doing, and the error that made it fail (none
    /// when licd found something that should not be).
    #[error("{context}")]
    Internal {
        context: String,
        #[source]
        source: Option<BoxError>,
    },
    /// licd cannot start with what it found on disk (named in `context`).
    #[error("{context}")]
    Startup {
        context: String,
        #[source]
        source: Option<BoxError>,
    },
}

impl ServiceError {
    /// licd failed while doing `context` because of `source`.
    pub fn internal(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        ServiceError::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// licd found something that should not be (no other error caused it).
    pub fn unexpected(context: impl Into<String>) -> Self {
        ServiceError::Internal {
            context: context.into(),
            source: None,
        }
    }

    /// licd cannot start: `context` names what it could not use, `source` why.
    pub fn startup(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        ServiceError::Startup {
            context: context.into(),
            source: Some(source.into()),
        }
    }

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
            ServiceError::Store(_)
            | ServiceError::Internal { .. }
            | ServiceError::Startup { .. } => Problem::new(
                ErrorCode::Internal,
                "licd could not complete the request; the server log has the cause",
            ),
        }
    }

    /// Whether this is licd's fault (logged at error level) rather than the caller's.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            ServiceError::Store(_) | ServiceError::Internal { .. } | ServiceError::Startup { .. }
        )
    }

    /// The error with its causes, for the log: `context: cause: cause's cause`.
    pub fn report(&self) -> Report<'_> {
        Report(self)
    }
}

/// Shows an error followed by each of its causes (`ServiceError::report`). A cause
/// whose text the message before it already ends with is not repeated.
#[derive(Debug)]
pub struct Report<'a>(&'a (dyn Error + 'static));

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.to_string();
        f.write_str(&shown)?;
        let mut next = self.0.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            if !shown.ends_with(&text) {
                write!(f, ": {text}")?;
            }
            shown = text;
            next = cause.source();
        }
        Ok(())
    }
}

/// A refusal with its code and a sentence for the user.
pub fn refuse(code: ErrorCode, detail: impl Into<String>) -> ServiceError {
    ServiceError::Refused(Problem::new(code, detail))
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_keep_their_cause_and_show_the_user_nothing_of_it() {
        let cause = serde_json::from_str::<u32>("{").unwrap_err();
        let cause_text = cause.to_string();
        let e = ServiceError::internal("reading the stored state", cause);
        let source = e.source().expect("the cause is kept");
        assert_eq!(source.to_string(), cause_text);
        assert_eq!(
            e.report().to_string(),
            format!("reading the stored state: {cause_text}")
        );
        let p = e.problem();
        assert_eq!(p.code, ErrorCode::Internal);
        assert!(!p.detail.contains(&cause_text));
        assert!(!p.detail.contains("stored state"));
    }

    #[test]
    fn store_causes_are_reported_once() {
        let io = std::io::Error::other("disk on fire");
        let e = ServiceError::from(StoreError::io("/data/tenants/public.db", io));
        let report = e.report().to_string();
        assert_eq!(report, "/data/tenants/public.db: disk on fire");
        assert!(e.source().is_some());
        assert!(e.is_internal());
    }
}
