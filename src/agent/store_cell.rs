//! The lease store shared by the running agent and the one-shot commands
//! (`offline-import`, `release`, ...): every change opens the store from disk under an
//! exclusive lock on `state_dir/lock`, applies itself and saves, so neither overwrites
//! the other's work. Readers get a snapshot, reloaded when the file changed on disk.

use chrono::{DateTime, Utc};
use licd_client::keys::ApplianceKey;
use licd_client::store::{LeaseStore, StoreError, StoreState};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CellError {
    #[error("lease store {path}: {source}")]
    Store { path: PathBuf, source: StoreError },
    #[error("lease store lock {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What readers see.
#[derive(Debug, Clone)]
pub enum Snapshot {
    /// The store's content.
    State(Box<StoreState>),
    /// The store cannot be read; the message says why (e.g. its MAC does not match).
    Broken(String),
}

/// A version of the store file: mtime, inode, length.
type Stamp = (SystemTime, u64, u64);

/// The lease store of one state directory.
#[derive(Debug)]
pub struct StoreCell {
    path: PathBuf,
    lock_path: PathBuf,
    key: ApplianceKey,
    cached: Mutex<Option<(Option<Stamp>, Snapshot)>>,
}

impl StoreCell {
    /// The store at `path`, its lock file beside it.
    pub fn new(path: &Path, key: ApplianceKey) -> StoreCell {
        StoreCell {
            path: path.to_owned(),
            lock_path: path.with_file_name("lock"),
            key,
            cached: Mutex::new(None),
        }
    }

    fn lock_file(&self) -> Result<File, CellError> {
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&self.lock_path)
            .map_err(|source| CellError::Lock {
                path: self.lock_path.clone(),
                source,
            })
    }

    fn open(&self) -> Result<LeaseStore, CellError> {
        LeaseStore::open(&self.path, &self.key).map_err(|source| CellError::Store {
            path: self.path.clone(),
            source,
        })
    }

    /// Opens the store under the exclusive lock, runs `f` and saves (at `now`) when `f`
    /// succeeds. `f`'s error is handed back; nothing is saved then.
    pub fn update<R, E>(
        &self,
        now: DateTime<Utc>,
        f: impl FnOnce(&mut LeaseStore) -> Result<R, E>,
    ) -> Result<Result<R, E>, CellError> {
        let lock = self.lock_file()?;
        lock.lock().map_err(|source| CellError::Lock {
            path: self.lock_path.clone(),
            source,
        })?;
        let mut store = self.open()?;
        let result = f(&mut store);
        if result.is_ok() {
            store.save(now).map_err(|source| CellError::Store {
                path: self.path.clone(),
                source,
            })?;
        }
        self.remember(Snapshot::State(Box::new(store.state().clone())));
        drop(lock);
        Ok(result)
    }

    /// What tells one version of the file from another: each save is a new file
    /// (renamed over), so its inode changes even when the mtime's resolution is coarse.
    fn modified(&self) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(&self.path).ok()?;
        Some((m.modified().ok()?, m.ino(), m.len()))
    }

    fn remember(&self, snapshot: Snapshot) {
        let stamp = self.modified();
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some((stamp, snapshot));
    }

    /// The store's content as on disk now (under the shared lock), nothing written.
    pub fn read(&self) -> Result<StoreState, CellError> {
        let lock = self.lock_file()?;
        lock.lock_shared().map_err(|source| CellError::Lock {
            path: self.lock_path.clone(),
            source,
        })?;
        let store = self.open()?;
        drop(lock);
        let state = store.state().clone();
        self.remember(Snapshot::State(Box::new(state.clone())));
        Ok(state)
    }

    /// The store's content, read again when the file changed since the last look.
    pub fn snapshot(&self) -> Snapshot {
        let stamp = self.modified();
        if let Some((seen, snap)) = &*self.cached.lock().unwrap_or_else(|p| p.into_inner())
            && *seen == stamp
        {
            return snap.clone();
        }
        match self.read() {
            Ok(state) => Snapshot::State(Box::new(state)),
            Err(e) => {
                let snap = Snapshot::Broken(e.to_string());
                self.remember(snap.clone());
                snap
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use licd_client::formats::UserCounts;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    /// Two writers (the running agent and a command) never lose each other's change,
    /// and a reader sees a change made through another cell (another process).
    #[test]
    fn writers_do_not_lose_each_others_changes_and_readers_see_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = ApplianceKey::generate().expect("key");
        let path = dir.path().join("leases.json");
        let agent = StoreCell::new(&path, key.clone());
        let command = std::sync::Arc::new(StoreCell::new(&path, key));
        assert!(matches!(agent.snapshot(), Snapshot::State(s) if s.daily_peaks.is_empty()));
        let threads: Vec<_> = (0..8u32)
            .map(|i| {
                let cell = command.clone();
                std::thread::spawn(move || {
                    let day = now() + chrono::Duration::days(i64::from(i));
                    cell.update(day, |store| {
                        store.record_usage(
                            UserCounts {
                                internal_users: i,
                                external_users: 0,
                            },
                            day,
                        );
                        Ok::<_, std::convert::Infallible>(())
                    })
                    .expect("update")
                    .expect("ok");
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        match agent.snapshot() {
            Snapshot::State(s) => assert_eq!(s.daily_peaks.len(), 8, "{:?}", s.daily_peaks),
            Snapshot::Broken(why) => panic!("{why}"),
        }
        // An edit behind the store's back: readers are told, never given the content.
        std::fs::write(&path, "{\"version\":1,\"body\":{},\"mac\":\"AAAA\"}").expect("write");
        match agent.snapshot() {
            Snapshot::Broken(why) => assert!(why.contains("MAC does not match"), "{why}"),
            Snapshot::State(_) => panic!("an edited store was used"),
        }
    }
}
