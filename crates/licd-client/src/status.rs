//! One answer to "may the product run, and how?": [`status`].
//!
//! The rules, first match wins:
//!
//! 1. `not_activated`: no lease held;
//! 2. `revoked`: a revocation bundle was applied, or the lease's `lock_reason` is
//!    `revoked`;
//! 3. `expired`: the license key's `exp` passed, or the lease's `lock_reason` is
//!    `expired`;
//! 4. `locked { reason }`: the lease's `lock_reason` (`rebound`, `suspended`), a
//!    `lock` directive in force (`directive: <message>`), or the lease's offline time
//!    is over (`offline_too_long`);
//! 5. `clock_rollback { by_secs, signal }`: a rollback was seen and the policy is
//!    [`OnClockRollback::Lock`] (with [`OnClockRollback::Warn`] the state goes on and
//!    `clock_warning` says it);
//! 6. `valid`: offline mode (leases from files), or licd answered within
//!    [`Policy::fresh_for`];
//! 7. `grace { remaining_secs, until }`: online but out of touch; the product runs until
//!    `until` (the lease's `lease_expires_at`).
//!
//! ```
//! use licd_client::{status::{status, Policy, State}, store::StoreState};
//!
//! let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
//! let answer = status(&StoreState::default(), now, &Policy::default(), None);
//! assert_eq!(answer.state, State::NotActivated);
//! assert!(!answer.state.may_run());
//! let json = serde_json::to_value(&answer)?;
//! assert_eq!(json["state"], "not_activated");
//! # Ok::<(), serde_json::Error>(())
//! ```

use crate::clock::{ClockGuard, ClockSignal, Rollback};
use crate::store::{Mode, StoreState, StoredMessage};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The state, with what it needs said (serialised tagged by `state`, `snake_case`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Licensed and in touch (or offline with a lease from a file).
    Valid,
    /// Licensed, out of touch with licd: runs until `until`.
    Grace {
        /// Seconds left.
        remaining_secs: i64,
        /// The lease's `lease_expires_at`.
        until: DateTime<Utc>,
    },
    /// Must stop: `rebound`, `suspended`, `directive: <message>`, `offline_too_long`.
    Locked {
        /// Why.
        reason: String,
    },
    /// The license expired.
    Expired,
    /// The license was revoked.
    Revoked,
    /// No activation yet.
    NotActivated,
    /// The clock was set back (policy `lock`).
    ClockRollback {
        /// By how many seconds.
        by_secs: i64,
        /// Which signal saw it.
        signal: ClockSignal,
    },
}

impl State {
    /// `valid`, `grace`, `locked`, `expired`, `revoked`, `not_activated` or
    /// `clock_rollback`.
    pub fn name(&self) -> &'static str {
        match self {
            State::Valid => "valid",
            State::Grace { .. } => "grace",
            State::Locked { .. } => "locked",
            State::Expired => "expired",
            State::Revoked => "revoked",
            State::NotActivated => "not_activated",
            State::ClockRollback { .. } => "clock_rollback",
        }
    }

    /// Whether the product may run (`valid` or `grace`).
    pub fn may_run(&self) -> bool {
        matches!(self, State::Valid | State::Grace { .. })
    }
}

/// A rollback seen under the `warn` policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockWarning {
    /// By how many seconds the clock is behind.
    pub by_secs: i64,
    /// Which signal saw it.
    pub signal: ClockSignal,
}

/// The answer: the state plus what the product shows and enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The state (serialised as `state` and its fields, flattened).
    #[serde(flatten)]
    pub state: State,
    /// Violation stage from the latest lease (`none` without one).
    pub stage: String,
    /// Who sees a banner: `none`, `admins`, `everyone`.
    pub banner: String,
    /// Whether the product must run read-only.
    pub read_only: bool,
    /// Feature names granted by the license key.
    pub features: Vec<String>,
    /// Internal users granted by the key (0 without a key).
    pub internal_users: u32,
    /// External users granted by the key (0 without a key).
    pub external_users: u32,
    /// The license.
    pub license_id: Option<String>,
    /// When the license key expires.
    pub license_expires_at: Option<DateTime<Utc>>,
    /// Online or offline.
    pub mode: Mode,
    /// The seq of the lease held (0: none).
    pub lease_seq: i64,
    /// Until when the appliance may run without contact.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// The last successful contact with licd (local time).
    pub last_contact: Option<DateTime<Utc>>,
    /// Messages from licd, oldest first.
    pub messages: Vec<StoredMessage>,
    /// A rollback seen while the policy is `warn`.
    pub clock_warning: Option<ClockWarning>,
}

