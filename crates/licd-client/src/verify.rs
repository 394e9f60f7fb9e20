//! Verifying a license key and a lease offline against licd's public keys.
//!
//! ```no_run
//! use licd_client::{formats::Jwks, keys::public_keys, verify::verify_license};
//!
//! let jwks: Jwks = serde_json::from_str(&std::fs::read_to_string("jwks.json")?)?;
//! let key_text = std::fs::read_to_string("license.key")?;
//! let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
//! match verify_license(&key_text, &public_keys(&jwks), Some("my-install-id"), now) {
//!     Ok(claims) => println!("{} internal users", claims.internal_users),
//!     Err(e) => eprintln!("{} ({})", e, e.kind()),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::formats::{LEASE_TYP, LICENSE_TYP, LeaseClaims, LicenseClaims, audience};
use crate::jose;
use crate::keys::PublicKey;
use chrono::{DateTime, Utc};

/// Why a token does not verify. Each kind is distinct (see [`VerifyError::kind`]) so a
/// caller can say exactly what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not a compact JWS, not ES256, or claims that do not decode.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// A well-formed token of another kind (say, a lease offered as a license key).
    #[error("the token is a {found}, not a {expected}")]
    WrongType {
        /// The `typ` wanted.
        expected: String,
        /// The `typ` the token has.
        found: String,
    },
    /// Signed by a key that is not among the keys given.
    #[error("the token was signed by an unknown key (kid {0})")]
    UnknownKey(String),
    /// The signature does not match the content (altered, or forged).
    #[error("the token's signature is not valid (it was altered or not signed by licd)")]
    BadSignature,
    /// The audience names another Install ID.
    #[error("the token is for Install ID {found}, not {expected}")]
    WrongInstallId {
        /// This installation.
        expected: String,
        /// What the token names.
        found: String,
    },
    /// The token is bound to another appliance.
    #[error("the token is for another appliance (fingerprint {found}, this one is {expected})")]
    WrongFingerprint {
        /// This appliance's fingerprint.
        expected: String,
        /// What the token names.
        found: String,
    },
    /// Before the token's `nbf`.
    #[error("the license key is not valid before {0}")]
    NotYetValid(DateTime<Utc>),
    /// At or after the token's `exp`.
    #[error("the license key expired at {0}")]
    Expired(DateTime<Utc>),
}

impl VerifyError {
    /// A stable short name for the failure kind: `malformed`, `wrong_type`,
    /// `unknown_key`, `bad_signature`, `wrong_install_id`, `wrong_fingerprint`,
    /// `not_yet_valid`, `expired`.
    pub fn kind(&self) -> &'static str {
        match self {
            VerifyError::Malformed(_) => "malformed",
            VerifyError::WrongType { .. } => "wrong_type",
            VerifyError::UnknownKey(_) => "unknown_key",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::WrongInstallId { .. } => "wrong_install_id",
            VerifyError::WrongFingerprint { .. } => "wrong_fingerprint",
            VerifyError::NotYetValid(_) => "not_yet_valid",
            VerifyError::Expired(_) => "expired",
        }
    }
}

