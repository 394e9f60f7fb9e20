//! SQLite storage: connections, transactions, migrations, and one file per table group.
//! Store functions take a connection or a transaction and hold no rules.

pub mod activations;
pub mod audit;
pub mod client_certs;
pub mod db;
pub mod directives;
pub mod enterprise;
pub mod heartbeats;
pub mod installations;
pub mod layout;
pub mod leases;
pub mod licenses;
pub mod migrate;
pub mod provisioning;
pub mod registry;
pub mod sessions;
pub mod settings;
pub mod signing_keys;
pub mod snapshot;
pub mod staff;
pub mod tokens;

use chrono::{DateTime, SecondsFormat, Utc};
use std::path::PathBuf;

pub use db::{Db, ReadTx, WriteTx};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "{path}: database schema version {found} is newer than this licd supports ({supported}); \
         run the licd release that wrote it, or restore a backup made for this release"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{path}: not a licd database (it has tables but no schema version)")]
    Foreign { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A group commit failed: every job in it shares the cause.
    #[error("the transaction did not commit")]
    CommitFailed(#[source] std::sync::Arc<rusqlite::Error>),
    /// A grouped job's result never arrived (the group was dropped).
    #[error("the group commit was abandoned")]
    GroupAbandoned,
    #[error("unreadable value in column {column}: {value:?}")]
    Corrupt { column: &'static str, value: String },
}

impl StoreError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A time as stored: fixed-width UTC text (`2026-06-01T09:00:00.000000Z`) that sorts in
/// time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Reads a stored time back.
pub fn parse_ts(column: &'static str, s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt {
            column,
            value: s.to_owned(),
        })
}

/// Reads an optional stored time back.
pub fn parse_opt_ts(column: &'static str, s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.map(|s| parse_ts(column, &s)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_and_sort() {
        let a = DateTime::from_timestamp(1_800_000_000, 123_456_000).unwrap();
        let b = DateTime::from_timestamp(1_800_000_001, 0).unwrap();
        assert_eq!(parse_ts("t", &ts(a)).unwrap(), a);
        assert!(ts(a) < ts(b));
        assert_eq!(ts(a).len(), ts(b).len());
        assert!(parse_ts("t", "yesterday").is_err());
    }
}
