//! The running agent's shared parts: config, clock, identity, licd's keys, the lease
//! store, and the one status answer (computed from the store and the clock at each
//! question, so the remaining grace is always current).

use super::clock::AgentClock;
use super::config::AgentConfig;
use super::identity::{Identity, keys_of, load_jwks};
use super::schedule::Schedule;
use super::store_cell::{Snapshot, StoreCell};
use anyhow::Result;
use licd_client::clock::ClockGuard;
use licd_client::keys::PublicKey;
use licd_client::status::{Policy, status};
use licd_client::store::StoreState;
use serde_json::{Value, json};
use std::sync::Mutex;

/// The agent.
#[derive(Debug)]
pub struct Agent {
    pub config: AgentConfig,
    pub clock: AgentClock,
    pub identity: Identity,
    pub cell: StoreCell,
    pub schedule: Schedule,
    keys: Mutex<Vec<PublicKey>>,
}

impl Agent {
    /// Loads the identity and licd's keys (when known yet), opens nothing else.
    pub fn start(config: AgentConfig) -> Result<Agent> {
        let clock = AgentClock::start(config.clock_offset_secs);
        let identity = Identity::load(&config)?;
        let keys = match load_jwks(&config)? {
            Some(jwks) => keys_of(&jwks, "the JWKS")?,
            None => Vec::new(),
        };
        let cell = StoreCell::new(&config.store_path(), identity.key.clone());
        let schedule = Schedule {
            configured_secs: config.heartbeat_interval_secs,
            max_secs: config.max_interval_secs,
            jitter_percent: config.jitter_percent,
            backoff_max_secs: config.backoff_max_secs,
        };
        Ok(Agent {
            config,
            clock,
            identity,
            cell,
            schedule,
            keys: Mutex::new(keys),
        })
    }

    /// licd's public keys as known now.
    pub fn keys(&self) -> Vec<PublicKey> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces licd's public keys (after a fetch).
    pub fn set_keys(&self, keys: Vec<PublicKey>) {
        *self.keys.lock().unwrap_or_else(|p| p.into_inner()) = keys;
    }

    /// The heartbeat interval in force for a store (the head lease's, capped).
    pub fn interval_secs(&self, state: &StoreState) -> u64 {
        let lease_interval = state.lease().map(|l| l.heartbeat_interval_secs);
        self.schedule.interval_secs(lease_interval)
    }

    /// The status policy: the configured rollback action, fresh for three heartbeat
    /// intervals, the default clock tolerance.
    pub fn policy(&self, state: &StoreState) -> Policy {
        let interval = self.interval_secs(state);
        Policy {
            on_clock_rollback: self.config.on_clock_rollback,
            fresh_for: chrono::Duration::seconds(3 * interval as i64),
            clock: ClockGuard::default(),
        }
    }

    /// The status as the API answers it.
    pub fn status_json(&self) -> Value {
        match self.cell.snapshot() {
            Snapshot::State(state) => {
                let now = self.clock.now();
                let policy = self.policy(&state);
                let rollback = policy
                    .clock
                    .check(now, &state, Some(self.clock.monotonic()));
                serde_json::to_value(status(&state, now, &policy, rollback)).unwrap_or_else(
                    |e| json!({"state": "locked", "reason": format!("status: {e}")}),
                )
            }
            Snapshot::Broken(why) => json!({
                "state": "locked",
                "reason": format!("lease store unusable: {why}"),
            }),
        }
    }
}
