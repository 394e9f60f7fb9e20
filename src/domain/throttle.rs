//! Login throttling policy: every attempt reserves a slot on its key (an account, an
//! address, a device) *before* the password is checked; a failure keeps the slot, a
//! success or an unchecked attempt gives it back. Too many failures lock the key for a
//! while. Because failures plus attempts still in flight never exceed the limit, at most
//! `max_failures` guesses per key are ever checked, however many arrive at once.
//! Pure: the caller keeps the counters and the time.

use chrono::{DateTime, Duration, Utc};
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub max_failures: u32,
    pub window: Duration,
    pub lockout: Duration,
}

impl Policy {
    fn limit(&self) -> u32 {
        self.max_failures.max(1)
    }
}

/// How long a client refused because the last allowed attempts are still being checked
/// should wait: they end within a second, in a lockout or with the budget given back.
pub const IN_FLIGHT_WAIT: Duration = Duration::seconds(1);

/// Failures and attempts in flight for one key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counter {
    window_start: Option<DateTime<Utc>>,
    failures: u32,
    in_flight: u32,
    locked_until: Option<DateTime<Utc>>,
}

impl Counter {
    fn locked(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.locked_until.filter(|u| *u > now).map(|u| u - now)
    }

    fn window_expired(&self, policy: &Policy, now: DateTime<Utc>) -> bool {
        self.window_start.is_none_or(|s| now - s >= policy.window)
    }

    /// Whether an attempt may be checked now; `Err(wait)` while the key is locked or
    /// while the failures so far plus the attempts in flight reach the limit.
    pub fn admits(&self, policy: &Policy, now: DateTime<Utc>) -> Result<(), Duration> {
        if let Some(wait) = self.locked(now) {
            return Err(wait);
        }
        let failures = if self.window_expired(policy, now) {
            0
        } else {
            self.failures
        };
        if failures.saturating_add(self.in_flight) >= policy.limit() {
            return Err(IN_FLIGHT_WAIT);
        }
        Ok(())
    }

    /// Takes a slot for an attempt about to be checked (call `admits` first).
    pub fn reserve(&mut self, policy: &Policy, now: DateTime<Utc>) {
        if self.window_expired(policy, now) {
            self.window_start = None;
            self.failures = 0;
        }
        self.in_flight = self.in_flight.saturating_add(1);
    }

    /// The reserved attempt failed: it counts. `Some(wait)` when the key is locked now
    /// (by this failure or an earlier one).
    pub fn fail(&mut self, policy: &Policy, now: DateTime<Utc>) -> Option<Duration> {
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Some(wait) = self.locked(now) {
            return Some(wait);
        }
        if self.window_expired(policy, now) {
            self.window_start = Some(now);
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        if self.failures >= policy.limit() {
            self.locked_until = Some(now + policy.lockout);
            self.window_start = None;
            self.failures = 0;
            return Some(policy.lockout);
        }
        None
    }

    /// The reserved attempt succeeded: it does not count, and earlier failures are
    /// forgiven (a lockout already in force stays).
    pub fn succeed(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.window_start = None;
        self.failures = 0;
    }

    /// The reserved attempt was not checked (or its success says nothing about this
    /// key): the slot is given back and nothing is forgiven.
    pub fn release(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Whether the counter holds nothing that still matters (safe to forget).
    pub fn is_idle(&self, policy: &Policy, now: DateTime<Utc>) -> bool {
        self.locked(now).is_none() && self.window_expired(policy, now) && self.in_flight == 0
    }
}

/// The key an address is throttled under: an IPv4 address as it is, an IPv6 address by
/// its /64 (one subscriber usually holds a whole /64, so single addresses cost nothing
/// to rotate), an IPv4-mapped IPv6 address as the IPv4 address.
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
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

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    /// One whole attempt that fails.
    fn guess(
        c: &mut Counter,
        p: &Policy,
        now: DateTime<Utc>,
    ) -> Result<Option<Duration>, Duration> {
        c.admits(p, now)?;
        c.reserve(p, now);
        Ok(c.fail(p, now))
    }

    #[test]
    fn locks_after_max_failures_and_releases_after_lockout() {
        let p = policy();
        let mut c = Counter::default();
        assert_eq!(guess(&mut c, &p, t0()), Ok(None));
        assert_eq!(guess(&mut c, &p, t0() + Duration::seconds(1)), Ok(None));
        assert_eq!(
            guess(&mut c, &p, t0() + Duration::seconds(2)),
            Ok(Some(p.lockout))
        );
        assert_eq!(
            c.admits(&p, t0() + Duration::seconds(62)),
            Err(Duration::seconds(540))
        );
        assert!(
            c.admits(&p, t0() + Duration::seconds(2) + p.lockout)
                .is_ok()
        );
        assert!(c.is_idle(&p, t0() + Duration::hours(1)));
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let p = policy();
        let mut c = Counter::default();
        guess(&mut c, &p, t0()).unwrap();
        guess(&mut c, &p, t0() + Duration::minutes(1)).unwrap();
        assert_eq!(guess(&mut c, &p, t0() + Duration::minutes(20)), Ok(None));
        assert!(c.admits(&p, t0() + Duration::minutes(20)).is_ok());
    }

    #[test]
    fn attempts_in_flight_count_before_they_fail() {
        let p = policy();
        let mut c = Counter::default();
        // Forty attempts arrive at once: three are let through to be checked.
        let admitted = (0..40)
            .filter(|_| {
                let ok = c.admits(&p, t0()).is_ok();
                if ok {
                    c.reserve(&p, t0());
                }
                ok
            })
            .count();
        assert_eq!(admitted, 3);
        assert_eq!(c.admits(&p, t0()), Err(IN_FLIGHT_WAIT));
        assert!(!c.is_idle(&p, t0() + Duration::hours(1)), "in flight");
        assert_eq!(c.fail(&p, t0()), None);
        assert_eq!(c.fail(&p, t0()), None);
        assert_eq!(c.fail(&p, t0()), Some(p.lockout));
        assert_eq!(c.admits(&p, t0()), Err(p.lockout));
    }

    #[test]
    fn a_success_gives_its_slot_back_and_forgives() {
        let p = policy();
        let mut c = Counter::default();
        guess(&mut c, &p, t0()).unwrap();
        c.reserve(&p, t0());
        c.reserve(&p, t0());
        assert_eq!(c.admits(&p, t0()), Err(IN_FLIGHT_WAIT));
        c.succeed();
        assert!(
            c.admits(&p, t0()).is_ok(),
            "failures forgiven, one in flight"
        );
        c.release();
        assert!(c.is_idle(&p, t0()));
    }

    #[test]
    fn late_failures_during_a_lockout_report_it_without_extending_it() {
        let p = policy();
        let mut c = Counter::default();
        for _ in 0..4 {
            c.reserve(&p, t0());
        }
        c.fail(&p, t0());
        c.fail(&p, t0());
        assert_eq!(c.fail(&p, t0()), Some(p.lockout));
        let later = t0() + Duration::minutes(1);
        assert_eq!(c.fail(&p, later), Some(p.lockout - Duration::minutes(1)));
        assert!(c.admits(&p, t0() + p.lockout).is_ok());
    }

    #[test]
    fn ipv6_addresses_are_keyed_by_their_64() {
        let key = |s: &str| address_key(s.parse().unwrap());
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:bbbb:cccc:dddd:eeee"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("::1"), "::/64");
    }
}
