//! Login throttling policy: count failures in a window; too many lock the key (an
//! account or an address) for a while. Pure: the caller keeps the counters and the time.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub max_failures: u32,
    pub window: Duration,
    pub lockout: Duration,
}

/// Failures recorded for one key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counter {
    window_start: Option<DateTime<Utc>>,
    failures: u32,
    locked_until: Option<DateTime<Utc>>,
}

impl Counter {
    /// `Err(wait)` while the key is locked out.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), Duration> {
        match self.locked_until {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Records a failure; returns the lockout if this failure triggered one.
    pub fn record_failure(&mut self, policy: &Policy, now: DateTime<Utc>) -> Option<Duration> {
        let fresh = match self.window_start {
            Some(start) => now - start >= policy.window,
            None => true,
        };
        if fresh {
            self.window_start = Some(now);
            self.failures = 0;
        }
        self.failures += 1;
        if self.failures >= policy.max_failures {
            self.locked_until = Some(now + policy.lockout);
            self.window_start = None;
            self.failures = 0;
            return Some(policy.lockout);
        }
        None
    }

    /// Whether the counter holds nothing that still matters (safe to forget).
    pub fn is_idle(&self, policy: &Policy, now: DateTime<Utc>) -> bool {
        let locked = self.locked_until.is_some_and(|u| u > now);
        let counting = self.window_start.is_some_and(|s| now - s < policy.window);
        !locked && !counting
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            max_failures: 3,
            window: Duration::minutes(15),
            lockout: Duration::minutes(10),
        }
    }

    #[test]
    fn locks_after_max_failures_and_releases_after_lockout() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let p = policy();
        let mut c = Counter::default();
        assert_eq!(c.record_failure(&p, t0), None);
        assert_eq!(c.record_failure(&p, t0 + Duration::seconds(1)), None);
        assert!(c.check(t0 + Duration::seconds(2)).is_ok());
        assert_eq!(
            c.record_failure(&p, t0 + Duration::seconds(2)),
            Some(p.lockout)
        );
        assert_eq!(
            c.check(t0 + Duration::seconds(62)),
            Err(Duration::seconds(540))
        );
        assert!(c.check(t0 + Duration::seconds(2) + p.lockout).is_ok());
        assert!(c.is_idle(&p, t0 + Duration::hours(1)));
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let p = policy();
        let mut c = Counter::default();
        c.record_failure(&p, t0);
        c.record_failure(&p, t0 + Duration::minutes(1));
        assert_eq!(c.record_failure(&p, t0 + Duration::minutes(20)), None);
        assert!(c.check(t0 + Duration::minutes(20)).is_ok());
    }
}
