//! New keys for a license (license.issue): renew (a later expiry), change (user counts,
//! features, name) and reissue (the same grant under the current signing key), one
//! license at a time or every live license a signing key signed. Each signs a new key
//! for the same license id; the old key stops being the current one (the license's
//! history keeps it), and the bound appliance is sent the new key in an `install_key`
//! directive on its next lease. An appliance that activates with a superseded key of
//! its license is activated and sent the current key the same way
//! (`service::appliance::activate`).

use super::licenses::{LicenseView, apply_event, load, refusal, view_in};
use super::tenant::Tenant;
use super::{Actor, Result, ServiceError, audit, refuse};
use crate::domain::activation::DirectiveKind;
use crate::domain::license::{Amendment, KeyReason, LICENSE_TYP, ValidLicense, amend};
use crate::domain::lifecycle::{Event, LicenseState, Refusal};
use crate::error::ErrorCode;
use crate::pki::jws;
use crate::store::licenses::{self as store, GrantUpdate, LicenseRow};
use crate::store::{WriteTx, activations, directives, license_keys};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use utoipa::ToSchema;

/// Most licenses one "reissue them all" signs (run it again for more).
pub const REISSUE_ALL_MAX: usize = 10_000;
/// Licenses one transaction of "reissue them all" signs, each a job of the group commit
/// so heartbeats commit between them: about 9 ms of the writer (a new key, its directive
/// and audit entry take about 170 µs). 10,000 in one transaction held every heartbeat
/// 1.7 s (docs/benchmarks.md, twelfth pass).
const REISSUE_BATCH: usize = 50;

/// The grant a license row holds, as a request that passed the checks.
fn grant_of(l: &LicenseRow) -> ValidLicense {
    ValidLicense {
        name: l.name.clone(),
        install_id: l.install_id.clone(),
        organization: l.organization.clone(),
        organization_id: l.organization_id,
        internal_users: l.internal_users,
        external_users: l.external_users,
        features: l.features.clone(),
        flags: l.flags.clone(),
        not_before: l.not_before,
        expires_at: l.expires_at,
    }
}

fn summary(g: &ValidLicense) -> serde_json::Value {
    json!({
        "name": g.name, "internal_users": g.internal_users, "external_users": g.external_users,
        "features": g.features, "expires_at": g.expires_at,
    })
}

/// The sentence an `install_key` directive carries.
fn install_message(reason: KeyReason, g: &ValidLicense) -> String {
    let what = match reason {
        KeyReason::Issue | KeyReason::Reissue => "reissued",
        KeyReason::Renew => "renewed",
        KeyReason::Change => "changed",
    };
    format!(
        "install the {what} license key (valid until {}, {} internal and {} external users)",
        g.expires_at.format("%Y-%m-%d %H:%M:%S UTC"),
        g.internal_users,
        g.external_users
    )
}

/// Signs `license` anew inside `tx` with `amendment` applied (none for a reissue),
/// records the key, the history event and the audit entry, and queues the key for the
/// bound appliance. A revoked or expired license gets no new key.
pub(super) fn rekey_in_tx(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    license: &LicenseRow,
    reason: KeyReason,
    amendment: &Amendment,
) -> Result<()> {
    // Time first (an expiry that passed, a lapsed grace window), as every event does.
    let settled = apply_event(tx, tenant, now, actor, license, &Event::Sweep, None)?;
    let state = settled.status.state;
    match state {
        LicenseState::Revoked => return Err(refusal(Refusal::Revoked)),
        LicenseState::Expired => {
            return Err(refuse(
                ErrorCode::LicenseExpired,
                "the license has expired and expired is final; issue a new license",
            ));
        }
        _ => {}
    }
    let before = grant_of(license);
    let after = if amendment.is_empty() {
        before.clone()
    } else {
        amend(&before, amendment, now)?
    };
    if reason == KeyReason::Change && after == before {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "nothing to change: give a new name, user counts or features",
        ));
    }
    let ring = tenant.keyring()?;
    let claims = after.claims(&license.id, &tenant.issuer(), now);
    let key = jws::sign(&ring.active, LICENSE_TYP, &claims)
        .map_err(|e| ServiceError::internal("signing a license key", e))?;
    let kid = ring.active.kid().to_owned();
    store::update_grant(
        tx,
        &license.id,
        &GrantUpdate {
            name: &after.name,
            internal_users: after.internal_users,
            external_users: after.external_users,
            features: &after.features,
            expires_at: after.expires_at,
            kid: &kid,
        },
    )?;
    let who = actor.audit_name();
    license_keys::insert_current(tx, &license.id, &key, reason, &who, now)?;
    store::insert_event(
        tx,
        &license.id,
        now,
        reason.as_str(),
        Some(state),
        state,
        &who,
    )?;
    // The bound appliance installs the new key; an older key not yet confirmed is moot.
    let activation = activations::current_id(tx, &license.id)?;
    let directive = match activation {
        Some(a) => {
            directives::replace_pending(tx, &license.id, DirectiveKind::InstallKey, now)?;
            Some(directives::insert_with_key(
                tx,
                &license.id,
                Some(a),
                DirectiveKind::InstallKey,
                &install_message(reason, &after),
                Some(&key),
                &who,
                now,
            )?)
        }
        None => None,
    };
    audit::record(
        tx,
        now,
        actor,
        &format!("license.{}", reason.as_str()),
        &format!("license:{}", license.id),
        json!({
            "from": summary(&before), "to": summary(&after),
            "previous_kid": license.kid, "kid": kid, "directive_id": directive,
        }),
    )?;
    super::installations::reassess(tx, tenant, &license.install_id, now, actor, None)?;
    Ok(())
}

