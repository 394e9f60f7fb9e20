//! Noticing a clock that was set back, from three signals:
//!
//! - `lease_time`: local time is earlier than the highest server time seen in a lease;
//! - `state_file`: local time is earlier than when the lease store was last written;
//! - `monotonic`: since the process started, its wall clock advanced less than its
//!   monotonic clock.
//!
//! Each signal tolerates a skew of [`ClockGuard::tolerance`] (4 hours by default: clocks
//! of appliances that never sync drift, and a box may boot before NTP sets its time).
//! Only a clock behind by *more* than the tolerance is a rollback. What a rollback
//! means (lock or warn) is the caller's policy ([`crate::status::Policy`]).
//!
//! ```
//! use chrono::{DateTime, Duration};
//! use licd_client::clock::{ClockGuard, ClockSignal};
//! use licd_client::store::StoreState;
//!
//! let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
//! let state = StoreState { last_written: Some(now + Duration::days(1)), ..Default::default() };
//! let rollback = ClockGuard::default().check(now, &state, None).expect("a rollback");
//! assert_eq!(rollback.signal, ClockSignal::StateFile);
//! assert_eq!(rollback.by, Duration::days(1));
//! ```

use crate::formats::RollbackSeen;
use crate::store::{LeaseStore, ROLLBACKS_KEPT, StoreState};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The default tolerance: 4 hours.
pub const DEFAULT_TOLERANCE: Duration = Duration::hours(4);

/// Which signal saw a rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockSignal {
    /// Behind the highest server time seen in a lease.
    LeaseTime,
    /// Behind the lease store's last write.
    StateFile,
    /// The wall clock advanced less than the monotonic clock while running.
    Monotonic,
}

impl ClockSignal {
    /// `lease_time`, `state_file` or `monotonic`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockSignal::LeaseTime => "lease_time",
            ClockSignal::StateFile => "state_file",
            ClockSignal::Monotonic => "monotonic",
        }
    }
}

/// A clock rollback: by how much the clock is behind, and which signal saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rollback {
    /// How far behind (always more than the tolerance).
    pub by: Duration,
    /// The signal.
    pub signal: ClockSignal,
}

impl Rollback {
    /// The record kept in the store and reported in usage reports.
    pub fn seen(&self, detected_at: DateTime<Utc>) -> RollbackSeen {
        RollbackSeen {
            detected_at,
            by_secs: self.by.num_seconds(),
            signal: self.signal.as_str().into(),
        }
    }
}

/// A sample of the process's clocks: the wall time when it started and how much
/// monotonic time has elapsed since (`std::time::Instant::elapsed` from a start taken
/// then). The caller reads the clocks; this crate never does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonotonicSample {
    /// Wall clock when the monotonic measure started.
    pub wall_at_start: DateTime<Utc>,
    /// Monotonic time elapsed since.
    pub mono_elapsed: std::time::Duration,
}

/// The rollback check, with its tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockGuard {
    /// How far behind a signal the clock may be without it being a rollback
    /// ([`DEFAULT_TOLERANCE`] by default).
    pub tolerance: Duration,
}

impl Default for ClockGuard {
    fn default() -> Self {
        ClockGuard {
            tolerance: DEFAULT_TOLERANCE,
        }
    }
}

impl ClockGuard {
    /// The largest rollback any signal sees at `now`, if one is behind by more than the
    /// tolerance.
    pub fn check(
        &self,
        now: DateTime<Utc>,
        state: &StoreState,
        monotonic: Option<MonotonicSample>,
    ) -> Option<Rollback> {
        let mut behind: Vec<(Duration, ClockSignal)> = Vec::new();
        if let Some(high) = state.server_time_high_water {
            behind.push((high - now, ClockSignal::LeaseTime));
        }
        if let Some(written) = state.last_written {
            behind.push((written - now, ClockSignal::StateFile));
        }
        if let Some(m) = monotonic {
            // An elapsed time past chrono's range is no evidence of anything.
            let wall = now - m.wall_at_start;
            if let Some(by) = Duration::from_std(m.mono_elapsed)
                .ok()
                .and_then(|mono| mono.checked_sub(&wall))
            {
                behind.push((by, ClockSignal::Monotonic));
            }
        }
        behind
            .into_iter()
            .filter(|(by, _)| *by > self.tolerance)
            .max_by_key(|(by, _)| *by)
            .map(|(by, signal)| Rollback { by, signal })
    }
}

impl LeaseStore {
    /// Records a rollback seen at `now` (for the usage report), unless it is the same
    /// episode as the last one recorded: the same signal, and the same amount or the
    /// same point it is measured against (`detected_at + by`), within a minute. A
    /// rollback is seen again at each check until the clock is right.
    pub fn record_rollback(&mut self, rollback: &Rollback, now: DateTime<Utc>) {
        let seen = rollback.seen(now);
        let list = &mut self.state_mut().rollbacks;
        if let Some(last) = list.last()
            && last.signal == seen.signal
            && ((last.by_secs - seen.by_secs).abs() <= 60
                || (anchor(last) - anchor(&seen)).abs() <= 60)
        {
            return;
        }
        list.push(seen);
        if list.len() > ROLLBACKS_KEPT {
            list.remove(0);
            let reported = &mut self.state_mut().rollbacks_reported;
            *reported = reported.saturating_sub(1);
        }
    }
}

