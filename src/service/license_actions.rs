//! Staff actions on a license (license.revoke): revoke, rebind, suspend, reinstate;
//! setting the subscription status; queueing directives for the appliance.

use super::licenses::{LicenseView, apply_event, load, view_in};
use super::tenant::Tenant;
use super::{Actor, Result, audit, refuse};
use crate::domain::activation::{DirectiveKind, SupersededReason};
use crate::domain::fields::REASON_MAX;
use crate::domain::license::check_fingerprint;
use crate::domain::lifecycle::{Event, Subscription, SubscriptionStatus};
use crate::error::ErrorCode;
use crate::store::licenses as store;
use crate::store::{WriteTx, activations, directives};
use chrono::{DateTime, Utc};
use serde_json::json;

/// A reason or message: free text of up to 500 characters, lines allowed.
fn reason_text(field: &'static str, s: &str, required: bool) -> Result<String> {
    let s = crate::domain::free_text::lines(field, s, REASON_MAX, false)?;
    if required && s.is_empty() {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            format!("{field}: say why"),
        ));
    }
    Ok(s)
}

/// Re-reads the license after an action and re-assesses its installation (its
/// capacity may have changed).
fn reread(
    tenant: &Tenant,
    now: DateTime<Utc>,
    tx: &WriteTx<'_>,
    actor: &Actor,
    id: &str,
) -> Result<LicenseView> {
    let license = load(tx, id)?;
    super::installations::reassess(tx, tenant, &license.install_id, now, actor, None)?;
    view_in(tx, tenant, now, license)
}

/// Revokes: activation is denied from now on and the next heartbeat gets a lock. Final.
pub fn revoke(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<LicenseView> {
    let reason = reason_text("reason", reason, true)?;
    tenant.db.write(|tx| {
        let l = load(tx, id)?;
        if l.revoked_at.is_none() {
            apply_event(
                tx,
                tenant,
                now,
                actor,
                &l,
                &Event::Revoke,
                Some(("license.revoke", json!({"reason": reason}))),
            )?;
            store::set_revoked(tx, id, &reason, now)?;
        }
        reread(tenant, now, tx, actor, id)
    })
}

/// Moves the license to new hardware: the old box's next heartbeat gets a lock; the
/// new box activates with the same license key.
pub fn rebind(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    fingerprint: &str,
) -> Result<LicenseView> {
    let fingerprint = check_fingerprint(fingerprint)?;
    tenant.db.write(|tx| {
        let l = load(tx, id)?;
        let details = json!({"from": l.bound_fingerprint, "to": fingerprint});
        apply_event(
            tx,
            tenant,
            now,
            actor,
            &l,
            &Event::Rebind {
                fingerprint: fingerprint.clone(),
            },
            Some(("license.rebind", details)),
        )?;
        activations::supersede_all(tx, id, SupersededReason::Rebind, now)?;
        reread(tenant, now, tx, actor, id)
    })
}

pub fn suspend(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<LicenseView> {
    let reason = reason_text("reason", reason, false)?;
    tenant.db.write(|tx| {
        let l = load(tx, id)?;
        apply_event(
            tx,
            tenant,
            now,
            actor,
            &l,
            &Event::Suspend,
            Some(("license.suspend", json!({"reason": reason}))),
        )?;
        store::set_suspend_note(tx, id, &reason)?;
        reread(tenant, now, tx, actor, id)
    })
}

pub fn reinstate(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
) -> Result<LicenseView> {
    tenant.db.write(|tx| {
        let l = load(tx, id)?;
        apply_event(
            tx,
            tenant,
            now,
            actor,
            &l,
            &Event::Reinstate,
            Some(("license.reinstate", json!({}))),
        )?;
        reread(tenant, now, tx, actor, id)
    })
}

/// Sets the subscription status (until billing arrives, staff set it); the license
/// follows at once (suspended when no longer valid, active again when restored).
pub fn set_subscription(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    status: SubscriptionStatus,
    period_end: Option<DateTime<Utc>>,
) -> Result<LicenseView> {
    if let Some(t) = period_end {
        crate::domain::timestamp::check("period_end", t)?;
    }
    if status == SubscriptionStatus::Canceled && period_end.is_none() {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "period_end: a canceled subscription needs the end of its paid period",
        ));
    }
    let sub = Subscription { status, period_end };
    tenant.db.write(|tx| {
        set_subscription_in(tx, tenant, now, actor, id, sub)?;
        reread(tenant, now, tx, actor, id)
    })
}

/// `set_subscription` inside a transaction (billing moves a license's subscription
/// with its own).
pub(super) fn set_subscription_in(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    sub: Subscription,
) -> Result<()> {
    let l = load(tx, id)?;
    store::set_subscription(tx, id, &sub)?;
    audit::record(
        tx,
        now,
        actor,
        "license.subscription",
        &format!("license:{id}"),
        json!({"status": sub.status, "period_end": sub.period_end}),
    )?;
    let mut updated = l;
    updated.subscription = sub;
    // The cause is the change of subscription, not time: history says `subscription`.
    apply_event(
        tx,
        tenant,
        now,
        actor,
        &updated,
        &Event::SubscriptionChanged,
        None,
    )?;
    Ok(())
}

pub use crate::domain::fields::DIRECTIVE_KINDS;

/// Queues a directive for the license's current activation (or, with none, for the
/// next one); it rides on every lease of that activation until the appliance confirms
/// one that carried it.
pub fn queue_directive(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    kind: &str,
    message: &str,
) -> Result<i64> {
    let kind: DirectiveKind = kind
        .parse()
        .ok()
        .filter(|k| DirectiveKind::STAFF.contains(k))
        .ok_or_else(|| {
            refuse(
                ErrorCode::ValidationFailed,
                format!(
                    "kind: {kind:?} is not one of {}",
                    DIRECTIVE_KINDS.join(", ")
                ),
            )
        })?;
    let message = reason_text("message", message, kind == DirectiveKind::Message)?;
    tenant.db.write(|tx| {
        load(tx, id)?;
        let activation = activations::current_id(tx, id)?;
        let did = directives::insert(tx, id, activation, kind, &message, &actor.audit_name(), now)?;
        audit::record(
            tx,
            now,
            actor,
            "license.directive",
            &format!("license:{id}"),
            json!({"id": did, "kind": kind, "message": message, "activation_id": activation}),
        )?;
        Ok(did)
    })
}
