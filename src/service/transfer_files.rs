//! Reading and writing the files carried across an air gap (`licd_client::formats`):
//! finding the one token of the expected `typ` in a transfer file, verifying a token an
//! appliance signed with its own key, and signing licd's answers with the tenant's
//! active key (as leases are signed).

use super::tenant::Tenant;
use super::{Result, ServiceError, refuse};
use crate::error::ErrorCode;
use crate::pki::jws;
use crate::pki::keys::{self, PublicKey};
use crate::store::licenses::LicenseRow;
use licd_client::formats::{self, TRANSFER_FORMAT, Transfer};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The largest number of tokens a transfer file may carry.
const MAX_TOKENS: usize = 16;

fn invalid(why: impl Into<String>) -> ServiceError {
    refuse(ErrorCode::TransferInvalid, why.into())
}

/// What a `typ` is called in messages.
pub fn what(typ: &str) -> &'static str {
    match typ {
        formats::LICENSE_TYP => "a license key",
        formats::LEASE_TYP => "a lease",
        formats::OFFLINE_REQUEST_TYP => "an offline activation request",
        formats::OFFLINE_RESPONSE_TYP => "an offline activation response",
        formats::RELEASE_TYP => "a release proof",
        formats::RENEWAL_TYP => "a renewal bundle",
        formats::REVOCATION_TYP => "a revocation bundle",
        formats::USAGE_REPORT_TYP => "a usage report",
        formats::USAGE_ACK_TYP => "a usage report acknowledgement",
        _ => "an unknown kind of token",
    }
}

/// Reads a transfer file's text (what an upload or a CLI argument holds).
pub fn parse(text: &str) -> Result<Transfer> {
    serde_json::from_str(text.trim()).map_err(|e| {
        invalid(format!(
            "not a licd transfer file (JSON with format, kind and tokens): {e}"
        ))
    })
}

/// A token read from a transfer file, its signature not yet checked.
#[derive(Debug)]
pub struct Unverified<'a, T> {
    pub token: &'a str,
    pub parsed: jws::Parsed<'a>,
    /// The claims as the token states them (trust them only after `verify_with`).
    pub claims: T,
}

/// The one token of `typ` in `file`, with its claims decoded. A file holding only
/// tokens of other kinds is refused naming what it holds.
pub fn token_of<'a, T: DeserializeOwned>(
    file: &'a Transfer,
    typ: &str,
) -> Result<Unverified<'a, T>> {
    if file.format != TRANSFER_FORMAT {
        return Err(invalid(format!(
            "format: {:?} is not {TRANSFER_FORMAT}",
            file.format
        )));
    }
    if file.tokens.is_empty() || file.tokens.len() > MAX_TOKENS {
        return Err(invalid(format!(
            "tokens: a transfer file holds 1 to {MAX_TOKENS} tokens, this one {}",
            file.tokens.len()
        )));
    }
    let mut found = Vec::new();
    for token in &file.tokens {
        let parsed = jws::parse(token).map_err(|e| invalid(format!("a token: {e}")))?;
        if parsed.header.typ == typ {
            let claims = serde_json::from_slice(&parsed.payload)
                .map_err(|e| invalid(format!("{} whose claims do not decode: {e}", what(typ))))?;
            return Ok(Unverified {
                token,
                parsed,
                claims,
            });
        }
        found.push(what(&parsed.header.typ));
    }
    Err(invalid(format!(
        "this file holds {}, not {}",
        found.join(" and "),
        what(typ)
    )))
}

impl<T> Unverified<'_, T> {
    /// Checks the token's ES256 signature with the appliance's key: the header must
    /// name that key (its thumbprint) and the signature verify.
    pub fn verify_with(&self, key: &PublicKey, whose: &str) -> Result<()> {
        if self.parsed.header.kid != key.kid() || !jws::verify(&self.parsed, key) {
            return Err(refuse(
                ErrorCode::ApplianceSignatureInvalid,
                format!(
                    "{} does not verify with {whose}: it was altered, or another appliance signed it",
                    what(&self.parsed.header.typ)
                ),
            ));
        }
        Ok(())
    }
}

/// The file must be about the license in the path and its Install ID.
pub fn check_names(license: &LicenseRow, license_id: &str, install_id: &str) -> Result<()> {
    if license_id != license.id {
        return Err(refuse(
            ErrorCode::OfflineLicenseMismatch,
            format!("the file is for license {license_id}, not {}", license.id),
        ));
    }
    if install_id != license.install_id {
        return Err(refuse(
            ErrorCode::OfflineLicenseMismatch,
            format!(
                "the file is for Install ID {install_id}; license {} is for {}",
                license.id, license.install_id
            ),
        ));
    }
    Ok(())
}

/// The server's form of an appliance's JWK (field by field).
pub fn to_pki_jwk(j: &formats::Jwk) -> keys::Jwk {
    keys::Jwk {
        kty: j.kty.clone(),
        crv: j.crv.clone(),
        x: j.x.clone(),
        y: j.y.clone(),
        kid: j.kid.clone(),
        use_: j.use_.clone(),
        alg: j.alg.clone(),
    }
}

/// An appliance's public key from the JWK it sent (its kid recomputed).
pub fn appliance_key(j: &formats::Jwk) -> Result<PublicKey> {
    PublicKey::from_jwk(&to_pki_jwk(j))
        .map_err(|e| invalid(format!("appliance_key: not a P-256 public key ({e})")))
}

/// An appliance's public key as stored (JWK JSON text).
pub fn stored_key(text: &str) -> Result<PublicKey> {
    let jwk: keys::Jwk = serde_json::from_str(text)
        .map_err(|e| ServiceError::internal("reading a stored appliance key", e))?;
    PublicKey::from_jwk(&jwk)
        .map_err(|e| ServiceError::internal("reading a stored appliance key", e))
}

/// Signs licd's answer with the tenant's active key.
pub fn sign<T: Serialize>(tenant: &Tenant, typ: &str, claims: &T) -> Result<String> {
    let ring = tenant.keyring()?;
    jws::sign(&ring.active, typ, claims)
        .map_err(|e| ServiceError::internal("signing an air-gap file", e))
}

/// A file name for an answer: `<kind>-<license id>.json`.
pub fn file_name(kind: &str, license_id: &str) -> String {
    let id: String = license_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    format!("{kind}-{id}.json")
}
