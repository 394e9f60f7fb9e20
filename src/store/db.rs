//! One database file: a single writer connection behind a mutex and a few reader
//! connections (WAL lets them read while the writer writes). Callers run these methods on
//! blocking threads, never on the async executor; `write_grouped_async` is the one meant
//! for async callers (it queues the job and hands the group to a blocking thread).

use super::checkpoint::{BACKSTOP_PAGES, Checkpoints, KeptOpen};
use super::heard::Heard;
use super::migrate::{self, Schema};
use super::{Result, StoreError};
use rusqlite::{CachedStatement, Connection, OpenFlags, Params, Row, TransactionBehavior};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A read transaction (`BEGIN DEFERRED`): a consistent snapshot, rolled back on drop.
///
/// Opaque outside `store/`: services hand it to store functions and cannot run SQL on
/// it themselves. A write transaction derefs to it, so every read function takes
/// `&ReadTx` and works inside either.
pub struct ReadTx<'c>(rusqlite::Transaction<'c>);

/// A write transaction (`BEGIN IMMEDIATE`): rolled back on drop unless committed.
/// Opaque outside `store/` like `ReadTx`, which it derefs to.
pub struct WriteTx<'c>(ReadTx<'c>);

impl<'c> Deref for WriteTx<'c> {
    type Target = ReadTx<'c>;
    fn deref(&self) -> &ReadTx<'c> {
        &self.0
    }
}

/// The statements store functions run; visible inside `store/` only.
impl ReadTx<'_> {
    /// A statement kept prepared on the connection (see `STATEMENTS_KEPT`).
    pub(super) fn prepare(&self, sql: &str) -> rusqlite::Result<CachedStatement<'_>> {
        self.0.prepare_cached(sql)
    }

    /// One row of a statement kept prepared on the connection (see `STATEMENTS_KEPT`).
    pub(super) fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        self.0.prepare_cached(sql)?.query_row(params, f)
    }

    /// Runs a statement kept prepared on the connection (see `STATEMENTS_KEPT`).
    pub(super) fn execute<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.0.prepare_cached(sql)?.execute(params)
    }

    /// A savepoint statement, prepared once per connection.
    fn savepoint(&self, sql: &str) -> rusqlite::Result<()> {
        self.execute(sql, []).map(drop)
    }

    pub(super) fn last_insert_rowid(&self) -> i64 {
        self.0.last_insert_rowid()
    }
}

#[cfg(test)]
impl ReadTx<'_> {
    /// Runs `f` and returns how much work SQLite's virtual machine did for it, in
    /// thousands of instructions (a progress handler): lets a test tell an index range
    /// from a walk over the whole table.
    pub(super) fn vm_work<T>(&self, f: impl FnOnce(&Self) -> T) -> (T, u64) {
        let counted = Arc::new(AtomicU64::new(0));
        let c = counted.clone();
        self.0.progress_handler(
            1000,
            Some(move || {
                c.fetch_add(1, Ordering::Relaxed);
                false
            }),
        );
        let out = f(self);
        self.0.progress_handler(0, None::<fn() -> bool>);
        (out, counted.load(Ordering::Relaxed))
    }
}

impl WriteTx<'_> {
    fn begin(conn: &mut Connection) -> rusqlite::Result<WriteTx<'_>> {
        Ok(WriteTx(ReadTx(conn.transaction_with_behavior(
            TransactionBehavior::Immediate,
        )?)))
    }

    pub fn commit(self) -> Result<()> {
        Ok(self.0.0.commit()?)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct DbOptions {
    pub readers: usize,
    pub busy_timeout: Duration,
    /// Page cache of each connection, in KiB.
    pub cache_kib: u64,
    /// How much of the file is read through a memory map.
    pub mmap_bytes: u64,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            readers: 2,
            busy_timeout: Duration::from_secs(5),
            cache_kib: 16 * 1024,
            mmap_bytes: 2048 * 1024 * 1024,
        }
    }
}

