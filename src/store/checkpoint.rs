//! WAL checkpoints off the writer's path. SQLite's automatic checkpoint runs inside the
//! commit that crosses its threshold, so that commit (and every heartbeat queued behind
//! it) waits for thousands of page copies and two `fsync`s. Here a background thread
//! copies the WAL into the database while the writer goes on, then, holding the writer
//! for the last few frames only, finishes the job so the next write starts the WAL
//! again from its beginning (which bounds its size).
//!
//! Under load the WAL file keeps the size a round gives it: cutting it back at each
//! restart made the next round's writes grow the file again, with the writer waiting
//! (heartbeat p99 31–41 ms against 10–11 ms with 800 ms rounds). Once the database has
//! been idle for a round, a WAL over `IDLE_WAL_BYTES` is cut back to nothing.
//!
//! Nothing acknowledged depends on it: a commit is in the WAL (in the kernel's page
//! cache with `synchronous = NORMAL`) before its caller hears of it, which is what
//! survives `kill -9`; a checkpoint only moves committed pages into the main file.

use super::db::Writer;
use super::wal_path;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long a round waits for more commits, so a page changed again meanwhile is
/// copied once. Each round ends with a finishing pass of about 5 ms under the writer;
/// against 200 ms, 800 ms rounds halve those stalls and the pages copied, for a WAL of
/// up to about 240 MB at 15,000 heartbeats/s (measured: 5–10% more heartbeats/s, p99
/// 10.4–11.3 ms against 11.0–12.6 ms; docs/benchmarks.md, ninth pass).
const ROUND: Duration = Duration::from_millis(800);
/// The writer's own automatic checkpoint, a backstop should this thread fall behind
/// (800 MB of WAL; SQLite's default is 1,000 pages). A round at full load stays well
/// under it.
pub(super) const BACKSTOP_PAGES: u32 = 200_000;
/// A WAL file larger than this is cut back to nothing when the database goes idle.
const IDLE_WAL_BYTES: u64 = 64 * 1024 * 1024;
/// A concurrent pass that found at most this many new frames is the last: what came in
/// meanwhile is left to the finishing pass, which holds the writer while it copies
/// (about 13 µs a frame on the project's machine, plus two `fsync`s).
const FEW_FRAMES: i64 = 50;
/// Concurrent passes per round at most, should the writer add frames as fast as they
/// are copied (the finishing pass then copies more).
const MAX_PASSES: usize = 20;

#[derive(Debug)]
pub(super) struct Checkpoints {
    path: PathBuf,
    writer: Arc<Writer>,
    /// The files `flush` syncs, kept open (`Db` holds them too, and drops them last).
    kept: Arc<KeptOpen>,
    state: Arc<State>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

#[derive(Debug, Default)]
struct State {
    /// Commits happened since the last round began.
    pending: AtomicBool,
    /// The thread runs (it stops after a round with nothing to do).
    running: AtomicBool,
    /// A round copied nearly everything: whoever holds the writer next copies the
    /// rest between two transactions (see `finish_if_asked`).
    finish: AtomicBool,
    /// The database is closing: the thread stops at once.
    closing: AtomicBool,
    /// Held while a round copies, and by `exclusive` (one checkpoint at a time: a
    /// second one would fail with `SQLITE_BUSY` rather than wait).
    copying: Mutex<()>,
    /// Wakes the thread early when the database closes.
    wake: Condvar,
}

impl Checkpoints {
    pub(super) fn new(path: &Path, writer: Arc<Writer>, kept: Arc<KeptOpen>) -> Checkpoints {
        Checkpoints {
            path: path.to_owned(),
            writer,
            kept,
            state: Arc::default(),
            thread: Mutex::new(None),
        }
    }

