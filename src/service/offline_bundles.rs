//! Signed bundles for appliances licd cannot reach: a renewal (the license key in force
//! and the next lease of the box's chain, valid for the offline lease window) and a
//! revocation (the license is revoked). Both take the license's next `bundle_seq`, so a
//! box never lets an older bundle undo a newer one.

use super::lease_chain::renewal_lease;
use super::licenses::load;
use super::tenant::Tenant;
use super::{Actor, Result, audit, license_facts, refuse, transfer_files};
use crate::domain::license::audience;
use crate::domain::lifecycle::LicenseState;
use crate::error::ErrorCode;
use crate::store::licenses::{self as license_store, LicenseRow};
use crate::store::{WriteTx, activations, license_bundles, license_keys, offline_activations};
use chrono::{DateTime, Utc};
use licd_client::formats::{
    RENEWAL_TYP, REVOCATION_TYP, RenewalClaims, RevocationClaims, Transfer,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::str::FromStr;
use utoipa::ToSchema;

/// What a bundle says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BundleKind {
    /// The license key in force and a fresh lease for the box holding it offline.
    Renewal,
    /// The license is revoked.
    Revocation,
}

impl BundleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BundleKind::Renewal => "renewal",
            BundleKind::Revocation => "revocation",
        }
    }
}

impl FromStr for BundleKind {
    type Err = super::ServiceError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "renewal" => Ok(BundleKind::Renewal),
            "revocation" => Ok(BundleKind::Revocation),
            _ => Err(refuse(
                ErrorCode::ValidationFailed,
                format!("kind: {s:?} is not renewal or revocation"),
            )),
        }
    }
}

/// Makes a bundle of `kind` for license `id` and returns its transfer file.
pub fn make(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    kind: BundleKind,
) -> Result<Transfer> {
    tenant.db.write(|tx| {
        let license = load(tx, id)?;
        let (token, summary) = match kind {
            BundleKind::Renewal => renewal_in_tx(tx, tenant, now, actor, &license)?,
            BundleKind::Revocation => revocation_in_tx(tx, tenant, now, actor, &license)?,
        };
        Ok(Transfer::new(kind.as_str(), &summary, vec![token]))
    })
}

fn unavailable(why: String) -> super::ServiceError {
    refuse(ErrorCode::BundleNotAvailable, why)
}

/// A renewal bundle inside `tx`: `(token, summary)`.
pub(super) fn renewal_in_tx(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    license: &LicenseRow,
) -> Result<(String, String)> {
    let state = license_facts::settled(license, tenant, now).state;
    match state {
        LicenseState::Revoked => {
            return Err(unavailable(format!(
                "license {} is revoked: make a revocation bundle",
                license.id
            )));
        }
        LicenseState::Expired => {
            return Err(unavailable(format!(
                "license {} has expired: renew its key first",
                license.id
            )));
        }
        _ => {}
    }
    let offline = offline_activations::current(tx, &license.id)?.ok_or_else(|| {
        unavailable(format!(
            "no appliance holds license {} offline: renewal bundles are for boxes activated from a request file",
            license.id
        ))
    })?;
    let activation = activations::find(tx, offline.activation_id)?.ok_or_else(|| {
        super::ServiceError::internal(
            "renewal bundle",
            format!("activation {} is missing", offline.activation_id),
        )
    })?;
    let license_key = license_keys::current(tx, &license.id)?;
    let bundle_seq = license_store::next_bundle_seq(tx, &license.id)?;
    let lease = renewal_lease(tx, tenant, now, actor, license, &activation, state)?.sign()?;
    offline_activations::renewed(
        tx,
        activation.id,
        lease.claims.lease_expires_at,
        &license_key,
    )?;
    license_bundles::insert(
        tx,
        &license.id,
        bundle_seq,
        BundleKind::Renewal.as_str(),
        Some(activation.id),
        Some(&license_key),
        &actor.audit_name(),
        now,
    )?;
    audit::record(
        tx,
        now,
        actor,
        "license.bundle",
        &format!("license:{}", license.id),
        json!({
            "kind": "renewal", "bundle_seq": bundle_seq, "fingerprint": activation.fingerprint,
            "lease_seq": lease.claims.seq, "lease_expires_at": lease.claims.lease_expires_at,
        }),
    )?;
    let claims = RenewalClaims {
        iss: tenant.issuer(),
        sub: license.id.clone(),
        aud: audience(&license.install_id),
        iat: now.timestamp(),
        license_id: license.id.clone(),
        install_id: license.install_id.clone(),
        fingerprint: activation.fingerprint.clone(),
        bundle_seq,
        license_key,
        lease: lease.lease,
    };
    let summary = format!(
        "renewal bundle {bundle_seq} of license {} ({}) for the appliance {}; runs until {}",
        license.id,
        license.name,
        activation.fingerprint,
        lease.claims.lease_expires_at.to_rfc3339()
    );
    Ok((transfer_files::sign(tenant, RENEWAL_TYP, &claims)?, summary))
}

/// A revocation bundle inside `tx`: `(token, summary)`.
pub(super) fn revocation_in_tx(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    license: &LicenseRow,
) -> Result<(String, String)> {
    let revoked_at = license.revoked_at.ok_or_else(|| {
        unavailable(format!(
            "license {} is not revoked: revoke it first",
            license.id
        ))
    })?;
    let bundle_seq = license_store::next_bundle_seq(tx, &license.id)?;
    license_bundles::insert(
        tx,
        &license.id,
        bundle_seq,
        BundleKind::Revocation.as_str(),
        None,
        None,
        &actor.audit_name(),
        now,
    )?;
    audit::record(
        tx,
        now,
        actor,
        "license.bundle",
        &format!("license:{}", license.id),
        json!({"kind": "revocation", "bundle_seq": bundle_seq}),
    )?;
    let claims = RevocationClaims {
        iss: tenant.issuer(),
        sub: license.id.clone(),
        aud: audience(&license.install_id),
        iat: now.timestamp(),
        license_id: license.id.clone(),
        install_id: license.install_id.clone(),
        bundle_seq,
        revoked_at,
        reason: license.revoke_reason.clone().unwrap_or_default(),
    };
    let summary = format!(
        "revocation bundle {bundle_seq} of license {} ({})",
        license.id, license.name
    );
    Ok((
        transfer_files::sign(tenant, REVOCATION_TYP, &claims)?,
        summary,
    ))
}