/// The time a rollback was measured against.
fn anchor(seen: &RollbackSeen) -> i64 {
    seen.detected_at.timestamp().saturating_add(seen.by_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::ApplianceKey;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn guard() -> ClockGuard {
        ClockGuard::default()
    }

    #[test]
    fn lease_time_signal_and_its_tolerance_boundary() {
        let state = |ahead: Duration| StoreState {
            server_time_high_water: Some(now() + ahead),
            ..Default::default()
        };
        assert_eq!(guard().check(now(), &state(DEFAULT_TOLERANCE), None), None);
        let r = guard()
            .check(
                now(),
                &state(DEFAULT_TOLERANCE + Duration::seconds(1)),
                None,
            )
            .expect("rollback");
        assert_eq!(r.signal, ClockSignal::LeaseTime);
        assert_eq!(r.by, DEFAULT_TOLERANCE + Duration::seconds(1));
        assert_eq!(guard().check(now(), &state(-Duration::days(3)), None), None);
    }

    #[test]
    fn state_file_signal_and_its_tolerance_boundary() {
        let state = |ahead: Duration| StoreState {
            last_written: Some(now() + ahead),
            ..Default::default()
        };
        assert_eq!(guard().check(now(), &state(DEFAULT_TOLERANCE), None), None);
        let r = guard()
            .check(now(), &state(Duration::days(1)), None)
            .expect("rollback");
        assert_eq!(
            (r.signal, r.by),
            (ClockSignal::StateFile, Duration::days(1))
        );
    }

    #[test]
    fn monotonic_signal_and_its_tolerance_boundary() {
        let sample = |mono_hours: u64| MonotonicSample {
            wall_at_start: now() - Duration::hours(1),
            mono_elapsed: std::time::Duration::from_secs(mono_hours * 3600),
        };
        let empty = StoreState::default();
        // Wall advanced 1 h; monotonic 5 h: 4 h behind, the tolerance itself.
        assert_eq!(guard().check(now(), &empty, Some(sample(5))), None);
        let r = guard()
            .check(now(), &empty, Some(sample(6)))
            .expect("rollback");
        assert_eq!(
            (r.signal, r.by),
            (ClockSignal::Monotonic, Duration::hours(5))
        );
        // The wall clock running ahead (NTP stepping forward) is no rollback.
        assert_eq!(guard().check(now(), &empty, Some(sample(0))), None);
        let huge = MonotonicSample {
            wall_at_start: now(),
            mono_elapsed: std::time::Duration::MAX,
        };
        assert_eq!(guard().check(now(), &empty, Some(huge)), None);
        let far = MonotonicSample {
            wall_at_start: DateTime::<Utc>::MAX_UTC,
            mono_elapsed: std::time::Duration::from_millis(i64::MAX as u64),
        };
        assert_eq!(
            guard().check(DateTime::<Utc>::MIN_UTC, &empty, Some(far)),
            None
        );
    }

    #[test]
    fn the_largest_signal_wins_and_a_custom_tolerance_applies() {
        let state = StoreState {
            server_time_high_water: Some(now() + Duration::days(2)),
            last_written: Some(now() + Duration::days(1)),
            ..Default::default()
        };
        let r = guard().check(now(), &state, None).expect("rollback");
        assert_eq!(r.signal, ClockSignal::LeaseTime);
        let lenient = ClockGuard {
            tolerance: Duration::days(3),
        };
        assert_eq!(lenient.check(now(), &state, None), None);
    }

    #[test]
    fn rollbacks_are_recorded_once_per_episode() {
        let dir = tempfile::tempdir().expect("dir");
        let key = ApplianceKey::generate().expect("key");
        let mut store = LeaseStore::open(&dir.path().join("s.json"), &key).expect("open");
        let r = Rollback {
            by: Duration::days(1),
            signal: ClockSignal::StateFile,
        };
        store.record_rollback(&r, now());
        store.record_rollback(&r, now() + Duration::seconds(30));
        // Ten minutes on, the clock still behind the same last write: the same episode.
        let later = Rollback {
            by: Duration::days(1) - Duration::minutes(10),
            ..r
        };
        store.record_rollback(&later, now() + Duration::minutes(10));
        assert_eq!(store.state().rollbacks.len(), 1);
        assert_eq!(store.state().rollbacks[0].signal, "state_file");
        store.record_rollback(
            &Rollback {
                by: Duration::days(2),
                ..r
            },
            now(),
        );
        assert_eq!(store.state().rollbacks.len(), 2);
    }
}
