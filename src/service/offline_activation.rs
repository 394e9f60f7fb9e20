//! Offline activation for appliances that never reach licd: a request file signed by
//! the appliance's own key is answered with a response file (a lease with the offline
//! lease window, bound to that box and the request's nonce); a release proof signed by
//! the same key frees the license again (offline deactivation).
//!
//! The activation is an ordinary one (`appliance::bind_in_tx`), so rebind, revoke and
//! the fleet pages see it like any other; `offline_activations` keeps the appliance key
//! and the nonces beside it.

use super::appliance::{Binding, bind_in_tx};
use super::licenses::{LicenseView, apply_event, load, view_in};
use super::tenant::Tenant;
use super::transfer_files::{self, appliance_key, check_names, stored_key, token_of};
use super::{Actor, Result, ServiceError, installations, refuse};
use crate::domain::activation::SupersededReason;
use crate::domain::license::{audience, check_fingerprint, check_hostname, check_install_id};
use crate::domain::lifecycle::Event;
use crate::domain::timestamp;
use crate::domain::violation::Usage;
use crate::error::ErrorCode;
use crate::store::licenses::{self as license_store, LicenseRow};
use crate::store::offline_activations::{self as store, NewOfflineActivation};
use crate::store::{WriteTx, activations, license_keys};
use chrono::{DateTime, Utc};
use licd_client::formats::{
    OFFLINE_REQUEST_TYP, OFFLINE_RESPONSE_TYP, OfflineRequestClaims, OfflineResponseClaims,
    RELEASE_TYP, ReleaseClaims, Transfer,
};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// A nonce as the formats make them: base64url, 16 to 128 characters.
fn check_nonce(nonce: &str) -> Result<()> {
    let ok = (16..=128).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(refuse(
            ErrorCode::TransferInvalid,
            "nonce: must be 16 to 128 base64url characters",
        ))
    }
}

/// Answers an offline activation request: verifies it with the key it carries, binds
/// the license to its box like an activation (audited as `actor`), records the
/// appliance key and nonce, and returns the response file. A request is answered once
/// (`offline_request_replayed` the second time).
pub fn activate(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    license_id: &str,
    file: &Transfer,
) -> Result<Transfer> {
    let settings = tenant.settings();
    tenant.db.write(|tx| {
        // The license first: a file for a license that does not exist is `not_found`.
        let license = load(tx, license_id)?;
        let request = token_of::<OfflineRequestClaims>(file, OFFLINE_REQUEST_TYP)?;
        let key = appliance_key(&request.claims.appliance_key)?;
        request.verify_with(&key, "the appliance key it carries")?;
        let claims = &request.claims;
        let fingerprint = check_fingerprint(&claims.fingerprint)?;
        let install_id = check_install_id(&claims.install_id)?;
        let hostname = check_hostname(claims.hostname.as_deref())?;
        check_nonce(&claims.nonce)?;
        check_names(&license, &claims.license_id, &install_id)?;
        if store::request_nonce_used(tx, &claims.nonce)? {
            return Err(refuse(
                ErrorCode::OfflineRequestReplayed,
                "this request was answered already: make a new request on the appliance",
            ));
        }
        let appliance_jwk = serde_json::to_string(&key.to_jwk())
            .map_err(|e| ServiceError::internal("recording an appliance key", e))?;
        let details = json!({
            "fingerprint": fingerprint, "hostname": hostname, "appliance_kid": key.kid(),
            "nonce": claims.nonce, "lease_head_seq": claims.lease_head.seq,
        });
        let bound = bind_in_tx(
            tx,
            tenant,
            now,
            &license,
            &fingerprint,
            hostname.as_deref(),
            Binding {
                actor,
                action: "license.offline_activate",
                details,
                offline: Some(settings.offline_lease()),
            },
        )?;
        let deadline = timestamp::later(now, settings.offline_response());
        let lease = bound.lease.sign()?;
        let license_key = license_keys::current(tx, &license.id)?;
        store::insert(
            tx,
            &NewOfflineActivation {
                activation_id: bound.activation_id,
                license_id: &license.id,
                fingerprint: &fingerprint,
                appliance_key: &appliance_jwk,
                appliance_kid: key.kid(),
                request_nonce: &claims.nonce,
                response_deadline: deadline,
                lease_expires_at: lease.claims.lease_expires_at,
                license_key: &license_key,
            },
            now,
        )?;
        let response = OfflineResponseClaims {
            iss: tenant.issuer(),
            sub: license.id.clone(),
            aud: audience(&license.install_id),
            iat: now.timestamp(),
            exp: deadline.timestamp(),
            license_id: license.id.clone(),
            install_id: license.install_id.clone(),
            fingerprint: fingerprint.clone(),
            nonce: claims.nonce.clone(),
            appliance_kid: key.kid().to_owned(),
            license_key,
            lease: lease.lease,
        };
        let token = transfer_files::sign(tenant, OFFLINE_RESPONSE_TYP, &response)?;
        let summary = format!(
            "offline activation of license {} ({}) for the appliance {fingerprint}; apply before {}",
            license.id,
            license.name,
            deadline.to_rfc3339()
        );
        Ok(Transfer::new("offline-response", &summary, vec![token]))
    })
}