fn rekey(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    reason: KeyReason,
    amendment: &Amendment,
) -> Result<LicenseView> {
    tenant.db.write(|tx| {
        let l = load(tx, id)?;
        rekey_in_tx(tx, tenant, now, actor, &l, reason, amendment)?;
        view_in(tx, tenant, now, load(tx, id)?)
    })
}

/// Renews: a new key with a later expiry.
pub fn renew(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    expires_at: DateTime<Utc>,
) -> Result<LicenseView> {
    let amendment = Amendment {
        expires_at: Some(expires_at),
        ..Amendment::default()
    };
    rekey(tenant, now, actor, id, KeyReason::Renew, &amendment)
}

/// Changes the grant (name, user counts, features): a new key saying so.
pub fn change(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    amendment: &Amendment,
) -> Result<LicenseView> {
    if amendment.expires_at.is_some() {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "expires_at: a new expiry is a renewal (POST .../renew)",
        ));
    }
    rekey(tenant, now, actor, id, KeyReason::Change, amendment)
}

/// Reissues: the same grant, signed by the current signing key.
pub fn reissue(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
) -> Result<LicenseView> {
    rekey(
        tenant,
        now,
        actor,
        id,
        KeyReason::Reissue,
        &Amendment::default(),
    )
}

/// What "reissue them all" did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReissuedAll {
    /// The signing key whose licenses were reissued.
    pub kid: String,
    /// The licenses that got a new key, signed by the active key.
    pub reissued: Vec<String>,
}

/// Reissues every live license signed by `kid` (a key being retired), at most
/// `REISSUE_ALL_MAX` a call, `REISSUE_BATCH` a transaction; audited once per license, and
/// once for the whole at the end. A call that fails part way keeps the batches before;
/// calling again reissues the rest.
pub fn reissue_signed_by(
    tenant: &Arc<Tenant>,
    now: DateTime<Utc>,
    actor: &Actor,
    kid: &str,
) -> Result<ReissuedAll> {
    let active = tenant.keyring()?.active.kid().to_owned();
    if kid == active {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            "kid: this is the active key; its licenses are signed by the current key already",
        ));
    }
    let ids: Vec<String> = tenant.db.read(|tx| {
        if !crate::store::signing_keys::list(tx)?
            .iter()
            .any(|k| k.kid == kid)
        {
            return Err(refuse(
                ErrorCode::NotFound,
                format!("signing key {kid} does not exist"),
            ));
        }
        Ok(store::live_signed_by(tx, kid, REISSUE_ALL_MAX)?
            .into_iter()
            .map(|l| l.id)
            .collect())
    })?;
    let mut reissued = Vec::new();
    for batch in ids.chunks(REISSUE_BATCH) {
        let (t, actor, kid, batch) = (
            tenant.clone(),
            actor.clone(),
            kid.to_owned(),
            batch.to_vec(),
        );
        reissued.extend(
            tenant
                .db
                .write_grouped(move |tx| reissue_batch(tx, &t, now, &actor, &kid, &batch))?,
        );
    }
    let (target, details, by) = (
        format!("key:{kid}"),
        json!({"reissued": reissued.len(), "kid": active}),
        actor.clone(),
    );
    tenant.db.write_grouped(move |tx| {
        audit::record(tx, now, &by, "signing_key.reissue_all", &target, details)
    })?;
    Ok(ReissuedAll {
        kid: kid.to_owned(),
        reissued,
    })
}

/// Reissues the licenses `ids` still signed by `kid`, each read again here (one reissued
/// or ended since the list was made is left as it is); the ids of those reissued.
fn reissue_batch(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    kid: &str,
    ids: &[String],
) -> Result<Vec<String>> {
    let mut reissued = Vec::new();
    for id in ids {
        let Some(l) = store::find(tx, id)?.filter(|l| l.kid == kid) else {
            continue;
        };
        // Time may have ended some since the list was made (expired: no new key).
        match rekey_in_tx(
            tx,
            tenant,
            now,
            actor,
            &l,
            KeyReason::Reissue,
            &Amendment::default(),
        ) {
            Ok(()) => reissued.push(l.id),
            Err(e) if !e.is_internal() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(reissued)
}

/// Live licenses signed by `kid` (the retire page lists them), at most `limit`.
pub fn live_signed_by(
    tenant: &Tenant,
    now: DateTime<Utc>,
    kid: &str,
    limit: usize,
) -> Result<Vec<LicenseView>> {
    tenant.db.read(|tx| {
        store::live_signed_by(tx, kid, limit)?
            .into_iter()
            .map(|r| view_in(tx, tenant, now, r))
            .collect()
    })
}
