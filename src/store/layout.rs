//! The data directory's layout:
//!
//! ```text
//! registry.db            tenants and domains
//! template.db            the schema steps applied, no data; new tenants are copies of it
//! tenants/<schema>.db    one per tenant, public.db first
//! files/<schema>/        per-tenant files
//! keys/                  key-encryption key (0600)
//! ca/                    local certificate authority
//! ```

use super::db::{Db, DbOptions, set_page_size};
use super::migrate::TENANT;
use super::{Result, StoreError};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn registry_db(&self) -> PathBuf {
        self.root.join("registry.db")
    }

    pub fn template_db(&self) -> PathBuf {
        self.root.join("template.db")
    }

    pub fn tenant_db(&self, schema_name: &str) -> PathBuf {
        self.root.join("tenants").join(format!("{schema_name}.db"))
    }

    pub fn tenant_files(&self, schema_name: &str) -> PathBuf {
        self.root.join("files").join(schema_name)
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }

    pub fn ca_dir(&self) -> PathBuf {
        self.root.join("ca")
    }

    /// Whether licd has initialised this directory (the registry exists).
    pub fn is_initialized(&self) -> bool {
        self.registry_db().exists()
    }

    /// Creates the directory tree; directories are 0750, `keys/` and `ca/` 0700.
    pub fn create_dirs(&self) -> Result<()> {
        for (dir, mode) in [
            (self.root.clone(), 0o750),
            (self.root.join("tenants"), 0o750),
            (self.root.join("files"), 0o750),
            (self.keys_dir(), 0o700),
            (self.ca_dir(), 0o700),
        ] {
            make_dir(&dir, mode)?;
        }
        Ok(())
    }

    /// Makes `template.db` anew from the schema steps (it holds no data, so rebuilding it
    /// is always safe and keeps it at the binary's schema version). Rollback journal, not
    /// WAL, so that a plain file copy of it is consistent.
    pub fn rebuild_template(&self) -> Result<()> {
        let path = self.template_db();
        let tmp = path.with_extension("db.tmp");
        let _ = std::fs::remove_file(&tmp);
        {
            let mut conn = rusqlite::Connection::open(&tmp)?;
            set_page_size(&conn)?;
            super::migrate::bring_up_to_date(&mut conn, &TENANT, &tmp)?;
            conn.pragma_update(None, "journal_mode", "DELETE")?;
        }
        set_mode(&tmp, 0o600)?;
        std::fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, e))
    }

    /// Creates a tenant's database as a copy of the template, then opens it.
    pub fn create_tenant_db(&self, schema_name: &str, opts: DbOptions) -> Result<Db> {
        let path = self.tenant_db(schema_name);
        if !path.exists() {
            let tmp = path.with_extension("db.tmp");
            std::fs::copy(self.template_db(), &tmp).map_err(|e| StoreError::io(&tmp, e))?;
            set_mode(&tmp, 0o600)?;
            std::fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, e))?;
        }
        make_dir(&self.tenant_files(schema_name), 0o750)?;
        Db::open(&path, &TENANT, opts)
    }
}

impl DataDir {
    /// Opens an existing tenant's database (bringing its schema up to date: tenants are
    /// upgraded when they are opened, each by its own `user_version`). A missing file is
    /// an error, never silently replaced by an empty copy of the template.
    pub fn open_tenant_db(&self, schema_name: &str, opts: DbOptions) -> Result<Db> {
        let path = self.tenant_db(schema_name);
        if !path.exists() {
            return Err(StoreError::io(
                &path,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the tenant is ready in the registry but its database is missing",
                ),
            ));
        }
        Db::open(&path, &TENANT, opts)
    }

    /// Removes what a tenant's creation may have left: its database (with its WAL and
    /// shared-memory files and a half-copied template) and its files directory.
    /// Idempotent: what is not there is not an error. The database must be closed.
    pub fn remove_tenant_data(&self, schema_name: &str) -> Result<()> {
        let db = self.tenant_db(schema_name);
        let mut paths = vec![db.clone(), db.with_extension("db.tmp")];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut p = db.clone().into_os_string();
            p.push(suffix);
            paths.push(PathBuf::from(p));
        }
        for p in paths {
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(StoreError::io(&p, e));
                }
                _ => {}
            }
        }
        let files = self.tenant_files(schema_name);
        match std::fs::remove_dir_all(&files) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::io(&files, e)),
            _ => Ok(()),
        }
    }
}

fn make_dir(dir: &Path, mode: u32) -> Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        set_mode(dir, mode)?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| StoreError::io(path, e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}
