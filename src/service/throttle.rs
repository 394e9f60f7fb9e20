//! In-memory login throttle (policy in `domain::throttle`): counters per account, per
//! address, per trusted device, and per account for password changes. An attempt
//! reserves its slots on every key at once, before the password is checked, and settles
//! them when the check is done (or gives them back if it never ran). Memory stays
//! bounded: idle counters are pruned.

use crate::config::AuthConfig;
use crate::domain::throttle::{Counter, Policy};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// What a counter is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Sign-ins to an account from clients without its device cookie.
    Account,
    /// Sign-ins from one client address (an IPv6 /64), to any account.
    Address,
    /// Sign-ins presenting one device cookie.
    Device,
    /// Wrong current passwords when changing an account's password.
    PasswordChange,
}

impl Scope {
    /// Whether a success on this key forgives its earlier failures. An address is
    /// shared: one account's success says nothing about the others tried from it.
    fn forgives(self) -> bool {
        !matches!(self, Scope::Address)
    }
}

type Key = (Scope, String);

#[derive(Debug)]
struct Inner {
    account_policy: Policy,
    address_policy: Policy,
    counters: Mutex<HashMap<Key, Counter>>,
}

impl Inner {
    fn policy(&self, scope: Scope) -> &Policy {
        match scope {
            Scope::Address => &self.address_policy,
            Scope::Account | Scope::Device | Scope::PasswordChange => &self.account_policy,
        }
    }

    fn counters(&self) -> MutexGuard<'_, HashMap<Key, Counter>> {
        self.counters.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    inner: Arc<Inner>,
}

/// Above this many counters, idle ones are pruned on the next reservation.
const PRUNE_ABOVE: usize = 30_000;

fn seconds(d: Duration) -> u64 {
    // Round up: a client told to wait 0 seconds would retry too early.
    let ms = d.num_milliseconds().max(0) as u64;
    ms.div_ceil(1000).max(1)
}

impl LoginThrottle {
    pub fn new(cfg: &AuthConfig) -> Self {
        let window =
            Duration::seconds(i64::try_from(cfg.throttle_window_secs).unwrap_or(i64::MAX / 1000));
        let lockout = Duration::seconds(i64::try_from(cfg.lockout_secs).unwrap_or(i64::MAX / 1000));
        Self {
            inner: Arc::new(Inner {
                account_policy: Policy {
                    max_failures: cfg.max_failures_per_account,
                    window,
                    lockout,
                },
                address_policy: Policy {
                    max_failures: cfg.max_failures_per_address,
                    window,
                    lockout,
                },
                counters: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Reserves one attempt on every key, or none: `Err(seconds)` when any key must
    /// wait (locked, or its last allowed attempts are still being checked).
    pub fn reserve(&self, now: DateTime<Utc>, keys: &[(Scope, &str)]) -> Result<Attempt, u64> {
        let inner = &self.inner;
        let mut map = inner.counters();
        if map.len() > PRUNE_ABOVE {
            map.retain(|(scope, _), c| !c.is_idle(inner.policy(*scope), now));
        }
        let wait = keys
            .iter()
            .filter_map(|(scope, key)| {
                map.get(&(*scope, (*key).to_owned()))
                    .and_then(|c| c.admits(inner.policy(*scope), now).err())
            })
            .max();
        if let Some(wait) = wait {
            return Err(seconds(wait));
        }
        let keys: Vec<Key> = keys.iter().map(|(s, k)| (*s, (*k).to_owned())).collect();
        for key in &keys {
            map.entry(key.clone())
                .or_default()
                .reserve(inner.policy(key.0), now);
        }
        Ok(Attempt {
            throttle: self.clone(),
            keys,
        })
    }

    /// Forgets idle counters (the scheduler calls this).
    pub fn prune(&self, now: DateTime<Utc>) {
        let inner = &self.inner;
        inner
            .counters()
            .retain(|(scope, _), c| !c.is_idle(inner.policy(*scope), now));
    }
}

/// Reserved slots for one password check. Settle it with `failed` or `succeeded`; if it
/// is dropped unsettled (the check never ran: no capacity, an error on the way), the
/// slots are given back.
#[derive(Debug)]
#[must_use = "an attempt is settled with failed() or succeeded()"]
pub struct Attempt {
    throttle: LoginThrottle,
    keys: Vec<Key>,
}

impl Attempt {
    /// The password was wrong: the attempt counts on every key. `Some(seconds)` when a
    /// key is locked now.
    pub fn failed(mut self, now: DateTime<Utc>) -> Option<u64> {
        let keys = std::mem::take(&mut self.keys);
        let inner = &self.throttle.inner;
        let mut map = inner.counters();
        keys.iter()
            .filter_map(|key| {
                map.entry(key.clone())
                    .or_default()
                    .fail(inner.policy(key.0), now)
            })
            .max()
            .map(seconds)
    }

    /// The password was right: the slots are given back, and the keys that belong to
    /// this account or device forgive their failures.
    pub fn succeeded(mut self) {
        let keys = std::mem::take(&mut self.keys);
        let mut map = self.throttle.inner.counters();
        for key in &keys {
            if let Some(c) = map.get_mut(key) {
                if key.0.forgives() {
                    c.succeed();
                } else {
                    c.release();
                }
            }
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.keys.is_empty() {
            return;
        }
        let mut map = self.throttle.inner.counters();
        for key in &self.keys {
            if let Some(c) = map.get_mut(key) {
                c.release();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(&AuthConfig {
            max_failures_per_account: 2,
            max_failures_per_address: 3,
            ..AuthConfig::default()
        })
    }

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn reserves_all_keys_or_none() {
        let t = throttle();
        let keys = [(Scope::Account, "a"), (Scope::Address, "ip")];
        let first = t.reserve(t0(), &keys).unwrap();
        let second = t.reserve(t0(), &keys).unwrap();
        assert_eq!(t.reserve(t0(), &keys).unwrap_err(), 1, "account full");
        // The address still has room for another account; the refusal above took none.
        let other = t.reserve(t0(), &[(Scope::Account, "b"), (Scope::Address, "ip")]);
        let other = other.unwrap();
        assert!(t.reserve(t0(), &[(Scope::Address, "ip")]).is_err());
        drop(other);
        assert_eq!(first.failed(t0()), None);
        assert_eq!(second.failed(t0()), Some(900));
        assert_eq!(t.reserve(t0(), &keys).unwrap_err(), 900);
    }

    #[test]
    fn an_unsettled_attempt_gives_its_slots_back() {
        let t = throttle();
        let keys = [(Scope::Device, "d")];
        for _ in 0..10 {
            let attempt = t.reserve(t0(), &keys).unwrap();
            drop(attempt);
        }
        let a = t.reserve(t0(), &keys).unwrap();
        a.succeeded();
        t.prune(t0());
        assert!(t.inner.counters().is_empty());
    }

    #[test]
    fn success_forgives_the_account_not_the_address() {
        let t = throttle();
        let keys = [(Scope::Account, "a"), (Scope::Address, "ip")];
        assert_eq!(t.reserve(t0(), &keys).unwrap().failed(t0()), None);
        t.reserve(t0(), &keys).unwrap().succeeded();
        // The account's failure was forgiven; the address still holds one of three.
        assert_eq!(t.reserve(t0(), &keys).unwrap().failed(t0()), None);
        assert_eq!(
            t.reserve(t0(), &[(Scope::Account, "b"), (Scope::Address, "ip")])
                .unwrap()
                .failed(t0()),
            Some(900)
        );
    }
}
