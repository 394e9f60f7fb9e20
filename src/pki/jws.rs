//! Compact JWS with ES256 (RFC 7515/7518): `b64url(header).b64url(payload).b64url(r||s)`.

use super::keys::{KeyError, KeyPair, PublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub alg: String,
    pub kid: String,
    pub typ: String,
}

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

/// `b64url(header).b64url(claims)`: what the signature covers, and what a lease's
/// chain hash is taken over.
pub fn signing_input<T: Serialize>(
    kid: &str,
    typ: &str,
    claims: &T,
) -> Result<String, serde_json::Error> {
    let header = Header {
        alg: "ES256".into(),
        kid: kid.to_owned(),
        typ: typ.into(),
    };
    let mut out = B64.encode(serde_json::to_vec(&header)?);
    out.push('.');
    out.push_str(&B64.encode(serde_json::to_vec(claims)?));
    Ok(out)
}

/// Appends the signature of `input` by `key` (whose kid the input's header must name).
pub fn finish(key: &KeyPair, mut input: String) -> Result<String, KeyError> {
    let sig = key.sign(input.as_bytes())?;
    input.push('.');
    input.push_str(&B64.encode(sig));
    Ok(input)
}

/// A token split into its parts, header decoded, signature not yet checked.
#[derive(Debug, Clone)]
pub struct Parsed<'a> {
    pub header: Header,
    pub signing_input: &'a str,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

/// Why a token could not even be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a compact JWS (expected three base64url parts separated by dots)")]
    Shape,
    #[error("the {0} is not valid base64url")]
    Encoding(&'static str),
    #[error("the header is not valid JSON: {0}")]
    Header(String),
}

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
    /// Checks the ES256 signature with `key` (the algorithm is pinned: the header's `alg`
    /// must be ES256, whatever it claims).
    pub fn verify(&self, key: &PublicKey) -> bool {
        if self.header.alg != "ES256" {
            return false;
        }
        key.verify(self.signing_input.as_bytes(), &self.signature)
    }
}

/// The chain hash of a token: base64url(SHA-256(header.payload)), i.e. of its signing
/// input. Each lease names its predecessor's chain hash in `prev`.
pub fn chain_hash(token: &str) -> String {
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
    fn sign_parse_verify_and_tamper() {
        let k = KeyPair::generate().unwrap();
        let t = sign(&k, "test+jwt", &serde_json::json!({"a": 1})).unwrap();
        let p = parse(&t).unwrap();
        assert_eq!(p.header.kid, k.kid());
        assert!(p.verify(&k.public()));
        let other = KeyPair::generate().unwrap();
        assert!(!p.verify(&other.public()));
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = B64.encode(br#"{"a":2}"#);
        parts[1] = &forged;
        let tampered = parts.join(".");
        assert!(!parse(&tampered).unwrap().verify(&k.public()));
        assert_eq!(parse("a.b").unwrap_err(), ParseError::Shape);
        assert_eq!(
            parse("!!.e30.AA").unwrap_err(),
            ParseError::Encoding("header")
        );
    }
}
