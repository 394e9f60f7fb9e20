//! Upgrades that carry data (issue 11, item 3). The schema steps under
//! `src/store/migrations/` never change once released; these tests hold them to it:
//!
//! - `steps`: each step, run on a database of the version before it that holds rows in
//!   that version's shape, then upgraded to today's version: the rows are still there and
//!   the step did what it says.
//! - `schema_files`: `schema.sql` and `src/store/registry.sql` are what the steps make
//!   (`UPDATE_SCHEMA=1 cargo test --test it migrations::` rewrites them), the step files
//!   are numbered without gaps, and each released step keeps its SHA-256.
//! - `release_fixtures`: a data directory made by each release (`tests/fixtures/`) opens
//!   in today's licd, is upgraded, and still serves its staff, licenses and appliances.

mod release_fixtures;
mod schema_files;
mod steps;

use rusqlite::Connection;
use std::path::Path;

pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// An empty database that enforces foreign keys, as `Db::open` has it when it migrates.
pub fn empty() -> Connection {
    let c = Connection::open_in_memory().unwrap();
    c.pragma_update(None, "foreign_keys", true).unwrap();
    c
}

/// One object of a schema as SQLite stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub kind: String,
    pub name: String,
    pub table: String,
    pub sql: String,
}

/// Every table, index, trigger and view, in the order they were made (SQLite's own
/// `sqlite_autoindex_*` have no SQL and are left out).
pub fn objects(c: &Connection) -> Vec<Object> {
    c.prepare(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid",
    )
    .unwrap()
    .query_map([], |r| {
        Ok(Object {
            kind: r.get(0)?,
            name: r.get(1)?,
            table: r.get(2)?,
            sql: r.get(3)?,
        })
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

pub fn user_version(path: &Path) -> i64 {
    let c = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    c.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}