    /// No background round runs while the guard lives (for a checkpoint of the caller's
    /// own, on shutdown).
    pub(super) fn exclusive(&self) -> MutexGuard<'_, ()> {
        self.state.copying.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Called by the writer between transactions: when a round asked, copies what the
    /// WAL gained since (a few hundred frames), so the next write transaction can start
    /// the WAL again from its beginning.
    pub(super) fn finish_if_asked(&self, writer: &Connection) {
        if !self.state.finish.swap(false, Ordering::AcqRel) {
            return;
        }
        // Never waits for a round: if one has begun, it asks again when it ends.
        match self.state.copying.try_lock() {
            Ok(_copying) => {
                if let Err(e) = passive(writer) {
                    tracing::warn!(path = %self.path.display(), error = %e, "WAL checkpoint");
                }
            }
            Err(_) => self.state.finish.store(true, Ordering::Release),
        }
    }

    /// Called after each commit: starts the thread when it is not running.
    pub(super) fn committed(&self) {
        self.state.pending.store(true, Ordering::Release);
        if self.state.running.swap(true, Ordering::AcqRel)
            || self.state.closing.load(Ordering::Acquire)
        {
            return;
        }
        let (path, writer, state) = (self.path.clone(), self.writer.clone(), self.state.clone());
        let kept = self.kept.clone();
        let spawned = std::thread::Builder::new()
            .name("licd-checkpoint".into())
            .spawn(move || run(&path, &writer, &kept, &state));
        let mut thread = self.thread.lock().unwrap_or_else(|p| p.into_inner());
        match spawned {
            // The one before has ended (it cleared `running` as its last step).
            Ok(handle) => {
                if let Some(old) = thread.replace(handle) {
                    let _ = old.join();
                }
            }
            Err(e) => {
                // The writer's backstop checkpoint still bounds the WAL.
                tracing::warn!(error = %e, "could not start the checkpoint thread");
                self.state.running.store(false, Ordering::Release);
            }
        }
    }
}

impl Drop for Checkpoints {
    /// The thread ends before the database closes: it leaves no file open behind it.
    fn drop(&mut self) {
        self.state.closing.store(true, Ordering::Release);
        {
            let _copying = self.exclusive();
            self.state.wake.notify_all();
        }
        if let Some(t) = self
            .thread
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = t.join();
        }
    }
}

fn run(path: &Path, writer: &Writer, kept: &KeptOpen, state: &State) {
    // The thread's own connection, opened by its first round and closed when the thread
    // ends: once the database is idle it holds no file open (an idle tenant's database
    // closes completely). A connection per round, as before, made licd's heap grow by
    // about 50 KB a round for as long as the load lasted (docs/benchmarks.md, ninth pass).
    let mut conn: Option<Connection> = None;
    loop {
        // Waits a round (or until the database closes), then looks for commits.
        {
            let copying = state.copying.lock().unwrap_or_else(|p| p.into_inner());
            if !state.closing.load(Ordering::Acquire) {
                let _ = state.wake.wait_timeout(copying, ROUND);
            }
        }
        if state.closing.load(Ordering::Acquire) {
            state.running.store(false, Ordering::Release);
            return;
        }
        if !state.pending.swap(false, Ordering::AcqRel) {
            trim_when_idle(path, writer, state);
            state.running.store(false, Ordering::Release);
            // A commit that saw `running` still set relies on this thread: look again.
            if !state.pending.load(Ordering::Acquire) || state.running.swap(true, Ordering::AcqRel)
            {
                return;
            }
            continue;
        }
        let _copying = state.copying.lock().unwrap_or_else(|p| p.into_inner());
        let result = match &conn {
            Some(c) => round(c, writer, kept, state),
            None => open(path).and_then(|c| round(conn.insert(c), writer, kept, state)),
        };
        if let Err(e) = result {
            tracing::warn!(path = %path.display(), error = %e, "WAL checkpoint");
            // A fresh connection next round.
            conn = None;
        }
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// Copies the WAL into the database alongside the writer, pass after pass while the
/// writer keeps adding to it (each pass is shorter than the one before: copying is
/// faster than heartbeats write); once a pass saw few new frames, flushes both files
/// and catches up again with what came in during the flush; then has the rest copied
/// between two write transactions (by this thread if the writer is idle, else by the
/// writer itself), after which the next write restarts the WAL.
fn round(
    conn: &Connection,
    writer: &Writer,
    kept: &KeptOpen,
    state: &State,
) -> rusqlite::Result<()> {
    let mut seen = 0;
    let mut flushed = false;
    for _ in 0..MAX_PASSES {
        let (log, _) = passive(conn)?;
        let added = log - seen;
        seen = log;
        if added > FEW_FRAMES {
            continue;
        }
        if flushed {
            break;
        }
        flush(kept);
        flushed = true;
    }
    if !flushed {
        flush(kept);
    }
    state.finish.store(true, Ordering::Release);
    if let Some(_idle) = writer.try_lock()
        && state.finish.swap(false, Ordering::AcqRel)
    {
        passive(conn)?;
    }
    Ok(())
}

/// Nothing was committed for a round: a WAL file over `IDLE_WAL_BYTES` (what a busy
/// spell left) is cut back to nothing, holding the writer so that nothing is written
/// meanwhile. A reader still on an old snapshot makes it give up after 50 ms; it is
/// tried again the next time the database goes idle after writes (the thread ends
/// after this round).
fn trim_when_idle(path: &Path, writer: &Writer, state: &State) {
    let wal = wal_path(path);
    if std::fs::metadata(&wal).map_or(true, |m| m.len() <= IDLE_WAL_BYTES) {
        return;
    }
    let _copying = state.copying.lock().unwrap_or_else(|p| p.into_inner());
    let Some(_writer) = writer.try_lock() else {
        return;
    };
    let result = Connection::open(path).and_then(|conn| {
        conn.busy_timeout(Duration::from_millis(50))?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
    });
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), error = %e, "WAL checkpoint: cutting the WAL back");
    }
}

