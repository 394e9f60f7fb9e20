//! When the next heartbeat goes: the lease's interval (or the configured one before the
//! first lease), capped by `max_interval_secs`, with random jitter; after failures the
//! wait doubles from the configured interval up to `backoff_max_secs`.

use std::time::Duration;

/// The heartbeat schedule's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The configured interval (seconds), used until a lease names one.
    pub configured_secs: u64,
    /// A cap on any interval (tests and drills).
    pub max_secs: Option<u64>,
    /// Jitter, percent of the wait either way (0..=50).
    pub jitter_percent: u8,
    /// The longest wait after failures.
    pub backoff_max_secs: u64,
}

impl Schedule {
    /// The interval in force: the lease's when there is one, else the configured one,
    /// capped by `max_secs`; never below one second.
    pub fn interval_secs(&self, lease_interval: Option<u32>) -> u64 {
        let base = lease_interval
            .map(u64::from)
            .filter(|s| *s > 0)
            .unwrap_or(self.configured_secs);
        self.max_secs.map_or(base, |cap| base.min(cap)).max(1)
    }

    /// The wait before the next attempt. `failures` counts the attempts that failed in a
    /// row (0 after a success); `unit` is a random number in [0, 1) for the jitter.
    pub fn next_wait(&self, lease_interval: Option<u32>, failures: u32, unit: f64) -> Duration {
        let base = if failures == 0 {
            self.interval_secs(lease_interval)
        } else {
            // The first retry waits the configured interval (capped), then it doubles.
            let first = self.interval_secs(None).min(self.backoff_max_secs);
            let doubled = first.saturating_mul(1u64 << (failures - 1).min(32));
            doubled.min(self.backoff_max_secs.max(first))
        };
        let spread = base as f64 * f64::from(self.jitter_percent) / 100.0;
        let jittered = base as f64 + spread * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
        Duration::from_millis((jittered.max(0.2) * 1000.0) as u64)
    }
}

/// A random number in [0, 1) (falls back to the middle when the system has no
/// randomness to give).
pub fn random_unit() -> f64 {
    let mut b = [0u8; 4];
    match getrandom::fill(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        Schedule {
            configured_secs: 3600,
            max_secs: None,
            jitter_percent: 10,
            backoff_max_secs: 7200,
        }
    }

    #[test]
    fn the_lease_interval_wins_over_the_configured_one() {
        let s = schedule();
        assert_eq!(s.interval_secs(None), 3600);
        assert_eq!(s.interval_secs(Some(600)), 600);
        let capped = Schedule {
            max_secs: Some(1),
            ..s
        };
        assert_eq!(capped.interval_secs(Some(600)), 1);
    }

    #[test]
    fn jitter_stays_within_its_percentage() {
        let s = schedule();
        assert_eq!(s.next_wait(None, 0, 0.5), Duration::from_secs(3600));
        assert_eq!(s.next_wait(None, 0, 0.0), Duration::from_secs(3240));
        assert!(s.next_wait(None, 0, 0.999_999) <= Duration::from_secs(3960));
        for _ in 0..100 {
            let w = s.next_wait(None, 0, random_unit());
            assert!((3240..=3960).contains(&w.as_secs()), "{w:?}");
        }
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_maximum() {
        let s = Schedule {
            configured_secs: 60,
            jitter_percent: 0,
            backoff_max_secs: 600,
            max_secs: None,
        };
        let waits: Vec<u64> = (0..8)
            .map(|f| s.next_wait(None, f, 0.5).as_secs())
            .collect();
        assert_eq!(waits, vec![60, 60, 120, 240, 480, 600, 600, 600]);
        // A huge failure count neither overflows nor passes the maximum.
        assert_eq!(s.next_wait(None, u32::MAX, 0.5).as_secs(), 600);
    }
}
