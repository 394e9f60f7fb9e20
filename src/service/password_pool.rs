//! The threads that check and hash passwords. argon2id costs 19 MiB and tens of
//! milliseconds of one core per call, and sign-in is open to anyone on the network, so
//! this work gets a few threads of its own (never the blocking pool that heartbeats and
//! every other request run on) and no queue: a job that finds every worker busy is
//! refused at once, and the caller answers 503 `password_check_busy` with `Retry-After`.
//! A flood of bad sign-ins then costs at most `size` cores and `size` × 19 MiB.

use super::error::ServiceError;
use crate::error::{ErrorCode, Problem};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long a refused client should wait before trying again, in seconds.
pub const BUSY_RETRY_AFTER: u64 = 1;

pub struct PasswordPool {
    size: usize,
    idle: Arc<AtomicUsize>,
    jobs: Mutex<Sender<Job>>,
}

impl std::fmt::Debug for PasswordPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordPool")
            .field("size", &self.size)
            .field("idle", &self.idle.load(Ordering::Relaxed))
            .finish()
    }
}

/// Most workers the default gives, however many cores: 8 × 19 MiB stays well inside the
/// unit's `MemoryMax=`, and 8 workers check a few hundred passwords a second.
const DEFAULT_MAX: usize = 8;

/// Half the cores, at least one, at most `DEFAULT_MAX`: sign-in stays quick for people
/// (one check is tens of milliseconds, so even one worker signs in dozens of people a
/// second), and at least half the machine is left to heartbeats and the rest of the API
/// however hard the sign-in form is hammered.
pub fn default_size() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / 2).clamp(1, DEFAULT_MAX)
}

/// Why a job was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl From<Busy> for ServiceError {
    fn from(_: Busy) -> Self {
        ServiceError::Refused(Problem {
            code: ErrorCode::PasswordCheckBusy,
            detail: format!(
                "too many password checks are running; try again in {BUSY_RETRY_AFTER} second"
            ),
            retry_after: Some(BUSY_RETRY_AFTER),
        })
    }
}

/// A claimed worker; given back when dropped (when the job is done, also if it
/// panicked, or if it never ran).
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

impl PasswordPool {
    /// Starts `size` worker threads (`0`: `default_size()`).
    pub fn start(size: usize) -> std::io::Result<PasswordPool> {
        let size = if size == 0 { default_size() } else { size };
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..size {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("licd-password-{i}"))
                .spawn(move || work(&rx))?;
        }
        Ok(PasswordPool {
            size,
            idle: Arc::new(AtomicUsize::new(size)),
            jobs: Mutex::new(tx),
        })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    fn claim(&self) -> Option<Slot> {
        self.idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .ok()
            .map(|_| Slot(self.idle.clone()))
    }

    /// Hands `f` to an idle worker, or refuses at once with `Busy` when there is none.
    /// The receiver yields `f`'s result (an error if `f` panicked).
    pub fn try_run<T, F>(&self, f: F) -> Result<tokio::sync::oneshot::Receiver<T>, Busy>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let slot = self.claim().ok_or(Busy)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let answer = f();
            // Free before answering: the caller's next request must find the worker
            // free (it is back at its queue a moment later).
            drop(slot);
            let _ = tx.send(answer);
        });
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| Busy)?;
        Ok(rx)
    }
}

/// A worker: runs jobs until the pool is dropped. A job that panics only loses its own
/// answer (the slot is given back as it unwinds).
fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        let job = match jobs.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        if catch_unwind(AssertUnwindSafe(job)).is_err() {
            tracing::error!("a password job panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    #[test]
    fn refuses_at_once_when_every_worker_is_busy() {
        let pool = PasswordPool::start(2).unwrap();
        let gate = Arc::new(Barrier::new(3));
        let running: Vec<_> = (0..2)
            .map(|i| {
                let gate = gate.clone();
                pool.try_run(move || {
                    gate.wait();
                    i
                })
                .unwrap()
            })
            .collect();
        assert_eq!(pool.try_run(|| 9).unwrap_err(), Busy);
        gate.wait();
        let done: Vec<i32> = running
            .into_iter()
            .map(|rx| rx.blocking_recv().unwrap())
            .collect();
        assert_eq!(done, vec![0, 1]);
        // The slots were given back before the answers.
        let again: Vec<_> = (0..2).map(|_| pool.try_run(|| 7).unwrap()).collect();
        for rx in again {
            assert_eq!(rx.blocking_recv().unwrap(), 7);
        }
    }

    #[test]
    fn a_panicking_job_loses_only_its_answer() {
        let pool = PasswordPool::start(1).unwrap();
        let rx = pool.try_run(|| -> u8 { panic!("boom") }).unwrap();
        assert!(rx.blocking_recv().is_err());
        let mut answer = None;
        for _ in 0..1000 {
            if let Ok(rx) = pool.try_run(|| 5u8) {
                answer = Some(rx.blocking_recv().unwrap());
                break;
            }
            std::thread::yield_now();
        }
        assert_eq!(answer, Some(5));
    }
}
