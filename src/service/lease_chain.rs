//! The lease chain as licd issues it: each lease of an activation is decided and
//! recorded inside the transaction that causes it (its seq and the chain hash of the
//! one before), and signed after. Activation, heartbeats and renewal bundles for boxes
//! licd cannot reach all take their next lease from here.

use super::installations;
use super::tenant::{KeyRing, Tenant};
use super::{Actor, Result, ServiceError};
use crate::domain::activation::DirectiveKind;
use crate::domain::lease::{LEASE_TYP, LeaseClaims, LeaseDirective, LockReason, lease_window};
use crate::domain::license::audience;
use crate::domain::lifecycle::LicenseState;
use crate::domain::violation::Stage;
use crate::pki::jws;
use crate::store::activations::ActivationRow;
use crate::store::leases::{self, Heard};
use crate::store::licenses::{self as store, LicenseRow};
use crate::store::{WriteTx, directives};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeaseReply {
    pub license_id: String,
    pub state: LicenseState,
    /// The signed lease (compact JWS, `typ=licd-lease+jwt`).
    pub lease: String,
    /// The lease's claims, decoded for convenience (trust the signed copy).
    pub claims: LeaseClaims,
}

/// A lease decided and recorded (seq and chain hash) inside a transaction, to be signed
/// after it commits so the write lock is not held for the signature.
#[derive(Debug)]
pub struct PendingLease {
    ring: Arc<KeyRing>,
    input: String,
    claims: LeaseClaims,
}

impl PendingLease {
    /// What the lease will say.
    pub fn claims(&self) -> &LeaseClaims {
        &self.claims
    }

    pub fn sign(self) -> Result<LeaseReply> {
        let lease = jws::finish(&self.ring.active, self.input)
            .map_err(|e| ServiceError::internal("signing a lease", e))?;
        Ok(LeaseReply {
            license_id: self.claims.license_id.clone(),
            state: self.claims.state,
            lease,
            claims: self.claims,
        })
    }
}

/// Which activation a lease is for and what it says beyond the license's record.
#[derive(Debug)]
pub(super) struct LeaseFor<'a> {
    pub(super) activation_id: i64,
    pub(super) fingerprint: &'a str,
    /// This lease's seq and the chain hash of the one before it.
    pub(super) seq: i64,
    pub(super) prev: &'a str,
    pub(super) state: LicenseState,
    pub(super) stage: Stage,
    /// Set when the appliance must stop: the lease then grants no offline time.
    pub(super) lock: Option<LockReason>,
    /// The current activation's leases carry its directives (and the appliance's
    /// `confirmed_seq` acknowledges them); a superseded one's carry its lock only.
    pub(super) delivery: Delivery,
    /// How long the lease lets the appliance run without contact: the offline lease of
    /// a box activated from a request file, else (`None`) the grace window.
    pub(super) window: Option<Duration>,
    /// The heartbeat this lease answers, recorded with it (`leases::record`).
    pub(super) heard: Option<Heard>,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Delivery {
    Directives { confirmed_seq: i64 },
    LockOnly,
}

/// Builds and records the next lease of an activation.
pub(super) fn prepare_lease(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    license: &LicenseRow,
    lease: LeaseFor<'_>,
) -> Result<PendingLease> {
    let settings = tenant.settings();
    let window = lease.window.unwrap_or_else(|| settings.grace());
    let (lease_expires_at, exp) = lease_window(now, window, lease.lock);
    let mut directives: Vec<LeaseDirective> = Vec::new();
    if let Some(reason) = lease.lock {
        directives.push(LeaseDirective {
            id: None,
            kind: DirectiveKind::Lock.as_str().into(),
            message: reason.message().into(),
            license_key: None,
        });
    }
    if let Delivery::Directives { confirmed_seq } = lease.delivery {
        let id = lease.activation_id;
        // Most leases carry nothing: one read, and writes only when there is something.
        let mut pending = directives::deliverable(tx, &license.id, id)?;
        if !pending.is_empty() && directives::acknowledge(tx, id, confirmed_seq, now)? > 0 {
            pending = directives::deliverable(tx, &license.id, id)?;
        }
        if !pending.is_empty() {
            directives::mark_carried(tx, &license.id, id, lease.seq)?;
        }
        directives.extend(pending.into_iter().map(|d| LeaseDirective {
            id: Some(d.id),
            kind: d.kind.as_str().into(),
            message: d.message,
            license_key: d.license_key,
        }));
    }
    let claims = LeaseClaims {
        iss: tenant.issuer(),
        sub: license.id.clone(),
        aud: audience(&license.install_id),
        iat: now.timestamp(),
        exp: exp.timestamp(),
        license_id: license.id.clone(),
        install_id: license.install_id.clone(),
        fingerprint: lease.fingerprint.to_owned(),
        state: lease.state,
        lock_reason: lease.lock,
        stage: lease.stage,
        banner: lease.stage.banner(),
        read_only: lease.stage.read_only(),
        lease_expires_at,
        server_time: now,
        seq: lease.seq,
        prev: lease.prev.to_owned(),
        heartbeat_interval_secs: settings.heartbeat_interval_secs,
        directives,
    };
    let ring = tenant.keyring()?;
    let input = jws::signing_input(ring.active.kid(), LEASE_TYP, &claims)
        .map_err(|e| ServiceError::internal("encoding a lease", e))?;
    leases::record(
        tx,
        &license.id,
        lease.activation_id,
        lease.seq,
        &jws::chain_hash(&input),
        lease.heard,
    )?;
    Ok(PendingLease {
        ring,
        input,
        claims,
    })
}

/// The next lease of an offline activation, for a renewal bundle: chained to the last
/// one it was given, carrying no directives (the box cannot confirm them), valid for
/// the offline lease window unless the license must stop.
pub(super) fn renewal_lease(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    license: &LicenseRow,
    activation: &ActivationRow,
    state: LicenseState,
) -> Result<PendingLease> {
    let assessed = installations::reassess(tx, tenant, &license.install_id, now, actor, None)?;
    let lock = LockReason::for_state(state);
    let lease = prepare_lease(
        tx,
        tenant,
        now,
        license,
        LeaseFor {
            activation_id: activation.id,
            fingerprint: &activation.fingerprint,
            seq: activation.last_seq + 1,
            prev: &activation.last_lease_hash,
            state,
            stage: if lock.is_some() {
                Stage::None
            } else {
                assessed.stage
            },
            lock,
            delivery: Delivery::LockOnly,
            window: Some(tenant.settings().offline_lease()),
            heard: None,
        },
    )?;
    if lock.is_none() {
        store::set_offline_until(tx, &license.id, Some(lease.claims().lease_expires_at))?;
    }
    Ok(lease)
}
