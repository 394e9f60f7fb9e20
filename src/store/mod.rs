//! SQLite storage: connections, transactions, migrations, and one file per table group.
//!
//! # The boundary
//!
//! Store functions take a transaction (`&ReadTx` to read, `&WriteTx` to write; a
//! `WriteTx` derefs to a `ReadTx`) and hold no rules. Both transaction types are opaque
//! outside `store/`: only store functions run SQL (`ReadTx::prepare` and friends are
//! private to this module), so `service/` names no rusqlite type and `http/` never
//! reaches the store at all (checked by `the_store_boundary_is_closed` below). Rows are
//! plain data for the service; the API's types live in `service/` and are made from
//! them, so renaming a column never changes the API.
//!
//! # Where licd relies on SQLite's single writer
//!
//! Each database has one writer connection, and every write transaction is
//! `BEGIN IMMEDIATE`: it takes the database's write lock when it begins, so whatever a
//! write transaction reads stays as read until it commits, and write transactions run
//! one after another. The code below leans on that. A backend with concurrent writers
//! (PostgreSQL) must give each of these places a lock (`SELECT ... FOR UPDATE` on the
//! row named, or the lock named), or a conditional write that re-checks what was read:
//!
//! - **Audit chain** (`audit::append`): reads the last entry's id and hash, then writes
//!   `id + 1` chained to that hash. Two writers would both chain to the same entry (a
//!   broken chain, or a key conflict). Needs one lock on the chain head (a one-row
//!   `audit_head` table `FOR UPDATE`, or a transaction-scoped advisory lock) taken by
//!   every transaction that records an audit entry, that is nearly every write.
//! - **License status** (`service::licenses::apply_event` and its callers: activation,
//!   heartbeat, revoke, rebind, suspend, reinstate, subscription, sweep): load the
//!   license (`licenses::find`, `activations::find_by_secret`, `held_credentials::find`,
//!   `client_certs::find_activation`, `licenses::sweep_candidates`), let the domain
//!   decide, write the new status (`licenses::update_status`). Lock the license row
//!   when loading it; take the license lock before any other row of that license.
//! - **Lease chain** (`service::appliance::heartbeat`): the next lease's seq is the
//!   activation's `last_seq + 1` and chains to its `last_lease_hash`
//!   (`leases::record`; kept in the license's `heartbeat_state` row or the activation's
//!   own). Lock the activation row and that state row (covered by locking its license
//!   first).
//! - **Activations and directives of a license**: activation requeues what the old
//!   activation was sent (`directives::requeue_unconfirmed`) and then supersedes it
//!   (`activations::supersede_all`); a lease reads the deliverable directives, then
//!   acknowledges and marks them carried (`directives::deliverable`, `acknowledge`,
//!   `mark_carried`); queueing reads the current activation (`activations::current_id`)
//!   and inserts for it. All run under the license's lock above.
//! - **Group commit** (`Db::write_grouped`, heartbeats): concurrent callers' jobs run
//!   one after another in one transaction, each in a savepoint, on the single writer;
//!   a later job sees an earlier job's writes (two heartbeats of one activation in one
//!   group get seq n and n + 1). With concurrent writers each job would be its own
//!   transaction under the row locks above; the batching itself is SQLite-specific.
//! - **Installations** (`service::installations::reassess`, `sweep`): read the
//!   installation row (`installations::find`), assess, write it back with its events
//!   and stage-change audit (`installations::upsert`, `insert_event`). Heartbeats of
//!   two licenses of one Install ID reassess the same row: lock it (insert a blank row
//!   `ON CONFLICT DO NOTHING`, then `FOR UPDATE`). The sweep reads
//!   `installations.last_sweep` on a reader and works in batches; two sweeps may
//!   overlap and re-assess the same installations (which changes nothing the second
//!   time). The setting only moves forward (`installations::set_last_sweep` keeps the
//!   later instant), so an overlap costs work, never a skipped period.
//! - **licd's own license** (`service::enterprise`): the recorded state (setting
//!   `enterprise.state`) is read, re-assessed and written back; removing a license
//!   first checks that another valid one remains. Lock the settings row (and the
//!   `enterprise_licenses` rows for removal).
//! - **Staff**: the last enabled super_admin check (`staff::count_enabled_super_admins`,
//!   then a role change or disable) and the first admin (`staff::count`, then insert,
//!   `service::bootstrap`) are check-then-write: lock the super_admins' rows (or run
//!   the transaction `SERIALIZABLE`). Creating an account checks the email first; the
//!   unique index still refuses a duplicate, but as an internal error.
//! - **Provisioning tokens** (`service::provisioning::provision`): reads `uses`, checks
//!   it is below `max_uses`, then `provisioning::add_use`. Lock the token row, or make
//!   the update conditional (`... WHERE uses < max_uses`) and refuse when it changes no
//!   row.
//! - **Signing keys** (`signing_keys::insert_active`): demotes the active key and
//!   inserts the new one in two statements; one active key at a time holds only if
//!   rotations do not overlap (lock the table, or a partial unique index on the active
//!   status).
//! - **Ids**: new rows take `last_insert_rowid()` (use `RETURNING id`), and ids grow in
//!   commit order: `heartbeats::prune` deletes below the first recent id
//!   (`heartbeats::first_kept`), and the audit log's cursor is an id. Sequences under
//!   concurrent writers are not in commit order; prune by time (with an index on `at`)
//!   there.
//!
//! Beyond the database, one licd process is assumed: each `service::tenant::Tenant`
//! keeps its signing keys, licensing settings and own stage in memory, and login
//! throttling counts in memory (`service::throttle`). Several processes on one
//! database would need those shared or reloaded.

