//! A tenant's signing keys: the active key signs; rotated keys keep verifying until an
//! operator retires them. Private halves are sealed under the key-encryption key and
//! held decrypted only in memory.

use super::tenants::Tenant;
use super::{Actor, App, Result, ServiceError, audit, refuse};
use crate::error::ErrorCode;
use crate::pki::kek::Kek;
use crate::pki::keys::{Jwk, Jwks};
use crate::pki::{KeyPair, PublicKey};
use crate::store::signing_keys::{self as store, SigningKeyRow};
use crate::store::{Db, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;
use utoipa::ToSchema;

/// The keys in memory: the one that signs, and every key that verifies.
#[derive(Debug)]
pub struct KeyRing {
    pub active: KeyPair,
    pub verifying: Vec<PublicKey>,
}

impl KeyRing {
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.verifying.iter().map(PublicKey::to_jwk).collect(),
        }
    }
}

fn open_row(kek: &Kek, row: &SigningKeyRow) -> Result<KeyPair> {
    let secret = kek
        .open(&row.sealed_private, row.kid.as_bytes())
        .map_err(|e| ServiceError::Internal(format!("signing key {}: {e}", row.kid)))?;
    let pair =
        KeyPair::from_secret_bytes(&secret).map_err(|e| ServiceError::Internal(e.to_string()))?;
    if pair.kid() != row.kid {
        return Err(ServiceError::Internal(format!(
            "signing key {} does not match its id",
            row.kid
        )));
    }
    Ok(pair)
}

fn public_of(row: &SigningKeyRow) -> Result<PublicKey> {
    let jwk: Jwk = serde_json::from_str(&row.public_jwk).map_err(|_| StoreError::Corrupt {
        column: "signing_keys.public_jwk",
        value: row.kid.clone(),
    })?;
    PublicKey::from_jwk(&jwk).map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Loads the ring, creating the first key when the tenant has none.
pub fn load_or_create(db: &Db, kek: &Kek, now: DateTime<Utc>) -> Result<KeyRing> {
    if db.read(|tx| store::count(tx))? == 0 {
        create_key(db, kek, now, &Actor::System)?;
    }
    let rows = db.read(|tx| store::list(tx))?;
    let active_row = rows
        .iter()
        .find(|r| r.status == "active")
        .ok_or_else(|| ServiceError::Internal("no active signing key".into()))?;
    let active = open_row(kek, active_row)?;
    let verifying = rows
        .iter()
        .filter(|r| r.status != "retired")
        .map(public_of)
        .collect::<Result<Vec<_>>>()?;
    Ok(KeyRing { active, verifying })
}

fn create_key(db: &Db, kek: &Kek, now: DateTime<Utc>, actor: &Actor) -> Result<String> {
    let pair = KeyPair::generate().map_err(|e| ServiceError::Internal(e.to_string()))?;
    let sealed = kek
        .seal(&pair.secret_bytes(), pair.kid().as_bytes())
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let jwk = serde_json::to_string(&pair.public().to_jwk())
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let kid = pair.kid().to_owned();
    db.write(|tx| {
        store::insert_active(tx, &kid, &jwk, &sealed, now)?;
        audit::record(
            tx,
            now,
            actor,
            "signing_key.create",
            &format!("key:{kid}"),
            json!({}),
        )
    })?;
    Ok(kid)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SigningKeyView {
    pub kid: String,
    pub status: String,
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
                status: r.status.clone(),
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
    let kid = create_key(&tenant.db, &app.kek, now, actor)?;
    tenant.set_keyring(Arc::new(load_or_create(&tenant.db, &app.kek, now)?));
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
        match row.status.as_str() {
            "active" => Err(refuse(
                ErrorCode::SigningKeyInUse,
                "the active key cannot be retired; rotate first",
            )),
            "retired" => Ok(()),
            _ => {
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
    tenant.set_keyring(Arc::new(load_or_create(&tenant.db, &app.kek, now)?));
    Ok(())
}