/// What to do when the clock was set back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnClockRollback {
    /// The state becomes `clock_rollback` (the default).
    #[default]
    Lock,
    /// The state goes on; `clock_warning` says it.
    Warn,
}

/// The vendor's choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Lock or warn on a clock rollback.
    pub on_clock_rollback: OnClockRollback,
    /// How recent the last contact must be for `valid` (online); older is `grace`.
    /// Default: 3 heartbeat intervals of one hour.
    pub fresh_for: Duration,
    /// The rollback check.
    pub clock: ClockGuard,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::for_heartbeat_interval(3600)
    }
}

impl Policy {
    /// The default policy for a heartbeat every `secs` seconds: fresh for three
    /// intervals, lock on rollback, the default clock tolerance.
    pub fn for_heartbeat_interval(secs: u32) -> Self {
        Policy {
            on_clock_rollback: OnClockRollback::Lock,
            fresh_for: Duration::seconds(i64::from(secs) * 3),
            clock: ClockGuard::default(),
        }
    }
}

fn time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// The status at `now` of the appliance whose store holds `state`. `rollback` is what
/// [`ClockGuard::check`] found (the caller runs it, with its monotonic sample).
pub fn status(
    state: &StoreState,
    now: DateTime<Utc>,
    policy: &Policy,
    rollback: Option<Rollback>,
) -> Status {
    let lease = state.lease();
    let license = state.license.as_ref();
    let warn = policy.on_clock_rollback == OnClockRollback::Warn;
    Status {
        state: decide(state, now, policy, rollback),
        stage: lease.map_or("none", |l| &l.stage).to_owned(),
        banner: lease.map_or("none", |l| &l.banner).to_owned(),
        read_only: lease.is_some_and(|l| l.read_only),
        features: license.map(|l| l.features.clone()).unwrap_or_default(),
        internal_users: license.map_or(0, |l| l.internal_users),
        external_users: license.map_or(0, |l| l.external_users),
        license_id: state.license_id.clone(),
        license_expires_at: license.map(|l| time(l.exp)),
        mode: state.mode,
        lease_seq: lease.map_or(0, |l| l.seq),
        lease_expires_at: lease.map(|l| l.lease_expires_at),
        last_contact: state.last_contact,
        messages: state.messages.clone(),
        clock_warning: rollback.filter(|_| warn).map(|r| ClockWarning {
            by_secs: r.by.num_seconds(),
            signal: r.signal,
        }),
    }
}

fn decide(
    state: &StoreState,
    now: DateTime<Utc>,
    policy: &Policy,
    rollback: Option<Rollback>,
) -> State {
    let Some(lease) = state.lease() else {
        return State::NotActivated;
    };
    let reason = lease.lock_reason.as_deref();
    if state.revoked.is_some() || reason == Some("revoked") {
        return State::Revoked;
    }
    let key_expired = state
        .license
        .as_ref()
        .is_some_and(|l| now.timestamp() >= l.exp);
    if key_expired || reason == Some("expired") {
        return State::Expired;
    }
    if let Some(reason) = reason {
        return State::Locked {
            reason: reason.to_owned(),
        };
    }
    if lease.state != "active" {
        return State::Locked {
            reason: lease.state.clone(),
        };
    }
    if let Some(message) = &state.locked_by_directive {
        return State::Locked {
            reason: format!("directive: {message}"),
        };
    }
    if now >= lease.lease_expires_at {
        return State::Locked {
            reason: "offline_too_long".into(),
        };
    }
    if let Some(r) = rollback
        && policy.on_clock_rollback == OnClockRollback::Lock
    {
        return State::ClockRollback {
            by_secs: r.by.num_seconds(),
            signal: r.signal,
        };
    }
    let fresh = state
        .last_contact
        .is_some_and(|t| now - t <= policy.fresh_for);
    if state.mode == Mode::Offline || fresh {
        return State::Valid;
    }
    State::Grace {
        remaining_secs: (lease.lease_expires_at - now).num_seconds(),
        until: lease.lease_expires_at,
    }
}

#[cfg(test)]
mod tests;