pub struct Db {
    path: PathBuf,
    writer: Arc<Writer>,
    /// Moves the WAL into the database file in the background (see `checkpoint`).
    checkpoints: Checkpoints,
    /// Reader connections, each opened on its first read (a tenant that is only written
    /// to, or read once in a while, keeps one or none).
    readers: Vec<Mutex<Option<Connection>>>,
    opts: DbOptions,
    next_reader: AtomicUsize,
    /// Work waiting for the next group commit (see `write_grouped`).
    group: Mutex<GroupQueue>,
    /// Active licenses in the order they were heard from, in memory (a tenant's
    /// database only; see `heard`).
    heard: Option<Arc<Heard>>,
    /// Group commits run, and the jobs they carried.
    group_commits: AtomicU64,
    grouped_jobs: AtomicU64,
    /// The files the checkpoints flush, open for as long as the database is: the last
    /// field, so they close after every connection (closing them drops this process's
    /// POSIX locks on the files, SQLite's included; see `checkpoint::KeptOpen`).
    _kept_open: Arc<KeptOpen>,
}

/// Sends a grouped job's result once its transaction has committed (or failed to).
type Deliver = Box<dyn FnOnce(Option<Arc<rusqlite::Error>>) + Send>;
/// A unit of work for a group commit: runs inside the shared transaction.
type GroupJob = Box<dyn FnOnce(&WriteTx<'_>) -> Deliver + Send>;

#[derive(Default)]
struct GroupQueue {
    jobs: Vec<GroupJob>,
    /// A thread is running the queue (it takes what is queued until it is empty).
    draining: bool,
}

/// Most jobs one group commit takes (bounds the latency of the last one).
const MAX_GROUP: usize = 256;

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

/// The write connection behind its mutex. A panic inside a transaction dropped (rolled
/// back) that transaction, so the connection is fine to reuse: `parking_lot`'s mutex has
/// no poisoning. `write` and the group runner release it with `unlock_fair`, which hands
/// it to a thread waiting for it. On the std mutex, a thread writing one transaction
/// after another (a loop in a job, such as the billing cycle's) took it straight back on
/// a busy machine before the waiting thread (a heartbeat group) woke, and that thread
/// could wait for most of the loop
/// (`tests::writes_one_after_another_let_a_waiting_write_in`). The group runner keeps it
/// while its queue has jobs, so a plain write waits for a pause in the heartbeats. The
/// loops that write the most (the sweep, pruning, reissuing) queue their transactions as
/// group jobs instead.
pub(super) type Writer = parking_lot::Mutex<Connection>;

/// Readers start a new snapshot whenever the writer has committed, which empties their
/// page cache (SQLite clears it page by page), so they keep a small one and read through
/// the memory map; the writer keeps the large cache.
const READER_CACHE_KIB: u64 = 2 * 1024;

/// Statements each connection keeps prepared, least recently used dropped first. Every
/// statement a store function runs is kept (`prepare`, `query_row` and `execute`):
/// parsing an insert into `licenses`, with its foreign keys and triggers, was 7% of a
/// license issue's time. The store has about 270 statements in all (rusqlite's default
/// keeps 16), so a connection keeps nearly every statement it ever runs.
const STATEMENTS_KEPT: usize = 256;

fn configure(conn: &Connection, opts: &DbOptions, cache_kib: u64) -> Result<()> {
    conn.busy_timeout(opts.busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Temporary files in memory. The one that matters is the sub-journal of the savepoint
    // each job of a group commit runs in (`write_grouped`). SQLite keeps it in memory
    // until one job changes more than 64 KiB of pages (a license issue does), then moves
    // it to a temporary file until the group's transaction ends: every page a job first
    // touched was written there (10% of an issue's time). In memory it holds the pages of
    // one job at most, and is emptied when that job's savepoint is released.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Page cache per connection (negative = KiB), and reads through a memory map so hot
    // pages cost no system call.
    conn.pragma_update(None, "cache_size", -(cache_kib as i64))?;
    conn.query_row(
        &format!("PRAGMA mmap_size = {}", opts.mmap_bytes),
        [],
        |_| Ok(()),
    )?;
    Ok(())
}

/// The page size of every database licd creates, in bytes (SQLite's default is 4,096).
/// A heartbeat changes a few rows, each on a page of its own, and SQLite writes every
/// changed page whole: to the WAL at each commit, then to the database at each
/// checkpoint, whose `fsync`s the writer sometimes waits for. Half-size pages cut
/// those bytes by about 40% (20% of what reaches the disk): with 100,000 licenses,
/// heartbeat p99 11.4–12.0 ms against 13.0–17.4 ms and p99.9 16–23 ms against 25–51 ms,
/// for 3% more bytes on disk (docs/benchmarks.md, tenth pass). A database made with other pages keeps them: the size of a database in
/// WAL mode cannot change.
const PAGE_BYTES: i64 = 2048;

/// Gives a database that is still empty licd's page size (`PAGE_BYTES`); leaves one
/// that holds anything as it is.
pub(super) fn set_page_size(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "page_size", PAGE_BYTES)
}

/// Creates the file with mode 0600 (before SQLite does, so it never exists wider).
fn create_private(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path).map_err(|e| StoreError::io(path, e))?;
    Ok(())
}

