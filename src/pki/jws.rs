//! Compact JWS with ES256 (RFC 7515/7518): `b64url(header).b64url(payload).b64url(r||s)`.
//!
//! Reading a token, the signing input and the chain hash are the appliance side's too:
//! they are `licd_client::jose`'s, one definition for both ends. licd signs and verifies
//! with its own keys ([`super::keys`], `ring`, for the heartbeat's speed).

use super::keys::{KeyError, KeyPair, PublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
pub use licd_client::jose::{Header, ParseError, Parsed, chain_hash, parse, signing_input};
use serde::Serialize;

/// Signs `claims` with `key`; `typ` names the token type (`licd-license+jwt`, ...).
pub fn sign<T: Serialize>(key: &KeyPair, typ: &str, claims: &T) -> Result<String, SignError> {
    Ok(finish(key, signing_input(key.kid(), typ, claims)?)?)
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("claims do not serialise: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Appends the signature of `input` by `key` (whose kid the input's header must name).
pub fn finish(key: &KeyPair, mut input: String) -> Result<String, KeyError> {
    let sig = key.sign(input.as_bytes())?;
    input.push('.');
    input.push_str(&B64.encode(sig));
    Ok(input)
}

/// Checks a parsed token's ES256 signature with one of licd's keys (the algorithm is
/// pinned: the header's `alg` must be ES256, whatever it claims).
pub fn verify(parsed: &Parsed<'_>, key: &PublicKey) -> bool {
    parsed.header.alg == "ES256" && key.verify(parsed.signing_input.as_bytes(), &parsed.signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_parse_verify_and_tamper() {
        let k = KeyPair::generate().unwrap();
        let t = sign(&k, "test+jwt", &serde_json::json!({"a": 1})).unwrap();
        let p = parse(&t).unwrap();
        assert_eq!(p.header.kid, k.kid());
        assert!(verify(&p, &k.public()));
        let other = KeyPair::generate().unwrap();
        assert!(!verify(&p, &other.public()));
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = B64.encode(br#"{"a":2}"#);
        parts[1] = &forged;
        let tampered = parts.join(".");
        assert!(!verify(&parse(&tampered).unwrap(), &k.public()));
        assert_eq!(parse("a.b").unwrap_err(), ParseError::Shape);
        assert_eq!(
            parse("!!.e30.AA").unwrap_err(),
            ParseError::Encoding("header")
        );
    }
}
