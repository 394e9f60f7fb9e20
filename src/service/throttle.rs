//! In-memory login throttle: failure counters per account and per address (policy in
//! `domain::throttle`). Memory stays bounded: idle counters are pruned.

use crate::config::AuthConfig;
use crate::domain::throttle::{Counter, Policy};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug)]
pub struct LoginThrottle {
    account_policy: Policy,
    address_policy: Policy,
    accounts: Mutex<HashMap<String, Counter>>,
    addresses: Mutex<HashMap<String, Counter>>,
}

/// Above this many counters in one map, idle ones are pruned on the next failure.
const PRUNE_ABOVE: usize = 10_000;

fn seconds(d: Duration) -> u64 {
    // Round up: a client told to wait 0 seconds would retry too early.
    let ms = d.num_milliseconds().max(0) as u64;
    ms.div_ceil(1000).max(1)
}

impl LoginThrottle {
    pub fn new(cfg: &AuthConfig) -> Self {
        let window = Duration::seconds(cfg.throttle_window_secs as i64);
        let lockout = Duration::seconds(cfg.lockout_secs as i64);
        Self {
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
            accounts: Mutex::new(HashMap::new()),
            addresses: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds)` when the account or the address must wait.
    pub fn check(&self, now: DateTime<Utc>, account: &str, address: &str) -> Result<(), u64> {
        let lookup = |m: &Mutex<HashMap<String, Counter>>, k: &str| {
            m.lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(k)
                .map(|c| c.check(now))
                .unwrap_or(Ok(()))
        };
        lookup(&self.accounts, account)
            .and(lookup(&self.addresses, address))
            .map_err(seconds)
    }

    /// Records a failed login; `Some(seconds)` if it triggered a lockout.
    pub fn failure(&self, now: DateTime<Utc>, account: &str, address: &str) -> Option<u64> {
        let record = |m: &Mutex<HashMap<String, Counter>>, policy: &Policy, k: &str| {
            let mut map = m.lock().unwrap_or_else(|p| p.into_inner());
            if map.len() > PRUNE_ABOVE {
                map.retain(|_, c| !c.is_idle(policy, now));
            }
            map.entry(k.to_owned())
                .or_default()
                .record_failure(policy, now)
        };
        let a = record(&self.accounts, &self.account_policy, account);
        let b = record(&self.addresses, &self.address_policy, address);
        a.max(b).map(seconds)
    }

    /// A successful login clears the account's counter (not the address's).
    pub fn success(&self, account: &str) {
        self.accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account);
    }

    /// Forgets idle counters (the scheduler calls this).
    pub fn prune(&self, now: DateTime<Utc>) {
        for (m, p) in [
            (&self.accounts, &self.account_policy),
            (&self.addresses, &self.address_policy),
        ] {
            m.lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|_, c| !c.is_idle(p, now));
        }
    }
}