/// Writes the frames appended since the last pass, and the pages it copied, to disk
/// while they are mostly still in the kernel's cache, so the two `fsync`s of the
/// finishing pass (which may run on the writer, with heartbeats waiting) are short.
/// The flush takes tens of milliseconds under load; the passes after it copy what the
/// writer added meanwhile, so the finishing pass does not (measured: it held the writer
/// 25 ms per round when it came straight after the flush, 4-5 ms now).
fn flush(kept: &KeptOpen) {
    if let Err(e) = kept.sync_data() {
        tracing::warn!(path = %kept.path.display(), error = %e, "WAL checkpoint: flushing to disk");
    }
}

/// The database file and its WAL, opened once for `flush` and kept open until the
/// database closes (`Db` drops them after its connections). Closing a descriptor of a
/// file drops every POSIX lock the process holds on it, SQLite's included. Opening and
/// closing them at each round left licd holding no lock on its database, so a client
/// beside it (an operator's `sqlite3`, a script) took itself for the database's last
/// user and, as it closed, deleted licd's WAL and shared memory while licd went on
/// writing to them (`tests/it/storage.rs`,
/// `a_client_beside_the_server_leaves_its_write_ahead_log_in_place`).
#[derive(Debug)]
pub(super) struct KeptOpen {
    path: PathBuf,
    files: Mutex<Option<[std::fs::File; 2]>>,
}

impl KeptOpen {
    pub(super) fn new(path: &Path) -> KeptOpen {
        KeptOpen {
            path: path.to_owned(),
            files: Mutex::new(None),
        }
    }

    /// Writes the WAL's and the database's dirty pages to disk (`fdatasync`), opening
    /// the files the first time.
    fn sync_data(&self) -> std::io::Result<()> {
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        let files = match &mut *files {
            Some(files) => files,
            none => none.insert([
                std::fs::File::open(wal_path(&self.path))?,
                std::fs::File::open(&self.path)?,
            ]),
        };
        for file in files.iter() {
            file.sync_data()?;
        }
        Ok(())
    }
}

/// `PRAGMA wal_checkpoint(PASSIVE)`: (frames in the WAL, frames copied).
fn passive(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
}
