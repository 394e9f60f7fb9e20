//! Online backup and restore of a data directory: every database through SQLite's
//! online backup API (the server keeps serving writes), the key-encryption key, the
//! local CA and per-tenant files, with a manifest of SHA-256 checksums that restore and
//! `--verify` check. A backup holds private keys: store it like one.

use crate::store::layout::DataDir;
use crate::store::snapshot;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "manifest.json";
const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path}: {why}")]
    File { path: PathBuf, why: String },
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Corrupt(String),
}

fn file_err(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::File {
        path: path.to_owned(),
        why: e.to_string(),
    }
}

fn store_err(path: &Path) -> impl FnOnce(crate::store::StoreError) -> BackupError + '_ {
    move |e| BackupError::File {
        path: path.to_owned(),
        why: e.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Database,
    Key,
    File,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Relative to the data directory, `/`-separated.
    pub path: String,
    pub kind: EntryKind,
    pub bytes: u64,
    pub sha256: String,
    /// A database's schema version (`PRAGMA user_version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub licd_version: String,
    pub created_at: DateTime<Utc>,
    pub source: String,
    pub entries: Vec<Entry>,
}

impl Manifest {
    pub fn total_bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.bytes).sum()
    }
}

/// Where a long backup or restore reports how far it got.
pub trait Progress {
    fn begin(&self, what: &str, total_bytes: u64);
    fn done(&self, path: &str, bytes: u64);
    fn end(&self);
}

/// Reports nothing.
#[derive(Debug, Default)]
pub struct Quiet;

impl Progress for Quiet {
    fn begin(&self, _: &str, _: u64) {}
    fn done(&self, _: &str, _: u64) {}
    fn end(&self) {}
}

/// Reads `from` to the end, writing it to `to` on the way: its size and SHA-256.
fn hash_copy(
    from: &mut impl Read,
    to: &mut impl std::io::Write,
    path: &Path,
) -> Result<(u64, String), BackupError> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = from.read(&mut buf).map_err(file_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n]).map_err(file_err(path))?;
        total += n as u64;
    }
    Ok((total, hex::encode(hasher.finalize())))
}

fn sha256_file(path: &Path) -> Result<(u64, String), BackupError> {
    let mut f = std::fs::File::open(path).map_err(file_err(path))?;
    hash_copy(&mut f, &mut std::io::sink(), path)
}

fn private_dir(path: &Path) -> Result<(), BackupError> {
    std::fs::create_dir_all(path).map_err(file_err(path))?;
    set_mode(path, 0o700)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(file_err(path))?;
    }
    Ok(())
}

