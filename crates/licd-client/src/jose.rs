//! Compact JWS with ES256 (RFC 7515/7518): `b64url(header).b64url(payload).b64url(r||s)`.
//!
//! The algorithm is pinned: a token whose header names anything but `ES256` never
//! verifies, and every verification names the `typ` it expects, so no artefact passes
//! for another kind.
//!
//! ```
//! use licd_client::{jose, keys::ApplianceKey};
//!
//! let key = ApplianceKey::generate()?;
//! let token = jose::sign(&key, "example+jwt", &serde_json::json!({"n": 1}))?;
//! let claims: serde_json::Value =
//!     jose::verify_typed(&token, "example+jwt", std::slice::from_ref(key.public()))?;
//! assert_eq!(claims["n"], 1);
//! // The same token is not accepted as another kind of artefact.
//! assert!(jose::verify_typed::<serde_json::Value>(&token, "licd-lease+jwt", &[key.public().clone()]).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::keys::{ApplianceKey, PublicKey};
use crate::verify::VerifyError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The only algorithm accepted.
pub const ALG: &str = "ES256";

/// A JWS header as licd writes it (the field order is the one licd signs with).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always `ES256` for a token that verifies.
    pub alg: String,
    /// The id (RFC 7638 thumbprint) of the signing key.
    pub kid: String,
    /// What the token is (one of the `*_TYP` constants of [`crate::formats`]).
    pub typ: String,
}

/// A token split into its parts, header decoded, signature not yet checked.
#[derive(Debug, Clone)]
pub struct Parsed<'a> {
    /// The decoded header.
    pub header: Header,
    /// `header.payload` as in the token: what the signature covers.
    pub signing_input: &'a str,
    /// The decoded payload (claims JSON, unchecked).
    pub payload: Vec<u8>,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

/// Why a token could not even be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not three parts separated by dots.
    #[error("not a compact JWS (expected three base64url parts separated by dots)")]
    Shape,
    /// A part is not base64url.
    #[error("the {0} is not valid base64url")]
    Encoding(&'static str),
    /// The header is not the JSON object expected.
    #[error("the header is not valid JSON: {0}")]
    Header(String),
}

/// Why a token could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The claims do not serialise to JSON.
    #[error("claims do not serialise: {0}")]
    Json(#[from] serde_json::Error),
}

/// Splits and decodes a token without checking its signature (surrounding whitespace
/// is ignored).
///
/// ```
/// assert!(licd_client::jose::parse("not a token").is_err());
/// ```
pub fn parse(token: &str) -> Result<Parsed<'_>, ParseError> {
    let token = token.trim();
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::Shape);
    };
    let header_bytes = B64.decode(h).map_err(|_| ParseError::Encoding("header"))?;
    let header: Header =
        serde_json::from_slice(&header_bytes).map_err(|e| ParseError::Header(e.to_string()))?;
    let payload = B64.decode(p).map_err(|_| ParseError::Encoding("payload"))?;
    let signature = B64
        .decode(s)
        .map_err(|_| ParseError::Encoding("signature"))?;
    Ok(Parsed {
        header,
        signing_input: &token[..h.len() + 1 + p.len()],
        payload,
        signature,
    })
}

impl Parsed<'_> {
    /// Checks the signature with `key`; false unless the header's `alg` is `ES256`.
    pub fn verify(&self, key: &PublicKey) -> bool {
        self.header.alg == ALG && key.verify(self.signing_input.as_bytes(), &self.signature)
    }
}

/// Verifies a token of type `typ` against `keys` and decodes its claims: the shape,
/// `alg` (ES256 only), `typ`, the key (by `kid`) and the signature are checked, in that
/// order, each with its own error. Audience and times are the caller's (see
/// [`crate::verify`]).
pub fn verify_typed<T: DeserializeOwned>(
    token: &str,
    typ: &str,
    keys: &[PublicKey],
) -> Result<T, VerifyError> {
    let parsed = parse(token).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if parsed.header.alg != ALG {
        return Err(VerifyError::Malformed(format!(
            "algorithm {:?} is not {ALG}",
            parsed.header.alg
        )));
    }
    if parsed.header.typ != typ {
        return Err(VerifyError::WrongType {
            expected: typ.to_owned(),
            found: parsed.header.typ,
        });
    }
    let key = keys
        .iter()
        .find(|k| k.kid() == parsed.header.kid)
        .ok_or_else(|| VerifyError::UnknownKey(parsed.header.kid.clone()))?;
    if !parsed.verify(key) {
        return Err(VerifyError::BadSignature);
    }
    serde_json::from_slice(&parsed.payload)
        .map_err(|e| VerifyError::Malformed(format!("claims: {e}")))
}