/// What recording a release proof did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Released {
    /// The license, free again (`issued`, bound to nobody) unless it was revoked,
    /// expired or suspended.
    pub license: LicenseView,
    /// The appliance that released it.
    pub fingerprint: String,
    pub released_at: DateTime<Utc>,
    /// The user counts when the appliance stopped.
    pub final_internal_users: u32,
    pub final_external_users: u32,
}

/// Records an offline deactivation: the release proof must verify with the key
/// recorded when the box was activated offline; the license is unbound (back to
/// `issued`), the activation ends `released`, and the final user counts are recorded
/// as the installation's usage.
pub fn release(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    license_id: &str,
    file: &Transfer,
) -> Result<Released> {
    tenant.db.write(|tx| {
        let license = load(tx, license_id)?;
        let proof = token_of::<ReleaseClaims>(file, RELEASE_TYP)?;
        let claims = &proof.claims;
        let fingerprint = check_fingerprint(&claims.fingerprint)?;
        check_nonce(&claims.nonce)?;
        check_names(&license, &claims.license_id, &claims.install_id)?;
        let offline = store::latest_for_box(tx, &license.id, &fingerprint)?.ok_or_else(|| {
            refuse(
                ErrorCode::OfflineActivationUnknown,
                format!(
                    "no appliance {fingerprint} was activated offline for license {}",
                    license.id
                ),
            )
        })?;
        proof.verify_with(
            &stored_key(&offline.appliance_key)?,
            "the appliance key recorded at its offline activation",
        )?;
        if store::release_nonce_used(tx, &claims.nonce)? {
            return Err(refuse(
                ErrorCode::OfflineReleaseReplayed,
                "this release proof was recorded already",
            ));
        }
        if offline.released_at.is_some() || !offline.current {
            return Err(refuse(
                ErrorCode::OfflineActivationUnknown,
                format!(
                    "the appliance {fingerprint} no longer holds license {} (released, rebound or activated again)",
                    license.id
                ),
            ));
        }
        let usage = claims.final_usage;
        free(tx, tenant, now, actor, &license, &fingerprint, usage.internal_users, usage.external_users, &claims.nonce)?;
        store::released(
            tx,
            offline.activation_id,
            &claims.nonce,
            (usage.internal_users, usage.external_users),
            now,
        )?;
        let license = load(tx, &license.id)?;
        Ok(Released {
            license: view_in(tx, tenant, now, license)?,
            fingerprint,
            released_at: now,
            final_internal_users: usage.internal_users,
            final_external_users: usage.external_users,
        })
    })
}

/// Unbinds the license from the box that released it (the `release` life-cycle event),
/// ends its activation `released`, and records the final usage.
#[allow(clippy::too_many_arguments)]
fn free(
    tx: &WriteTx<'_>,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    license: &LicenseRow,
    fingerprint: &str,
    internal_users: u32,
    external_users: u32,
    nonce: &str,
) -> Result<()> {
    let details = json!({
        "fingerprint": fingerprint, "nonce": nonce,
        "final_internal_users": internal_users, "final_external_users": external_users,
    });
    apply_event(
        tx,
        tenant,
        now,
        actor,
        license,
        &Event::Release {
            fingerprint: fingerprint.to_owned(),
        },
        Some(("license.offline_release", details)),
    )?;
    activations::supersede_all(tx, &license.id, SupersededReason::Released, now)?;
    license_store::set_offline_until(tx, &license.id, None)?;
    let usage = Usage {
        internal_users,
        external_users,
    };
    installations::reassess(tx, tenant, &license.install_id, now, actor, Some(usage))?;
    Ok(())
}