pub mod activations;
pub mod archive_files;
pub mod audit;
pub mod billing_accounts;
mod checkpoint;
pub mod client_certs;
pub mod customer_links;
pub mod customer_sessions;
pub mod customers;
pub mod data_lock;
pub mod db;
pub mod directives;
pub mod enterprise;
pub mod fleet;
mod heard;
pub mod heartbeats;
mod held_assessments;
pub mod held_credentials;
pub mod id_set;
pub mod installations;
pub mod invitations;
pub mod invoices;
pub mod layout;
pub mod leases;
pub mod license_bundles;
pub mod license_keys;
pub mod licenses;
pub mod migrate;
pub mod offline_activations;
pub mod organizations;
pub mod outbox;
mod packed_token;
pub mod payments;
pub mod price_list;
pub mod provisioning;
pub mod recovery_keys;
pub mod registry;
pub mod revenue;
pub mod sessions;
pub mod settings;
pub mod signing_keys;
pub mod snapshot;
pub mod staff;
pub mod subscription_invoices;
pub mod subscriptions;
pub mod sweep_due;
pub mod tenant_archives;
pub mod tenant_domains;
pub mod tenant_schedule;
pub mod tokens;
pub mod usage_reports;

use chrono::{DateTime, SecondsFormat, Utc};
use std::path::PathBuf;

pub use db::{Db, ReadTx, WriteTx, wal_path};

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
/// time order. The times of licenses and their state rows, license keys, activations and
/// installations are [`micros`] instead (tenant steps 24, 25 and 22).
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The day of a time in days since the Unix epoch (UTC), as `heartbeat_state.seen_day`
/// holds the day of `last_seen_at` (tenant step 25: `last_seen_at / 86400000000`, the
/// same for any time after 1970). The index of active licenses by when they were
/// heard from holds this day, which a heartbeat changes once a day at most; a query
/// asks for the days up to its instant's and then for the exact instant.
pub fn day(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(86_400)
}

/// A time as licenses (tenant step 24) and their state rows (step 25), license keys,
/// activations and installations (step 22) hold it: microseconds since the Unix epoch,
/// 8 bytes where the text of [`ts`] takes 27, in the same order. A query on those
/// columns binds this: the text would compare greater than every integer.
pub fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// Reads a time [`micros`] stored back.
pub fn from_micros(column: &'static str, v: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(v).ok_or_else(|| StoreError::Corrupt {
        column,
        value: format!("{v} microseconds: not a time"),
    })
}

/// Reads an optional time [`micros`] stored back.
pub fn from_opt_micros(column: &'static str, v: Option<i64>) -> Result<Option<DateTime<Utc>>> {
    v.map(|v| from_micros(column, v)).transpose()
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
    fn micros_round_trip_and_sort_as_the_text_does() {
        let a = DateTime::from_timestamp(1_800_000_000, 123_456_000).unwrap();
        let b = DateTime::from_timestamp(1_800_000_001, 0).unwrap();
        let before_1970 = DateTime::from_timestamp(-1, 500_000_000).unwrap();
        for t in [a, b, before_1970] {
            assert_eq!(from_micros("t", micros(t)).unwrap(), t);
            assert_eq!(
                from_micros("t", micros(t)).unwrap(),
                parse_ts("t", &ts(t)).unwrap()
            );
        }
        assert!(micros(before_1970) < micros(a) && micros(a) < micros(b));
        // Finer than a microsecond is cut, as the text cuts it.
        let fine = DateTime::from_timestamp(1_800_000_000, 123_456_789).unwrap();
        assert_eq!(
            from_micros("t", micros(fine)).unwrap(),
            parse_ts("t", &ts(fine)).unwrap()
        );
        assert!(from_micros("t", i64::MAX).is_err());
    }

    #[test]
    fn timestamps_round_trip_and_sort() {
        let a = DateTime::from_timestamp(1_800_000_000, 123_456_000).unwrap();
        let b = DateTime::from_timestamp(1_800_000_001, 0).unwrap();
        assert_eq!(parse_ts("t", &ts(a)).unwrap(), a);
        assert!(ts(a) < ts(b));
        assert_eq!(ts(a).len(), ts(b).len());
        assert!(parse_ts("t", "yesterday").is_err());
    }

    /// Every `.rs` file under `src/<dir>`, with its text.
    fn sources(dir: &str) -> Vec<(std::path::PathBuf, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    out.push((path, text));
                }
            }
        }
        let mut out = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src")
                .join(dir),
            &mut out,
        );
        assert!(!out.is_empty(), "no sources under src/{dir}");
        out
    }

    /// The boundary a second backend relies on, checked on the sources: only `store/`
    /// names rusqlite; the HTTP layer never reaches the store; store rows are not API
    /// types (the API's own types live in `service/`).
    #[test]
    fn the_store_boundary_is_closed() {
        for dir in ["service", "http", "domain"] {
            for (path, text) in sources(dir) {
                assert!(
                    !text.contains("rusqlite::") && !text.contains("use rusqlite"),
                    "{} names rusqlite",
                    path.display()
                );
            }
        }
        for (path, text) in sources("http") {
            assert!(
                !text.contains("crate::store"),
                "{} reaches into the store; call a service function",
                path.display()
            );
        }
        for (path, text) in sources("store") {
            for line in text
                .lines()
                .filter(|l| l.trim_start().starts_with("#[derive("))
            {
                assert!(
                    !line.contains("ToSchema") && !line.contains("Serialize"),
                    "{}: a store row derives an API trait: {line}",
                    path.display()
                );
            }
        }
    }
}
