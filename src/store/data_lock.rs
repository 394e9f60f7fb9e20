//! Who works on a data directory: `licd serve` holds an exclusive lock on `licd.lock`
//! in it while it serves, and the commands that change what the server keeps in
//! memory (`licd tenant create | rename | delete | restore | purge`) take the same lock,
//! so they refuse to run beside a server (use the tenancy API then) and two of them
//! never run at once. Commands that only touch databases (`admin`, `backup`) need no
//! lock: SQLite serialises them. An advisory `flock`: the kernel drops it when the
//! holder exits, so a crash leaves no stale lock behind.

use super::layout::DataDir;
use super::{Result, StoreError};
use std::fs::{File, TryLockError};

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "licd.lock";

/// Held while it lives.
#[derive(Debug)]
pub struct DataLock {
    _file: File,
}

impl DataDir {
    /// Takes the data directory's lock, or says it is taken (`None`): another licd
    /// serves it or changes its tenants now.
    pub fn try_lock(&self) -> Result<Option<DataLock>> {
        let path = self.root().join(LOCK_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(DataLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(StoreError::io(&path, e)),
        }
    }
}
