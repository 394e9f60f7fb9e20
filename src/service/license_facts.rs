//! What the rules read from a stored license: its status and life-cycle facts (for
//! `domain::lifecycle`) and its part in its installation's capacity (for
//! `domain::violation`). Issuing and events, installations, the sweep and the heartbeat
//! path all read them from here, from a whole license row or from the capacity columns
//! the heartbeat path loads.

use super::tenant::Tenant;
use crate::domain::lifecycle::{self, Facts, LicenseState, Status};
use crate::domain::violation::Contribution;
use crate::store::licenses::{CapacityRow, LicenseRow};
use chrono::{DateTime, Utc};

/// A stored license as the rules see it.
pub trait StoredLicense {
    /// Its stored status (before time is applied; see `settled`).
    fn status(&self) -> Status;
    /// Its facts, with the tenant's grace window.
    fn facts(&self, grace: chrono::Duration) -> Facts;
    /// Internal and external users it grants.
    fn users(&self) -> (u32, u32);
}

/// The grace window of a license: the tenant's, or longer while an appliance activated
/// from a request file (air-gapped: it never heartbeats) runs on its offline lease.
fn window(
    grace: chrono::Duration,
    last_seen: Option<DateTime<Utc>>,
    offline_until: Option<DateTime<Utc>>,
) -> chrono::Duration {
    match last_seen.zip(offline_until) {
        Some((seen, until)) if until - seen > grace => until - seen,
        _ => grace,
    }
}

impl StoredLicense for LicenseRow {
    fn status(&self) -> Status {
        Status::new(self.state, self.suspend_reason)
    }

    fn facts(&self, grace: chrono::Duration) -> Facts {
        Facts {
            not_before: self.not_before,
            expires_at: self.expires_at,
            bound_fingerprint: self.bound_fingerprint.clone(),
            last_seen: self.last_seen_at,
            grace: window(grace, self.last_seen_at, self.offline_until),
            subscription: self.subscription,
            suspend_reason: self.suspend_reason,
        }
    }

    fn users(&self) -> (u32, u32) {
        (self.internal_users, self.external_users)
    }
}

impl StoredLicense for CapacityRow {
    fn status(&self) -> Status {
        Status::new(self.state, self.suspend_reason)
    }

    fn facts(&self, grace: chrono::Duration) -> Facts {
        Facts {
            not_before: self.not_before,
            expires_at: self.expires_at,
            bound_fingerprint: self.bound_fingerprint.clone(),
            last_seen: self.last_seen_at,
            grace: window(grace, self.last_seen_at, self.offline_until),
            subscription: self.subscription,
            suspend_reason: self.suspend_reason,
        }
    }

    fn users(&self) -> (u32, u32) {
        (self.internal_users, self.external_users)
    }
}

/// The license's facts under the tenant's settings.
pub fn facts(l: &impl StoredLicense, tenant: &Tenant) -> Facts {
    l.facts(tenant.settings().grace())
}

/// The status with what time alone changes applied (expiry, grace, subscription).
pub fn settled(l: &impl StoredLicense, tenant: &Tenant, now: DateTime<Utc>) -> Status {
    lifecycle::settle(l.status(), &facts(l, tenant), now)
}

/// Whether a license in force adds its users (revoked and suspended ones do not;
/// expiry is judged from the dates by the rule itself).
fn in_force(state: LicenseState) -> bool {
    !matches!(state, LicenseState::Revoked | LicenseState::Suspended)
}

/// The license's part in its installation's capacity at `now`.
pub fn contribution(l: &impl StoredLicense, tenant: &Tenant, now: DateTime<Utc>) -> Contribution {
    let facts = facts(l, tenant);
    let state = lifecycle::settle(l.status(), &facts, now).state;
    let (internal_users, external_users) = l.users();
    Contribution {
        internal_users,
        external_users,
        not_before: facts.not_before,
        expires_at: facts.expires_at,
        in_force: in_force(state),
        changes_at: lifecycle::next_settle(l.status(), &facts, now),
    }
}
