//! Consistent copies of a live database with SQLite's online backup API: one step over
//! all pages inside one read transaction, so the copy is the database as of one
//! commit while the server keeps writing (WAL readers do not block the writer).

use super::Result;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

fn open_read_only(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

/// Copies the database at `src` into a new file `dst` (which must not exist).
pub fn copy(src: &Path, dst: &Path) -> Result<()> {
    let source = open_read_only(src)?;
    let mut target = Connection::open(dst)?;
    {
        let backup = Backup::new(&source, &mut target)?;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                // Another connection holds a lock for a moment: wait and go on.
                StepResult::Busy | StepResult::Locked => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                StepResult::More => {}
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
    // A self-contained file: no -wal beside it.
    target.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}

/// `PRAGMA quick_check` and the schema version of a database file.
pub fn check(path: &Path) -> Result<(String, i64)> {
    let conn = open_read_only(path)?;
    let ok: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok((ok, version))
}