impl Db {
    /// Opens (creating if needed) a database and brings its schema to the current
    /// version. Reader connections open on first use (`read`).
    pub fn open(path: &Path, schema: &Schema, opts: DbOptions) -> Result<Db> {
        create_private(path)?;
        let mut writer = Connection::open(path)?;
        configure(&writer, &opts, opts.cache_kib)?;
        set_page_size(&writer)?;
        let mode: String =
            writer.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), mode, "could not switch database to WAL");
        }
        // A schema step may rewrite a whole table (step 17 rewrites `licenses`): its
        // statement journal goes to a temporary file, not to memory, where the heap
        // would keep its size after the step (637 MiB of anonymous memory after step 17
        // with 1,000,000 licenses).
        writer.pragma_update(None, "temp_store", "FILE")?;
        migrate::bring_up_to_date(&mut writer, schema, path)?;
        writer.pragma_update(None, "temp_store", "MEMORY")?;
        // Checkpoints run on their own thread; the writer's own is a backstop. The WAL
        // file keeps its size while busy and is cut back when idle (`checkpoint`).
        writer.pragma_update(None, "wal_autocheckpoint", BACKSTOP_PAGES)?;
        let heard = Heard::install(&writer)?;
        let writer = Arc::new(Writer::new(writer));
        let readers = (0..opts.readers.max(1)).map(|_| Mutex::new(None)).collect();
        let kept_open = Arc::new(KeptOpen::new(path));
        Ok(Db {
            path: path.to_owned(),
            checkpoints: Checkpoints::new(path, writer.clone(), kept_open.clone()),
            writer,
            readers,
            opts,
            next_reader: AtomicUsize::new(0),
            group: Mutex::new(GroupQueue::default()),
            heard,
            group_commits: AtomicU64::new(0),
            grouped_jobs: AtomicU64::new(0),
            _kept_open: kept_open,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open_reader(&self) -> Result<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&c, &self.opts, READER_CACHE_KIB.min(self.opts.cache_kib))?;
        Ok(c)
    }

    /// How many reader connections are open now (they open on first use).
    pub fn open_readers(&self) -> usize {
        self.readers
            .iter()
            .filter(|r| r.lock().unwrap_or_else(|p| p.into_inner()).is_some())
            .count()
    }

    /// Runs `f` in a read transaction on one of the reader connections.
    pub fn read<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&ReadTx<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let mut slot = self.readers[i].lock().unwrap_or_else(|p| p.into_inner());
        let conn = match &mut *slot {
            Some(conn) => conn,
            empty => empty.insert(self.open_reader()?),
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(StoreError::from)?;
        f(&ReadTx(tx))
    }

    /// Runs `f` in a write transaction; commits if `f` succeeds, rolls back otherwise.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&WriteTx<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut conn = self.writer.lock();
        let out = (|| {
            let tx = WriteTx::begin(&mut conn).map_err(StoreError::from)?;
            self.heard(|h| h.begun(&tx.0.0));
            let out = f(&tx)?;
            tx.commit()?;
            self.heard(|h| h.ended(true));
            self.checkpoints.committed();
            self.checkpoints.finish_if_asked(&conn);
            Ok(out)
        })();
        if out.is_err() {
            self.heard(|h| h.ended(false));
        }
        parking_lot::MutexGuard::unlock_fair(conn);
        out
    }

    /// Like `write`, but concurrent callers share one transaction (group commit): each
    /// job runs in its own savepoint, so a failing job undoes only its own changes, and
    /// every caller gets its result only after the shared commit. Under load this turns
    /// many small commits into one; alone it costs the same as `write`. For hot paths
    /// with short jobs (heartbeats, activations, issues).
    ///
    /// The queue runs until it is empty. On a tokio runtime (an HTTP request on a
    /// blocking thread) it runs on a blocking task of its own, so the caller answers
    /// after its own group's commit, not after every group queued behind it; elsewhere
    /// (the command line, in-process callers) the calling thread runs it.
    pub fn write_grouped<T, E, F>(self: &Arc<Self>, f: F) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&WriteTx<'_>) -> std::result::Result<T, E> + Send + 'static,
    {
        let (send, recv) = std::sync::mpsc::sync_channel::<std::result::Result<T, E>>(1);
        if self.enqueue(f, move |out| {
            let _ = send.send(out);
        }) {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => self.drain_on(&runtime),
                Err(_) => self.drain_group(),
            }
        }
        recv.recv()
            .unwrap_or_else(|_| Err(E::from(StoreError::GroupAbandoned)))
    }

    /// `write_grouped` for async callers: the job waits in the queue without holding a
    /// thread, and one blocking thread runs each group for everyone in it (so a burst
    /// of requests costs one thread hand-off per commit, not one per request).
    pub async fn write_grouped_async<T, E, F>(self: &Arc<Self>, f: F) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&WriteTx<'_>) -> std::result::Result<T, E> + Send + 'static,
    {
        let (send, recv) = tokio::sync::oneshot::channel::<std::result::Result<T, E>>();
        if self.enqueue(f, move |out| {
            let _ = send.send(out);
        }) {
            self.drain_on(&tokio::runtime::Handle::current());
        }
        recv.await
            .unwrap_or_else(|_| Err(E::from(StoreError::GroupAbandoned)))
    }

    /// Runs the queue on a blocking task of `runtime`. The results come through each
    /// job's channel; a panic there drops the senders. A runtime shutting down never
    /// runs the task and drops it instead: the queue then runs where it is dropped, so
    /// no caller waits forever for a group nobody runs.
    fn drain_on(self: &Arc<Self>, runtime: &tokio::runtime::Handle) {
        struct DrainWhenDropped(Arc<Db>);
        impl Drop for DrainWhenDropped {
            fn drop(&mut self) {
                self.0.drain_group();
            }
        }
        let drain = DrainWhenDropped(self.clone());
        drop(runtime.spawn_blocking(move || drop(drain)));
    }

    /// Queues `f` for the next group commit, its result for `deliver`; true when the
    /// caller must run the queue (nobody is running it).
    fn enqueue<T, E, F>(
        &self,
        f: F,
        deliver: impl FnOnce(std::result::Result<T, E>) + Send + 'static,
    ) -> bool
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&WriteTx<'_>) -> std::result::Result<T, E> + Send + 'static,
    {
        let heard = self.heard.clone();
        let job: GroupJob = Box::new(move |tx: &WriteTx<'_>| {
            let result = match tx.savepoint("SAVEPOINT grouped") {
                Err(e) => Err(E::from(StoreError::from(e))),
                Ok(()) => {
                    let mark = heard.as_ref().map(|h| h.mark());
                    let r = f(tx);
                    let end = if r.is_ok() {
                        tx.savepoint("RELEASE grouped")
                    } else {
                        if let (Some(h), Some(mark)) = (&heard, mark) {
                            h.rolled_back_to(mark);
                        }
                        tx.savepoint("ROLLBACK TO grouped")
                            .and_then(|()| tx.savepoint("RELEASE grouped"))
                    };
                    match end {
                        Ok(()) => r,
                        Err(e) => Err(E::from(StoreError::from(e))),
                    }
                }
            };
            Box::new(move |commit_error: Option<Arc<rusqlite::Error>>| {
                deliver(match commit_error {
                    None => result,
                    Some(e) => Err(E::from(StoreError::CommitFailed(e))),
                });
            })
        });
        let mut q = self.group.lock().unwrap_or_else(|p| p.into_inner());
        q.jobs.push(job);
        !std::mem::replace(&mut q.draining, true)
    }

    /// Runs group commits until the queue is empty (one runner at a time: `enqueue`
    /// elects it).
    fn drain_group(&self) {
        /// Hands the queue on even if a job panics (its callers get `GroupAbandoned`).
        struct Drained<'a>(&'a Mutex<GroupQueue>);
        impl Drop for Drained<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.lock().unwrap_or_else(|p| p.into_inner()).draining = false;
                }
            }
        }
        let _drained = Drained(&self.group);
        let mut conn = self.writer.lock();
        loop {
            let jobs: Vec<GroupJob> = {
                let mut q = self.group.lock().unwrap_or_else(|p| p.into_inner());
                if q.jobs.is_empty() {
                    q.draining = false;
                    drop(q);
                    parking_lot::MutexGuard::unlock_fair(conn);
                    return;
                }
                let n = q.jobs.len().min(MAX_GROUP);
                q.jobs.drain(..n).collect()
            };
            self.group_commits.fetch_add(1, Ordering::Relaxed);
            self.grouped_jobs
                .fetch_add(jobs.len() as u64, Ordering::Relaxed);
            run_group(&mut conn, jobs, self.heard.as_deref());
            self.checkpoints.committed();
            self.checkpoints.finish_if_asked(&conn);
        }
    }

    /// (group commits, jobs they carried) since the database was opened.
    pub fn group_stats(&self) -> (u64, u64) {
        (
            self.group_commits.load(Ordering::Relaxed),
            self.grouped_jobs.load(Ordering::Relaxed),
        )
    }

    /// Proves the database answers and accepts writes (readiness probe).
    pub fn probe_writable(&self) -> Result<()> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })?;
        tx.rollback()?;
        Ok(())
    }

    /// Active licenses last heard from before `before`: how many, and the `limit` heard
    /// from longest ago with when, in that order (`heard`; none in a database without
    /// licenses). Waits for the writer only when it is idle, or to read the order.
    pub fn silent(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> Result<super::heard::Silent> {
        let Some(heard) = &self.heard else {
            return Ok((0, Vec::new()));
        };
        // A writer busy with a transaction looked for other connections' commits when
        // it began: the order as the last commit left it is current. An idle one is
        // asked here.
        if self.writer.is_locked()
            && let Some(silent) = heard.silent(before, limit)
        {
            return Ok(silent);
        }
        loop {
            let conn = self.writer.lock();
            let refreshed = heard.refresh(&conn, || self.open_reader());
            parking_lot::MutexGuard::unlock_fair(conn);
            refreshed?;
            // `None` only if a transaction found another connection's commit in between.
            if let Some(silent) = heard.silent(before, limit) {
                return Ok(silent);
            }
        }
    }

    fn heard(&self, f: impl FnOnce(&Heard)) {
        if let Some(h) = &self.heard {
            f(h);
        }
    }

    /// How many times the order of `heard` was read from the database.
    #[cfg(test)]
    pub(super) fn heard_reads(&self) -> u64 {
        self.heard.as_ref().map_or(0, |h| h.reads())
    }

    /// Folds the WAL back into the main file; called on clean shutdown.
    pub fn checkpoint(&self) -> Result<()> {
        let conn = self.writer.lock();
        let _no_round = self.checkpoints.exclusive();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

fn run_group(conn: &mut Connection, jobs: Vec<GroupJob>, heard: Option<&Heard>) {
    let tx = match WriteTx::begin(conn) {
        Ok(tx) => tx,
        Err(e) => {
            // Dropping the jobs drops their result channels: each caller gets an error.
            tracing::error!(error = %e, "group commit could not begin");
            drop(jobs);
            return;
        }
    };
    if let Some(h) = heard {
        h.begun(&tx.0.0);
    }
    let delivers: Vec<Deliver> = jobs.into_iter().map(|job| job(&tx)).collect();
    let commit_error = tx.0.0.commit().err().map(Arc::new);
    if let Some(h) = heard {
        h.ended(commit_error.is_none());
    }
    for deliver in delivers {
        deliver(commit_error.clone());
    }
}

/// The write-ahead log beside the database file at `path` (`<path>-wal`).
pub fn wal_path(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::migrate::TENANT;

    /// A runtime that is shutting down never runs a blocking task: a grouped write
    /// started then still runs, and its caller gets its answer (it used to wait forever,
    /// holding up the shutdown).
    #[test]
    fn a_grouped_write_while_the_runtime_shuts_down_still_commits() {
        let dir = tempfile::tempdir().unwrap();
        let db =
            Arc::new(Db::open(&dir.path().join("t.db"), &TENANT, DbOptions::default()).unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let handle = runtime.handle().clone();
        runtime.shutdown_timeout(std::time::Duration::ZERO);
        let (done, answered) = std::sync::mpsc::channel();
        let writer = db.clone();
        std::thread::spawn(move || {
            let _inside = handle.enter();
            let r = writer.write_grouped(|tx| {
                tx.execute(
                    "INSERT INTO staff_users (email, role, password_hash, created_at, updated_at)
                     VALUES ('late@x', 'support', 'x', 't', 't')",
                    [],
                )
                .map_err(StoreError::from)
            });
            let _ = done.send(r.is_ok());
        });
        let ok = answered
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the grouped write never answered");
        assert!(ok);
        let n: i64 = db
            .read(|tx| {
                Ok::<_, StoreError>(
                    tx.query_row("SELECT count(*) FROM staff_users", [], |r| r.get(0))?,
                )
            })
            .unwrap();
        assert_eq!(n, 1);
    }

    /// Writes one after another on one thread let a write waiting on another in within
    /// a few of them, on cores kept busy. On the std mutex the looping thread took the
    /// mutex straight back before the waiter woke, and the waiting write (a heartbeat
    /// group, a person's action) waited for most of the loop (56 and 57 writes of 60 in
    /// two runs of six). `parking_lot`'s mutex hands it over fairly (`unlock_fair`, and
    /// its own fair unlock for a thread that has waited more than about 0.5 ms).
    #[test]
    fn writes_one_after_another_let_a_waiting_write_in() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), &TENANT, DbOptions::default()).unwrap();
        let (loops, started) = (60, 3);
        let progress = AtomicUsize::new(0);
        let done = std::sync::atomic::AtomicBool::new(false);
        /// Stops the spinning threads however the scope ends (a failed join included).
        struct Stop<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let waited = std::thread::scope(|s| {
            let _stop = Stop(&done);
            // Busy cores, as under load: a woken waiter does not run at once.
            for _ in 0..2 {
                s.spawn(|| {
                    while !done.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                });
            }
            s.spawn(|| {
                for i in 1..=loops {
                    db.write(|_tx| {
                        progress.store(i, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(10));
                        Ok::<_, StoreError>(())
                    })
                    .unwrap();
                }
            });
            let waiter = s.spawn(|| {
                while progress.load(Ordering::SeqCst) < started {
                    std::thread::sleep(std::time::Duration::from_micros(100));
                }
                let asked_at = progress.load(Ordering::SeqCst);
                let got_in_at = db
                    .write(|_tx| Ok::<_, StoreError>(progress.load(Ordering::SeqCst)))
                    .unwrap();
                got_in_at - asked_at
            });
            waiter.join().unwrap()
        });
        assert!(
            waited <= 5,
            "the waiting write waited for {waited} writes of the loop's {loops}"
        );
    }

    #[test]
    fn write_rolls_back_on_error_and_commits_on_ok() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), &TENANT, DbOptions::default()).unwrap();
        let insert = |tx: &WriteTx<'_>, email: &str| {
            tx.execute(
                "INSERT INTO staff_users (email, role, password_hash, created_at, updated_at)
                 VALUES (?1, 'support', 'x', 't', 't')",
                [email],
            )
        };
        let r: std::result::Result<(), StoreError> = db.write(|tx| {
            insert(tx, "a@x")?;
            Err(StoreError::Corrupt {
                column: "test",
                value: String::new(),
            })
        });
        assert!(r.is_err());
        db.write(|tx| insert(tx, "b@x").map_err(StoreError::from))
            .unwrap();
        let emails: Vec<String> = db
            .read(|tx| {
                let mut st = tx.prepare("SELECT email FROM staff_users")?;
                let rows = st.query_map([], |r| r.get(0))?;
                Ok::<_, StoreError>(rows.collect::<rusqlite::Result<Vec<String>>>()?)
            })
            .unwrap();
        assert_eq!(emails, vec!["b@x".to_string()]);
    }

    /// A WAL that a busy spell grew keeps its size while writes go on (cutting it back
    /// at each restart stalled the writer) and is cut back once the database is idle.
    #[test]
    fn a_big_wal_is_cut_back_once_the_database_is_idle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let db = Db::open(&path, &TENANT, DbOptions::default()).unwrap();
        db.write(|tx| {
            tx.execute("CREATE TABLE big (b BLOB)", [])?;
            for _ in 0..70 {
                tx.execute("INSERT INTO big VALUES (zeroblob(1000000))", [])?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
        let wal = wal_path(&path);
        let wal_len = || std::fs::metadata(&wal).map_or(0, |m| m.len());
        assert!(wal_len() > 64 * 1024 * 1024, "{}", wal_len());
        // A round with the copy, then an idle round: under 2 s; 15 s at most.
        for _ in 0..150 {
            if wal_len() == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert_eq!(wal_len(), 0, "the WAL was not cut back");
        let rows: i64 = db
            .read(|tx| {
                Ok::<_, StoreError>(tx.query_row("SELECT count(*) FROM big", [], |r| r.get(0))?)
            })
            .unwrap();
        assert_eq!(rows, 70);
    }

    /// A job's savepoint sub-journal must not go to a file (see `configure`).
    #[test]
    fn every_connection_keeps_temporary_files_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("m.db"), &TENANT, DbOptions::default()).unwrap();
        let temp_store = |tx: &ReadTx<'_>| tx.query_row("PRAGMA temp_store", [], |r| r.get(0));
        let on_writer: i64 = db.write(|tx| Ok::<_, StoreError>(temp_store(tx)?)).unwrap();
        let on_reader: i64 = db.read(|tx| Ok::<_, StoreError>(temp_store(tx)?)).unwrap();
        // 2 is MEMORY.
        assert_eq!((on_writer, on_reader), (2, 2));
    }

    #[test]
    fn reader_connections_open_on_first_use_only() {
        let dir = tempfile::tempdir().unwrap();
        let opts = DbOptions {
            readers: 3,
            ..DbOptions::default()
        };
        let db = Db::open(&dir.path().join("r.db"), &TENANT, opts).unwrap();
        assert_eq!(db.open_readers(), 0);
        db.write(|tx| {
            tx.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')", [])
                .map_err(StoreError::from)
        })
        .unwrap();
        assert_eq!(db.open_readers(), 0, "a write opens no reader");
        let read = || {
            db.read(|tx| {
                Ok::<_, StoreError>(tx.query_row(
                    "SELECT value FROM settings WHERE key = 'k'",
                    [],
                    |r| r.get::<_, String>(0),
                )?)
            })
            .unwrap()
        };
        assert_eq!(read(), "v");
        assert_eq!(db.open_readers(), 1);
        for _ in 0..5 {
            assert_eq!(read(), "v");
        }
        assert_eq!(db.open_readers(), 3, "never more than storage.readers");
    }

    #[test]
    fn grouped_writes_commit_together_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = std::sync::Arc::new(
            Db::open(&dir.path().join("g.db"), &TENANT, DbOptions::default()).unwrap(),
        );
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let db = db.clone();
                std::thread::spawn(move || {
                    db.write_grouped(move |tx| {
                        tx.execute(
                            "INSERT INTO staff_users (email, role, password_hash, created_at, updated_at)
                             VALUES (?1, 'support', 'x', 't', 't')",
                            [format!("u{i}@x")],
                        )?;
                        if i % 4 == 0 {
                            return Err(StoreError::Corrupt { column: "test", value: i.to_string() });
                        }
                        Ok(i)
                    })
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_err()).count(), 4);
        let n: i64 = db
            .read(|tx| {
                Ok::<_, StoreError>(
                    tx.query_row("SELECT count(*) FROM staff_users", [], |r| r.get(0))?,
                )
            })
            .unwrap();
        assert_eq!(
            n, 12,
            "failed jobs leave nothing behind; the others all commit"
        );
    }

    #[cfg(unix)]
    #[test]
    fn new_database_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.db");
        let _db = Db::open(&p, &TENANT, DbOptions::default()).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