/// Files under `dir` (recursively), relative to `root`, in a stable order.
fn files_under(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), BackupError> {
    if !dir.exists() {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(file_err(dir))?
        .collect::<Result<_, _>>()
        .map_err(file_err(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let meta = std::fs::symlink_metadata(&p).map_err(file_err(&p))?;
        if meta.file_type().is_symlink() {
            return Err(BackupError::Refused(format!(
                "{} is a symbolic link; licd backs up and restores only plain files",
                p.display()
            )));
        }
        if meta.is_dir() {
            files_under(root, &p, out)?;
        } else if let Ok(rel) = p.strip_prefix(root) {
            out.push(rel.to_owned());
        }
    }
    Ok(())
}

fn rel_string(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// What to back up: the registry, every tenant database, the KEK and CA, tenant files.
fn plan(data: &DataDir) -> Result<Vec<(PathBuf, EntryKind)>, BackupError> {
    let root = data.root();
    let registry = data.registry_db();
    if !registry.exists() {
        return Err(BackupError::Refused(format!(
            "{} holds no licd data (no registry.db)",
            root.display()
        )));
    }
    let mut plan = vec![(PathBuf::from("registry.db"), EntryKind::Database)];
    let mut tenants = Vec::new();
    files_under(root, &root.join("tenants"), &mut tenants)?;
    plan.extend(
        tenants
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "db"))
            .map(|p| (p, EntryKind::Database)),
    );
    // Deleted tenants' archives (`deleted/`) are kept until purged, so they are part
    // of the data: plain files (each archive's database is closed, self-contained).
    for (dir, kind) in [
        ("keys", EntryKind::Key),
        ("ca", EntryKind::Key),
        ("files", EntryKind::File),
        ("deleted", EntryKind::File),
    ] {
        let mut found = Vec::new();
        files_under(root, &root.join(dir), &mut found)?;
        plan.extend(
            found
                .into_iter()
                .filter(|p| !p.to_string_lossy().ends_with(".new"))
                .map(|p| (p, kind)),
        );
    }
    Ok(plan)
}

/// Backs up the data directory into `out`, a new directory (mode 0700; files 0600).
pub fn backup(
    data: &DataDir,
    out: &Path,
    now: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<Manifest, BackupError> {
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(file_err(out))?
            .next()
            .is_some()
    {
        return Err(BackupError::Refused(format!(
            "{} exists and is not empty; give a new directory",
            out.display()
        )));
    }
    let plan = plan(data)?;
    let estimate: u64 = plan
        .iter()
        .map(|(p, _)| std::fs::metadata(data.root().join(p)).map_or(0, |m| m.len()))
        .sum();
    private_dir(out)?;
    progress.begin("backing up", estimate);
    let mut entries = Vec::new();
    for (rel, kind) in plan {
        let (src, dst) = (data.root().join(&rel), out.join(&rel));
        if let Some(parent) = dst.parent() {
            private_dir(parent)?;
        }
        let schema_version = match kind {
            EntryKind::Database => {
                snapshot::copy(&src, &dst).map_err(store_err(&src))?;
                Some(snapshot::check(&dst).map_err(store_err(&dst))?.1)
            }
            _ => {
                std::fs::copy(&src, &dst).map_err(file_err(&src))?;
                None
            }
        };
        set_mode(&dst, 0o600)?;
        let (bytes, sha256) = sha256_file(&dst)?;
        progress.done(&rel_string(&rel), bytes);
        entries.push(Entry {
            path: rel_string(&rel),
            kind,
            bytes,
            sha256,
            schema_version,
        });
    }
    let manifest = Manifest {
        format: FORMAT,
        licd_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now,
        source: data.root().display().to_string(),
        entries,
    };
    let path = out.join(MANIFEST);
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| BackupError::Corrupt(format!("manifest: {e}")))?;
    std::fs::write(&path, json).map_err(file_err(&path))?;
    set_mode(&path, 0o600)?;
    progress.end();
    Ok(manifest)
}

/// The manifest of the files already in `dir` (every file under it but the manifest):
/// sizes and checksums, `.db` files as databases with their schema version. A deleted
/// tenant's archive is described by this, so `verify` checks it like a backup.
pub fn manifest_of(dir: &Path, source: &str, now: DateTime<Utc>) -> Result<Manifest, BackupError> {
    let mut found = Vec::new();
    files_under(dir, dir, &mut found)?;
    let mut entries = Vec::new();
    for rel in found {
        let path = rel_string(&rel);
        if path == MANIFEST {
            continue;
        }
        let full = dir.join(&rel);
        let is_db = rel.extension().is_some_and(|e| e == "db");
        let schema_version = if is_db {
            Some(snapshot::check(&full).map_err(store_err(&full))?.1)
        } else {
            None
        };
        let (bytes, sha256) = sha256_file(&full)?;
        entries.push(Entry {
            path,
            kind: if is_db {
                EntryKind::Database
            } else {
                EntryKind::File
            },
            bytes,
            sha256,
            schema_version,
        });
    }
    Ok(Manifest {
        format: FORMAT,
        licd_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now,
        source: source.to_owned(),
        entries,
    })
}

/// Writes `manifest` (a `Manifest`, or one with more fields beside it) as `dir`'s
/// manifest, atomically (a temporary file renamed into place) and synced: a manifest
/// is there whole or not at all.
pub fn write_manifest(dir: &Path, manifest: &impl Serialize) -> Result<(), BackupError> {
    let path = dir.join(MANIFEST);
    let tmp = dir.join(format!("{MANIFEST}.tmp"));
    let json = serde_json::to_vec_pretty(manifest)
        .map_err(|e| BackupError::Corrupt(format!("manifest: {e}")))?;
    std::fs::write(&tmp, json).map_err(file_err(&tmp))?;
    set_mode(&tmp, 0o600)?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(file_err(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(file_err(&path))?;
    sync_dir(dir)
}

fn read_manifest(dir: &Path) -> Result<Manifest, BackupError> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read(&path).map_err(file_err(&path))?;
    let m: Manifest = serde_json::from_slice(&text)
        .map_err(|e| BackupError::Corrupt(format!("{}: {e}", path.display())))?;
    if m.format != FORMAT {
        return Err(BackupError::Corrupt(format!(
            "{}: backup format {} is not one this licd reads ({FORMAT})",
            path.display(),
            m.format
        )));
    }
    Ok(m)
}

/// Checks a backup without restoring it: every file the manifest lists is there with its
/// size and checksum, nothing else is, and every database passes `quick_check`.
pub fn verify(dir: &Path, progress: &dyn Progress) -> Result<Manifest, BackupError> {
    let m = read_manifest(dir)?;
    progress.begin("verifying", m.total_bytes());
    for e in &m.entries {
        let top = e.path.split('/').next().unwrap_or_default();
        if e.path.split('/').any(|c| c == ".." || c.is_empty())
            || e.path.starts_with('/')
            || !["registry.db", "tenants", "files", "keys", "ca", "deleted"].contains(&top)
        {
            return Err(BackupError::Corrupt(format!(
                "the manifest names a path outside the backup: {}",
                e.path
            )));
        }
        let path = dir.join(&e.path);
        let (bytes, sha) = sha256_file(&path)?;
        if bytes != e.bytes || sha != e.sha256 {
            return Err(BackupError::Corrupt(format!(
                "{}: checksum does not match the manifest (the file was changed or truncated)",
                path.display()
            )));
        }
        if e.kind == EntryKind::Database {
            let (ok, _) = snapshot::check(&path).map_err(store_err(&path))?;
            if ok != "ok" {
                return Err(BackupError::Corrupt(format!(
                    "{}: database check failed: {ok}",
                    path.display()
                )));
            }
        }
        progress.done(&e.path, e.bytes);
    }
    let mut present = Vec::new();
    files_under(dir, dir, &mut present)?;
    for p in present {
        let rel = rel_string(&p);
        if rel != MANIFEST && !m.entries.iter().any(|e| e.path == rel) {
            return Err(BackupError::Corrupt(format!(
                "{}: not in the manifest",
                dir.join(p).display()
            )));
        }
    }
    progress.end();
    Ok(m)
}

/// Copies `src` to a new file `dst` (0600), hashing what was written and syncing it.
fn copy_checked(src: &Path, dst: &Path, e: &Entry) -> Result<(), BackupError> {
    let mut from = std::fs::File::open(src).map_err(file_err(src))?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut to = opts.open(dst).map_err(file_err(dst))?;
    let (total, sha256) = hash_copy(&mut from, &mut to, dst)?;
    to.sync_all().map_err(file_err(dst))?;
    if total != e.bytes || sha256 != e.sha256 {
        return Err(BackupError::Corrupt(format!(
            "{}: changed while it was being restored",
            src.display()
        )));
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(file_err(dir))
}

/// Restores a verified backup into `data`, which must be empty or not exist: a data
/// directory in use is never overwritten. Files are written (hashed again and synced)
/// into `.restoring/` inside it, then moved into place, `registry.db` last: a data dir
/// without it is never mistaken for a live one.
pub fn restore(
    backup: &Path,
    data: &DataDir,
    progress: &dyn Progress,
) -> Result<Manifest, BackupError> {
    let target = data.root();
    if target.exists() {
        let live = target.join("registry.db").exists();
        let empty = std::fs::read_dir(target)
            .map_err(file_err(target))?
            .next()
            .is_none();
        if live {
            return Err(BackupError::Refused(format!(
                "{} is a live data directory (it has registry.db); restore into an empty or new directory",
                target.display()
            )));
        }
        if !empty {
            return Err(BackupError::Refused(format!(
                "{} is not empty; restore into an empty or new directory",
                target.display()
            )));
        }
    }
    let m = verify(backup, &Quiet)?;
    std::fs::create_dir_all(target).map_err(file_err(target))?;
    set_mode(target, 0o750)?;
    let staging = target.join(".restoring");
    std::fs::create_dir(&staging).map_err(file_err(&staging))?;
    progress.begin("restoring", m.total_bytes());
    for e in &m.entries {
        let (src, dst) = (backup.join(&e.path), staging.join(&e.path));
        if let Some(parent) = dst.parent()
            && !parent.exists()
        {
            std::fs::create_dir_all(parent).map_err(file_err(parent))?;
        }
        copy_checked(&src, &dst, e)?;
        progress.done(&e.path, e.bytes);
    }
    for (dir, mode) in [
        ("tenants", 0o750),
        ("files", 0o750),
        ("keys", 0o700),
        ("ca", 0o700),
        ("deleted", 0o750),
    ] {
        let p = staging.join(dir);
        std::fs::create_dir_all(&p).map_err(file_err(&p))?;
        set_mode(&p, mode)?;
        sync_dir(&p)?;
    }
    for name in ["tenants", "files", "keys", "ca", "deleted", "registry.db"] {
        let (from, to) = (staging.join(name), target.join(name));
        if from.exists() {
            std::fs::rename(&from, &to).map_err(file_err(&to))?;
        }
    }
    std::fs::remove_dir(&staging).map_err(file_err(&staging))?;
    sync_dir(target)?;
    progress.end();
    Ok(m)
}
