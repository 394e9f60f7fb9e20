//! Offline verification of a license key against public keys (a JWKS or a PEM), for
//! licd itself, `licd license verify`, and appliance code linking this crate.
//!
//! ```no_run
//! # use licd::pki::verify::verify_license;
//! # let (jwks_json, key) = ("", "");
//! let jwks: licd::pki::keys::Jwks = serde_json::from_str(jwks_json)?;
//! let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
//! let claims = verify_license(key, &jwks.public_keys(), Some("my-install-id"), now)?;
//! println!("{} users", claims.internal_users);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::jws;
use super::keys::PublicKey;
use crate::domain::license::{LICENSE_TYP, LicenseClaims};
use chrono::{DateTime, Utc};

/// Why a license key does not verify. Each kind is distinct so callers can say exactly
/// what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed license key: {0}")]
    Malformed(String),
    #[error("the license key was signed by an unknown key (kid {0})")]
    UnknownKey(String),
    #[error("the license key's signature is not valid")]
    BadSignature,
    #[error("the license key is for Install ID {found}, not {expected}")]
    WrongInstallId { expected: String, found: String },
    #[error("the license key is not valid before {0}")]
    NotYetValid(DateTime<Utc>),
    #[error("the license key expired at {0}")]
    Expired(DateTime<Utc>),
}

impl VerifyError {
    /// A stable short name for the failure kind.
    pub fn kind(&self) -> &'static str {
        match self {
            VerifyError::Malformed(_) => "malformed",
            VerifyError::UnknownKey(_) => "unknown_key",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::WrongInstallId { .. } => "wrong_install_id",
            VerifyError::NotYetValid(_) => "not_yet_valid",
            VerifyError::Expired(_) => "expired",
        }
    }
}

/// Checks the signature (always), then the audience, then the validity window.
pub fn verify_license(
    token: &str,
    keys: &[PublicKey],
    install_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<LicenseClaims, VerifyError> {
    let claims = verify_signature(token, keys)?;
    check_claims(&claims, install_id, now)?;
    Ok(claims)
}

/// Checks shape, type, algorithm, key and signature; returns the claims unchecked
/// otherwise (no audience or time checks).
pub fn verify_signature(token: &str, keys: &[PublicKey]) -> Result<LicenseClaims, VerifyError> {
    let parsed = jws::parse(token).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if parsed.header.alg != "ES256" {
        return Err(VerifyError::Malformed(format!(
            "algorithm {:?} is not ES256",
            parsed.header.alg
        )));
    }
    if parsed.header.typ != LICENSE_TYP {
        return Err(VerifyError::Malformed(format!(
            "type {:?} is not {LICENSE_TYP}",
            parsed.header.typ
        )));
    }
    let key = keys
        .iter()
        .find(|k| k.kid() == parsed.header.kid)
        .ok_or_else(|| VerifyError::UnknownKey(parsed.header.kid.clone()))?;
    if !jws::verify(&parsed, key) {
        return Err(VerifyError::BadSignature);
    }
    serde_json::from_slice(&parsed.payload)
        .map_err(|e| VerifyError::Malformed(format!("claims: {e}")))
}

/// Checks audience and validity window of already-verified claims.
pub fn check_claims(
    claims: &LicenseClaims,
    install_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), VerifyError> {
    if let Some(expected) = install_id {
        let found = claims.install_id().unwrap_or(&claims.aud);
        if found != expected {
            return Err(VerifyError::WrongInstallId {
                expected: expected.to_owned(),
                found: found.to_owned(),
            });
        }
    }
    if now < claims.not_before() {
        return Err(VerifyError::NotYetValid(claims.not_before()));
    }
    if now >= claims.expires_at() {
        return Err(VerifyError::Expired(claims.expires_at()));
    }
    Ok(())
}

/// Decodes a key's header and claims without checking anything (`licd license inspect`).
pub fn inspect(token: &str) -> Result<(jws::Header, serde_json::Value), VerifyError> {
    let parsed = jws::parse(token).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    let claims = serde_json::from_slice(&parsed.payload)
        .map_err(|e| VerifyError::Malformed(format!("claims: {e}")))?;
    Ok((parsed.header, claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::license::{LicenseRequest, validate};
    use crate::pki::KeyPair;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn key_for(k: &KeyPair, install: &str) -> String {
        let req = LicenseRequest {
            name: "n".into(),
            install_id: install.into(),
            internal_users: 1,
            expires_at: now() + Duration::days(30),
            ..Default::default()
        };
        let claims = validate(&req, now()).unwrap().claims("L", "iss", now());
        jws::sign(k, LICENSE_TYP, &claims).unwrap()
    }

    #[test]
    fn every_failure_kind_is_told_apart() {
        let k = KeyPair::generate().unwrap();
        let other = KeyPair::generate().unwrap();
        let token = key_for(&k, "inst-1");
        let keys = [k.public()];
        assert!(verify_license(&token, &keys, Some("inst-1"), now()).is_ok());
        let kind = |r: Result<LicenseClaims, VerifyError>| r.unwrap_err().kind();
        assert_eq!(kind(verify_license("x.y", &keys, None, now())), "malformed");
        assert_eq!(
            kind(verify_license(&token, &[other.public()], None, now())),
            "unknown_key"
        );
        let forged = key_for(&other, "inst-1");
        let mut parts: Vec<&str> = forged.split('.').collect();
        let real_header = token.split('.').next().unwrap();
        parts[0] = real_header;
        assert_eq!(
            kind(verify_license(&parts.join("."), &keys, None, now())),
            "bad_signature"
        );
        assert_eq!(
            kind(verify_license(&token, &keys, Some("inst-2"), now())),
            "wrong_install_id"
        );
        assert_eq!(
            kind(verify_license(
                &token,
                &keys,
                None,
                now() - Duration::days(1)
            )),
            "not_yet_valid"
        );
        assert_eq!(
            kind(verify_license(
                &token,
                &keys,
                None,
                now() + Duration::days(30)
            )),
            "expired"
        );
    }
}