fn time(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// Verifies a license key: `typ` [`LICENSE_TYP`], ES256 by one of `keys`, then (when
/// `install_id` is given) `aud` = `licd:install:<install_id>`, then `nbf <= now < exp`.
pub fn verify_license(
    token: &str,
    keys: &[PublicKey],
    install_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<LicenseClaims, VerifyError> {
    let claims: LicenseClaims = jose::verify_typed(token, LICENSE_TYP, keys)?;
    if let Some(expected) = install_id {
        check_audience(&claims.aud, expected)?;
    }
    if now.timestamp() < claims.nbf {
        return Err(VerifyError::NotYetValid(time(claims.nbf)));
    }
    if now.timestamp() >= claims.exp {
        return Err(VerifyError::Expired(time(claims.exp)));
    }
    Ok(claims)
}

/// Checks that `aud` is this installation's audience.
pub(crate) fn check_audience(aud: &str, install_id: &str) -> Result<(), VerifyError> {
    if aud == audience(install_id) {
        return Ok(());
    }
    Err(VerifyError::WrongInstallId {
        expected: install_id.to_owned(),
        found: aud.strip_prefix("licd:install:").unwrap_or(aud).to_owned(),
    })
}

/// Checks that a token names this appliance's fingerprint.
pub(crate) fn check_fingerprint(found: &str, expected: &str) -> Result<(), VerifyError> {
    if found == expected {
        return Ok(());
    }
    Err(VerifyError::WrongFingerprint {
        expected: expected.to_owned(),
        found: found.to_owned(),
    })
}

/// Verifies a lease: `typ` [`LEASE_TYP`], ES256 by one of `keys`, `aud` and
/// `install_id` of this installation, bound to `fingerprint`. Its times are not checked
/// here: whether the appliance may still run is [`crate::status`]'s question (from
/// `lease_expires_at`), and whether it is newer than the lease held is the lease
/// store's.
pub fn verify_lease(
    token: &str,
    keys: &[PublicKey],
    install_id: &str,
    fingerprint: &str,
) -> Result<LeaseClaims, VerifyError> {
    let claims: LeaseClaims = jose::verify_typed(token, LEASE_TYP, keys)?;
    check_audience(&claims.aud, install_id)?;
    if claims.install_id != install_id {
        return Err(VerifyError::WrongInstallId {
            expected: install_id.to_owned(),
            found: claims.install_id,
        });
    }
    check_fingerprint(&claims.fingerprint, fingerprint)?;
    Ok(claims)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::formats::{Jwks, LeaseDirective};
    use crate::keys::{ApplianceKey, public_keys};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use chrono::Duration;

    /// A fixed "now" for tests.
    pub(crate) fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    /// A key standing in for licd's, and its JWKS.
    pub(crate) fn licd() -> (ApplianceKey, Vec<PublicKey>) {
        let key = ApplianceKey::generate().expect("key");
        let jwks = Jwks {
            keys: vec![key.public_jwk()],
        };
        (key, public_keys(&jwks))
    }

    pub(crate) fn license_claims(install: &str) -> LicenseClaims {
        LicenseClaims {
            iss: "https://licd.test/t".into(),
            sub: "L-1".into(),
            jti: "L-1".into(),
            aud: audience(install),
            iat: now().timestamp(),
            nbf: now().timestamp(),
            exp: (now() + Duration::days(365)).timestamp(),
            name: "Acme".into(),
            org: "Acme Corp".into(),
            internal_users: 50,
            external_users: 5,
            features: vec!["reports".into()],
            flags: vec![],
            ver: 1,
        }
    }

    pub(crate) fn lease_claims(seq: i64, prev: &str, at: DateTime<Utc>) -> LeaseClaims {
        LeaseClaims {
            iss: "https://licd.test/t".into(),
            sub: "L-1".into(),
            aud: audience("inst-1"),
            iat: at.timestamp(),
            exp: (at + Duration::days(14)).timestamp(),
            license_id: "L-1".into(),
            install_id: "inst-1".into(),
            fingerprint: "fp-1".into(),
            state: "active".into(),
            lock_reason: None,
            stage: "none".into(),
            banner: "none".into(),
            read_only: false,
            lease_expires_at: at + Duration::days(14),
            server_time: at,
            seq,
            prev: prev.into(),
            heartbeat_interval_secs: 3600,
            directives: Vec::<LeaseDirective>::new(),
        }
    }

    fn kind<T: std::fmt::Debug>(r: Result<T, VerifyError>) -> &'static str {
        r.expect_err("must fail").kind()
    }

    #[test]
    fn every_license_failure_kind_is_told_apart() {
        let (k, keys) = licd();
        let (other, other_keys) = licd();
        let token = jose::sign(&k, LICENSE_TYP, &license_claims("inst-1")).expect("sign");
        assert!(verify_license(&token, &keys, Some("inst-1"), now()).is_ok());
        assert!(verify_license(&token, &keys, None, now()).is_ok());
        assert_eq!(kind(verify_license("x.y", &keys, None, now())), "malformed");
        let lease = jose::sign(&k, LEASE_TYP, &lease_claims(1, "", now())).expect("sign");
        assert_eq!(
            kind(verify_license(&lease, &keys, None, now())),
            "wrong_type"
        );
        assert_eq!(
            kind(verify_license(&token, &other_keys, None, now())),
            "unknown_key"
        );
        // Another key's signature under licd's header: right kid, wrong signature.
        let forged = jose::sign(&other, LICENSE_TYP, &license_claims("inst-1")).expect("sign");
        let mut parts: Vec<&str> = forged.split('.').collect();
        let real_header = token.split('.').next().unwrap_or_default();
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
                now() - Duration::seconds(1)
            )),
            "not_yet_valid"
        );
        assert_eq!(
            kind(verify_license(
                &token,
                &keys,
                None,
                now() + Duration::days(365)
            )),
            "expired"
        );
        // alg other than ES256 in the header: refused whatever the signature.
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[0] = B64.encode(format!(
            r#"{{"alg":"HS256","kid":"{}","typ":"{LICENSE_TYP}"}}"#,
            k.kid()
        ));
        assert_eq!(
            kind(verify_license(&parts.join("."), &keys, None, now())),
            "malformed"
        );
        // Claims that are not license claims.
        let odd = jose::sign(&k, LICENSE_TYP, &serde_json::json!({"x": 1})).expect("sign");
        assert_eq!(kind(verify_license(&odd, &keys, None, now())), "malformed");
    }

    #[test]
    fn a_lease_is_checked_for_install_and_fingerprint_not_time() {
        let (k, keys) = licd();
        let token = jose::sign(&k, LEASE_TYP, &lease_claims(1, "", now())).expect("sign");
        let claims = verify_lease(&token, &keys, "inst-1", "fp-1").expect("valid");
        assert_eq!(claims.seq, 1);
        assert_eq!(
            kind(verify_lease(&token, &keys, "inst-2", "fp-1")),
            "wrong_install_id"
        );
        assert_eq!(
            kind(verify_lease(&token, &keys, "inst-1", "fp-2")),
            "wrong_fingerprint"
        );
        let key = jose::sign(&k, LICENSE_TYP, &license_claims("inst-1")).expect("sign");
        assert_eq!(
            kind(verify_lease(&key, &keys, "inst-1", "fp-1")),
            "wrong_type"
        );
        let mut odd = lease_claims(1, "", now());
        odd.install_id = "inst-9".into();
        let token = jose::sign(&k, LEASE_TYP, &odd).expect("sign");
        assert_eq!(
            kind(verify_lease(&token, &keys, "inst-1", "fp-1")),
            "wrong_install_id"
        );
    }
}
