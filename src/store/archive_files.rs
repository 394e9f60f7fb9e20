//! The files of a deleted tenant: `deleted/<schema_name>-<time>/` holds its database
//! (`tenants/<schema_name>.db`) and its files (`files/<schema_name>/`) at the same
//! relative paths as in the data directory, plus a manifest (written by
//! `service::tenant_archive`). Moving is by rename (same file system, nothing copied),
//! and every step is idempotent: what is already moved is not an error, so a crash
//! half-way is finished by doing it again.

use super::layout::DataDir;
use super::{Result, StoreError};
use std::path::{Path, PathBuf};

/// The directory of all archives, under the data directory.
pub const DELETED: &str = "deleted";

impl DataDir {
    pub fn deleted_dir(&self) -> PathBuf {
        self.root().join(DELETED)
    }

    /// An archive's directory from its path relative to the data directory.
    pub fn archive_dir(&self, archive: &str) -> PathBuf {
        self.root().join(archive)
    }

    /// The paths (relative to the data directory, or to an archive) a tenant's data
    /// lives at: its database with any -wal/-shm beside it, and its files directory.
    fn tenant_paths(schema_name: &str) -> Vec<PathBuf> {
        let db = format!("tenants/{schema_name}.db");
        vec![
            PathBuf::from(&db),
            PathBuf::from(format!("{db}-wal")),
            PathBuf::from(format!("{db}-shm")),
            PathBuf::from(format!("files/{schema_name}")),
        ]
    }

    /// Moves a tenant's database and files into its archive. The database must be
    /// closed; it is first switched to a rollback journal (folding in any WAL), so the
    /// archive holds one self-contained database file that can be checked read-only.
    pub fn move_tenant_to_archive(&self, schema_name: &str, archive: &str) -> Result<()> {
        let db = self.tenant_db(schema_name);
        if db.exists() {
            let conn = rusqlite::Connection::open(&db)?;
            let _mode: String = conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
        }
        let to = self.archive_dir(archive);
        make_private_dir(&self.deleted_dir())?;
        for rel in Self::tenant_paths(schema_name) {
            move_if_there(&self.root().join(&rel), &to.join(&rel))?;
        }
        Ok(())
    }

    /// Moves a tenant's database and files from its archive back into place (the
    /// archive directory itself, with its manifest, stays until `remove_archive`).
    pub fn move_tenant_from_archive(&self, schema_name: &str, archive: &str) -> Result<()> {
        let from = self.archive_dir(archive);
        for rel in Self::tenant_paths(schema_name) {
            move_if_there(&from.join(&rel), &self.root().join(&rel))?;
        }
        Ok(())
    }

    /// Whether a tenant's database or files directory is in place in the data directory.
    pub fn tenant_data_present(&self, schema_name: &str) -> bool {
        Self::tenant_paths(schema_name)
            .iter()
            .any(|rel| self.root().join(rel).exists())
    }

    /// Removes an archive directory and everything in it; what is not there is not an
    /// error.
    pub fn remove_archive(&self, archive: &str) -> Result<()> {
        let dir = self.archive_dir(archive);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::io(&dir, e)),
            _ => Ok(()),
        }
    }
}

fn move_if_there(from: &Path, to: &Path) -> Result<()> {
    if !from.exists() {
        return Ok(());
    }
    if let Some(parent) = to.parent() {
        make_private_dir(parent)?;
    }
    std::fs::rename(from, to).map_err(|e| StoreError::io(to, e))?;
    if let Some(parent) = to.parent() {
        sync_dir(parent)?;
    }
    if let Some(parent) = from.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

fn make_private_dir(dir: &Path) -> Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o750))
                .map_err(|e| StoreError::io(dir, e))?;
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

impl DataDir {
    /// Copies an archive from outside the data directory (a copy kept after a purge,
    /// or one from another server) to `archive` inside it: into a temporary directory
    /// first, renamed into place when whole. `files` are the archive's files relative
    /// to it (its manifest's entries and the manifest).
    pub fn copy_archive_in(&self, from: &Path, archive: &str, files: &[String]) -> Result<()> {
        let to = self.archive_dir(archive);
        if to.exists() {
            return Err(StoreError::io(
                &to,
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "the archive exists"),
            ));
        }
        let tmp = PathBuf::from(format!("{}.copying", to.display()));
        let _ = std::fs::remove_dir_all(&tmp);
        for rel in files {
            let dst = tmp.join(rel);
            if let Some(parent) = dst.parent() {
                make_private_dir(parent)?;
            }
            std::fs::copy(from.join(rel), &dst).map_err(|e| StoreError::io(&dst, e))?;
            std::fs::File::open(&dst)
                .and_then(|f| f.sync_all())
                .map_err(|e| StoreError::io(&dst, e))?;
        }
        make_private_dir(&tmp)?;
        std::fs::rename(&tmp, &to).map_err(|e| StoreError::io(&to, e))?;
        sync_dir(&self.deleted_dir())
    }
}
