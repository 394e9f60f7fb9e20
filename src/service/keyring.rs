//! Loading a tenant's signing keys into memory (its `KeyRing`): unsealing the active
//! key's private half under the key-encryption key, and making the first key of a tenant
//! that has none. The staff use cases on keys (list, rotate, retire) are in
//! `signing_keys.rs`.

use super::tenant::{KeyRing, Tenant};
use super::{Actor, Result, ServiceError, audit};
use crate::domain::signing_key::KeyStatus;
use crate::pki::kek::Kek;
use crate::pki::keys::Jwk;
use crate::pki::{KeyPair, PublicKey};
use crate::store::StoreError;
use crate::store::signing_keys::{self as store, SigningKeyRow};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::Arc;

fn open_row(kek: &Kek, row: &SigningKeyRow) -> Result<KeyPair> {
    let context = || format!("unsealing signing key {}", row.kid);
    let secret = kek
        .open(&row.sealed_private, row.kid.as_bytes())
        .map_err(|e| ServiceError::internal(context(), e))?;
    let pair =
        KeyPair::from_secret_bytes(&secret).map_err(|e| ServiceError::internal(context(), e))?;
    if pair.kid() != row.kid {
        return Err(ServiceError::unexpected(format!(
            "signing key {} does not match its id",
            row.kid
        )));
    }
    Ok(pair)
}

/// The public half of a stored key.
pub(super) fn public_of(row: &SigningKeyRow) -> Result<PublicKey> {
    let jwk: Jwk = serde_json::from_str(&row.public_jwk).map_err(|_| StoreError::Corrupt {
        column: "signing_keys.public_jwk",
        value: row.kid.clone(),
    })?;
    PublicKey::from_jwk(&jwk)
        .map_err(|e| ServiceError::internal(format!("signing key {}: public JWK", row.kid), e))
}

/// Loads the tenant's ring into memory (again, after a change), creating its first key
/// when it has none.
pub fn load(tenant: &Tenant, kek: &Kek, now: DateTime<Utc>) -> Result<()> {
    if tenant.db.read(store::count)? == 0 {
        create_key(tenant, kek, now, &Actor::System)?;
    }
    let rows = tenant.db.read(store::list)?;
    let active_row = rows
        .iter()
        .find(|r| r.status == KeyStatus::Active)
        .ok_or_else(|| ServiceError::unexpected("no active signing key"))?;
    let active = open_row(kek, active_row)?;
    let verifying = rows
        .iter()
        .filter(|r| r.status.verifies())
        .map(public_of)
        .collect::<Result<Vec<_>>>()?;
    tenant.set_keyring(Arc::new(KeyRing { active, verifying }));
    Ok(())
}

/// Makes a new active key (the previous one keeps verifying); returns its id. `load`
/// puts it to use.
pub fn create_key(tenant: &Tenant, kek: &Kek, now: DateTime<Utc>, actor: &Actor) -> Result<String> {
    let pair =
        KeyPair::generate().map_err(|e| ServiceError::internal("making a signing key", e))?;
    let sealed = kek
        .seal(&pair.secret_bytes(), pair.kid().as_bytes())
        .map_err(|e| ServiceError::internal("sealing a new signing key", e))?;
    let jwk = serde_json::to_string(&pair.public().to_jwk())
        .map_err(|e| ServiceError::internal("encoding a new signing key's JWK", e))?;
    let kid = pair.kid().to_owned();
    tenant.db.write(|tx| {
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
