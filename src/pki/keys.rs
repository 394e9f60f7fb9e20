//! ECDSA P-256 key pairs, their RFC 7638 thumbprints (the `kid`), JWK and PEM forms.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::EncodedPoint;
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, UnparsedPublicKey,
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, OnceLock};
use utoipa::ToSchema;
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no randomness available: {0}")]
    Random(String),
    #[error("not a P-256 key: {0}")]
    Invalid(String),
}

/// A public key with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    kid: String,
    key: VerifyingKey,
    /// The uncompressed SEC1 point, as ring's verifier wants it.
    point: Vec<u8>,
}

/// A private key with its public half and id. Key handling (generation, JWK, PEM,
/// thumbprints) uses the `p256` crate; signing uses `ring`, about eight times faster
/// here, which matters on the heartbeat path (see docs/benchmarks.md).
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
    ring: Arc<EcdsaKeyPair>,
    public: PublicKey,
}

fn system_random() -> &'static SystemRandom {
    static RNG: OnceLock<SystemRandom> = OnceLock::new();
    RNG.get_or_init(SystemRandom::new)
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("kid", &self.public.kid)
            .finish_non_exhaustive()
    }
}

/// A JSON Web Key (EC, P-256) as published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

/// A JWK Set (`/.well-known/jwks.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// The appliance side's view of the same key: its RFC 7638 thumbprint and JWK are
/// computed in one place, `licd_client::keys`, for licd and appliances alike.
fn client_view(key: VerifyingKey) -> licd_client::keys::PublicKey {
    licd_client::keys::PublicKey::new(key)
}

impl PublicKey {
    pub fn new(key: VerifyingKey) -> Self {
        PublicKey {
            kid: client_view(key).kid().to_owned(),
            point: key.to_encoded_point(false).as_bytes().to_vec(),
            key,
        }
    }

    /// Checks an ES256 signature (64 bytes, r || s) over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.point)
            .verify(message, signature)
            .is_ok()
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    pub fn to_jwk(&self) -> Jwk {
        let j = client_view(self.key).to_jwk();
        Jwk {
            kty: j.kty,
            crv: j.crv,
            x: j.x,
            y: j.y,
            kid: j.kid,
            use_: j.use_,
            alg: j.alg,
        }
    }

    /// Reads a JWK; the `kid` is always recomputed (a JWK's own kid is not trusted).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        if jwk.kty != "EC" || jwk.crv != "P-256" {
            return Err(KeyError::Invalid(format!(
                "kty {} crv {}",
                jwk.kty, jwk.crv
            )));
        }
        let decode = |s: &str| B64.decode(s).map_err(|e| KeyError::Invalid(e.to_string()));
        let (x, y) = (decode(&jwk.x)?, decode(&jwk.y)?);
        if x.len() != 32 || y.len() != 32 {
            return Err(KeyError::Invalid("coordinates must be 32 bytes".into()));
        }
        let point =
            EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
        let key = VerifyingKey::from_encoded_point(&point)
            .map_err(|e| KeyError::Invalid(e.to_string()))?;
        Ok(PublicKey::new(key))
    }

    pub fn to_pem(&self) -> Result<String, KeyError> {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }

    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        VerifyingKey::from_public_key_pem(pem.trim())
            .map(PublicKey::new)
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }
}

impl KeyPair {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Result<Self, KeyError> {
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            getrandom::fill(bytes.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
            // Out-of-range scalars (probability ~2^-32) are redrawn.
            if let Ok(k) = Self::from_secret_bytes(bytes.as_ref()) {
                return Ok(k);
            }
        }
    }

    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let signing =
            SigningKey::from_slice(bytes).map_err(|e| KeyError::Invalid(e.to_string()))?;
        Self::from_signing_key(signing)
    }

    fn from_signing_key(signing: SigningKey) -> Result<Self, KeyError> {
        let public = PublicKey::new(*signing.verifying_key());
        let ring = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &signing.to_bytes(),
            &public.point,
            system_random(),
        )
        .map_err(|e| KeyError::Invalid(e.to_string()))?;
        Ok(KeyPair {
            signing,
            ring: Arc::new(ring),
            public,
        })
    }

    /// An ES256 signature (64 bytes, r || s) over `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.ring
            .sign(system_random(), message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| KeyError::Random("signing failed".into()))
    }

    /// The 32-byte secret scalar (to be sealed, never stored in clear).
    pub fn secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.signing.to_bytes().to_vec())
    }

    /// Reads a PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) PEM.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let pem = pem.trim();
        let signing = if pem.contains("BEGIN EC PRIVATE KEY") {
            p256::SecretKey::from_sec1_pem(pem)
                .map(SigningKey::from)
                .map_err(|e| KeyError::Invalid(e.to_string()))?
        } else {
            SigningKey::from_pkcs8_pem(pem).map_err(|e| KeyError::Invalid(e.to_string()))?
        };
        Self::from_signing_key(signing)
    }

    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        self.signing
            .to_pkcs8_pem(LineEnding::LF)
            .map(|p| Zeroizing::new(p.to_string()))
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }

    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    pub fn public(&self) -> PublicKey {
        self.public.clone()
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }
}

impl Jwks {
    pub fn public_keys(&self) -> Vec<PublicKey> {
        self.keys
            .iter()
            .filter_map(|k| PublicKey::from_jwk(k).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn rfc7638_thumbprint_of_a_known_key() {
        // The thumbprint is SHA-256 over the required members in lexicographic order.
        let k = KeyPair::from_secret_bytes(&[7u8; 32]).unwrap();
        let jwk = k.public().to_jwk();
        let again = PublicKey::from_jwk(&jwk).unwrap();
        assert_eq!(again.kid(), k.kid());
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk.x, jwk.y
        );
        assert_eq!(k.kid(), B64.encode(Sha256::digest(canonical.as_bytes())));
        assert_eq!(k.kid().len(), 43);
    }

    #[test]
    fn pem_round_trips() {
        let k = KeyPair::generate().unwrap();
        let pem = k.to_pkcs8_pem().unwrap();
        assert_eq!(KeyPair::from_pem(&pem).unwrap().kid(), k.kid());
        let public = k.public().to_pem().unwrap();
        assert_eq!(PublicKey::from_pem(&public).unwrap().kid(), k.kid());
        assert!(KeyPair::from_pem("nonsense").is_err());
    }

    #[test]
    fn jwk_with_a_lying_kid_gets_its_real_kid() {
        let k = KeyPair::generate().unwrap();
        let mut jwk = k.public().to_jwk();
        jwk.kid = Some("someone-else".into());
        assert_eq!(PublicKey::from_jwk(&jwk).unwrap().kid(), k.kid());
    }
}