/// `b64url(header).b64url(claims)` for a key id and type: what the signature covers.
pub fn signing_input<T: Serialize>(
    kid: &str,
    typ: &str,
    claims: &T,
) -> Result<String, serde_json::Error> {
    let header = Header {
        alg: ALG.into(),
        kid: kid.to_owned(),
        typ: typ.to_owned(),
    };
    let mut out = B64.encode(serde_json::to_vec(&header)?);
    out.push('.');
    out.push_str(&B64.encode(serde_json::to_vec(claims)?));
    Ok(out)
}

/// Signs `claims` as a token of type `typ` with `key` (its `kid` goes in the header).
pub fn sign<T: Serialize>(key: &ApplianceKey, typ: &str, claims: &T) -> Result<String, SignError> {
    let mut input = signing_input(key.kid(), typ, claims)?;
    let signature = key.sign(input.as_bytes());
    input.push('.');
    input.push_str(&B64.encode(signature));
    Ok(input)
}

/// The chain hash of a token: base64url(SHA-256(signing input)). Each lease names its
/// predecessor's chain hash in `prev`; each usage report its predecessor's in
/// `prev_report`. Given a signing input (no signature part) it hashes that as is, so
/// it equals licd's `pki::jws::chain_hash`.
///
/// ```
/// let hash = licd_client::jose::chain_hash("eyJhbGciOiJFUzI1NiJ9.e30.c2ln");
/// assert_eq!(hash, licd_client::jose::chain_hash("eyJhbGciOiJFUzI1NiJ9.e30"));
/// ```
pub fn chain_hash(token: &str) -> String {
    let token = token.trim();
    let input = match token.matches('.').count() {
        2 => token.rsplit_once('.').map_or(token, |(input, _)| input),
        _ => token,
    };
    B64.encode(Sha256::digest(input.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_hash_matches_a_value_computed_by_hand() {
        // Header {"alg":"ES256","kid":"k","typ":"licd-lease+jwt"}, payload {"seq":1};
        // expected = base64url(sha256(signing input)), computed with Python's hashlib.
        let input = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsiLCJ0eXAiOiJsaWNkLWxlYXNlK2p3dCJ9.eyJzZXEiOjF9";
        let expected = "CIX-MzIJb99_lLOLI4vczq54UEcZ-oz01EsLTt0NOXw";
        assert_eq!(chain_hash(input), expected);
        assert_eq!(chain_hash(&format!("{input}.c2lnbmF0dXJl")), expected);
        assert_eq!(
            signing_input("k", "licd-lease+jwt", &serde_json::json!({"seq": 1})).expect("input"),
            input
        );
    }

    #[test]
    fn sign_parse_verify_and_tamper() {
        let key = ApplianceKey::generate().expect("key");
        let keys = [key.public().clone()];
        let token = sign(&key, "t+jwt", &serde_json::json!({"a": 1})).expect("sign");
        let parsed = parse(&token).expect("parse");
        assert_eq!(parsed.header.kid, key.kid());
        assert!(parsed.verify(key.public()));
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = B64.encode(br#"{"a":2}"#);
        parts[1] = &forged;
        let tampered = parts.join(".");
        assert_eq!(
            verify_typed::<serde_json::Value>(&tampered, "t+jwt", &keys)
                .expect_err("tampered")
                .kind(),
            "bad_signature"
        );
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let key = ApplianceKey::generate().expect("key");
        let keys = [key.public().clone()];
        for garbage in [
            "",
            ".",
            "..",
            "a.b",
            "a.b.c.d",
            "!!.e30.AA",
            "e30.e30.AA",
            "eyJhbGciOiJub25lIiwia2lkIjoiayIsInR5cCI6InQifQ.e30.",
            "\u{1F600}.\u{1F600}.\u{1F600}",
        ] {
            let result = verify_typed::<serde_json::Value>(garbage, "t", &keys);
            assert!(result.is_err(), "{garbage:?}");
            let _ = chain_hash(garbage);
        }
    }
}
