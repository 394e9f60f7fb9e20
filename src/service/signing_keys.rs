//! A tenant's signing keys, the staff side: list, rotate, retire. The active key signs;
//! rotated keys keep verifying until an operator retires them. Loading keys into memory
//! is `keyring.rs`.

use super::keyring::{self, public_of};
use super::tenant::Tenant;
use super::{Actor, App, Result, ServiceError, audit, refuse};
use crate::domain::signing_key::KeyStatus;
use crate::error::ErrorCode;
use crate::pki::keys::Jwk;
use crate::store::signing_keys as store;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SigningKeyView {
    pub kid: String,
    pub status: KeyStatus,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
    /// Licenses signed by this key that are still live (not revoked or expired).
    pub live_licenses: i64,
    pub jwk: Jwk,
}

pub fn list(tenant: &Tenant) -> Result<Vec<SigningKeyView>> {
    let (rows, counts) = tenant
        .db
        .read(|tx| Ok::<_, ServiceError>((store::list(tx)?, store::live_license_counts(tx)?)))?;
    rows.iter()
        .map(|r| {
            Ok(SigningKeyView {
                kid: r.kid.clone(),
                status: r.status,
                created_at: r.created_at,
                rotated_at: r.rotated_at,
                retired_at: r.retired_at,
                live_licenses: counts
                    .iter()
                    .find(|(k, _)| *k == r.kid)
                    .map_or(0, |(_, n)| *n),
                jwk: public_of(r)?.to_jwk(),
            })
        })
        .collect()
}

/// Makes a new active key; the old one keeps verifying.
pub fn rotate(app: &App, tenant: &Tenant, now: DateTime<Utc>, actor: &Actor) -> Result<String> {
    let kid = keyring::create_key(tenant, &app.kek, now, actor)?;
    keyring::load(tenant, &app.kek, now)?;
    Ok(kid)
}

/// Retires a rotated-out key: license keys it signed stop verifying. The active key
/// cannot be retired (rotate first).
pub fn retire(
    app: &App,
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    kid: &str,
) -> Result<()> {
    tenant.db.write(|tx| {
        let row = store::list(tx)?
            .into_iter()
            .find(|r| r.kid == kid)
            .ok_or_else(|| {
                refuse(
                    ErrorCode::NotFound,
                    format!("signing key {kid} does not exist"),
                )
            })?;
        match row.status {
            KeyStatus::Active => Err(refuse(
                ErrorCode::SigningKeyInUse,
                "the active key cannot be retired; rotate first",
            )),
            KeyStatus::Retired => Ok(()),
            KeyStatus::Verifying => {
                let live = store::live_license_counts(tx)?
                    .into_iter()
                    .find(|(k, _)| k == kid)
                    .map_or(0, |(_, n)| n);
                store::retire(tx, kid, now)?;
                audit::record(
                    tx,
                    now,
                    actor,
                    "signing_key.retire",
                    &format!("key:{kid}"),
                    json!({"live_licenses": live}),
                )
            }
        }
    })?;
    keyring::load(tenant, &app.kek, now)
}
