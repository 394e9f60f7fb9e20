//! P-256 keys: licd's public keys (from its JWKS) and the appliance's own key.
//!
//! A key's id (`kid`) is its RFC 7638 thumbprint, always recomputed from the
//! coordinates: the `kid` a JWK carries is never trusted.
//!
//! ```
//! use licd_client::keys::{ApplianceKey, PublicKey};
//!
//! let key = ApplianceKey::generate()?;
//! let public = PublicKey::from_jwk(&key.public_jwk())?;
//! assert_eq!(public.kid(), key.kid());
//! let signature = key.sign(b"hello");
//! assert!(public.verify(b"hello", &signature));
//! assert!(!public.verify(b"hullo", &signature));
//! # Ok::<(), licd_client::keys::KeyError>(())
//! ```

use crate::formats::{Jwk, Jwks};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::EncodedPoint;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Why a key could not be made, read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The operating system gave no randomness.
    #[error("no randomness available: {0}")]
    Random(String),
    /// The bytes, JWK or PEM are not a P-256 key.
    #[error("not a P-256 key: {0}")]
    Invalid(String),
    /// The key file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// A P-256 public key with its id (the RFC 7638 thumbprint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    kid: String,
    key: VerifyingKey,
}

/// The RFC 7638 thumbprint of an EC key: base64url(SHA-256) of the required members in
/// lexicographic order, without whitespace.
fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    B64.encode(Sha256::digest(canonical.as_bytes()))
}

fn coordinates(key: &VerifyingKey) -> (String, String) {
    let point = key.to_encoded_point(false);
    let x = point.x().map(|x| B64.encode(x)).unwrap_or_default();
    let y = point.y().map(|y| B64.encode(y)).unwrap_or_default();
    (x, y)
}

impl PublicKey {
    /// Wraps a verifying key, computing its id.
    pub fn new(key: VerifyingKey) -> Self {
        let (x, y) = coordinates(&key);
        PublicKey {
            kid: thumbprint(&x, &y),
            key,
        }
    }

    /// Reads a JWK (`kty` `EC`, `crv` `P-256`); the `kid` is recomputed, never taken
    /// from the JWK.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        if jwk.kty != "EC" || jwk.crv != "P-256" {
            return Err(KeyError::Invalid(format!(
                "kty {:?} crv {:?} (expected EC P-256)",
                jwk.kty, jwk.crv
            )));
        }
        let decode = |name: &str, s: &str| {
            B64.decode(s)
                .map_err(|_| KeyError::Invalid(format!("{name} is not base64url")))
        };
        let (x, y) = (decode("x", &jwk.x)?, decode("y", &jwk.y)?);
        if x.len() != 32 || y.len() != 32 {
            return Err(KeyError::Invalid("coordinates must be 32 bytes".into()));
        }
        let point =
            EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
        let key = VerifyingKey::from_encoded_point(&point)
            .map_err(|_| KeyError::Invalid("the point is not on the P-256 curve".into()))?;
        Ok(PublicKey::new(key))
    }

    /// The JWK of this key (with `kid`, `use` `sig`, `alg` `ES256`).
    pub fn to_jwk(&self) -> Jwk {
        let (x, y) = coordinates(&self.key);
        Jwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x,
            y,
            kid: Some(self.kid.clone()),
            use_: Some("sig".into()),
            alg: Some("ES256".into()),
        }
    }

    /// The key id (RFC 7638 thumbprint).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Checks an ES256 signature (64 bytes, `r || s`) over `message`. Anything else
    /// (wrong length, high `s` included) is simply `false`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify(message, &signature).is_ok()
    }
}

/// The usable keys of a JWK Set: keys that are not EC P-256 are skipped (a JWKS may
/// carry keys for other uses).
///
/// ```
/// let jwks: licd_client::formats::Jwks = serde_json::from_str(r#"{"keys":[{"kty":"RSA","crv":"","x":"","y":""}]}"#)?;
/// assert!(licd_client::keys::public_keys(&jwks).is_empty());
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn public_keys(jwks: &Jwks) -> Vec<PublicKey> {
    jwks.keys
        .iter()
        .filter_map(|k| PublicKey::from_jwk(k).ok())
        .collect()
}

/// The appliance's own key (P-256), made at first run and kept on the box. It signs
/// offline requests, release proofs and usage reports, and keys the lease store's MAC.
///
/// A key on customer hardware can be read by whoever controls that hardware: what it
/// signs is evidence of origin and makes silent edits evident, not impossible.
#[derive(Clone)]
pub struct ApplianceKey {
    signing: SigningKey,
    public: PublicKey,
}

impl std::fmt::Debug for ApplianceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplianceKey")
            .field("kid", &self.public.kid)
            .finish_non_exhaustive()
    }
}

impl ApplianceKey {
    /// A fresh key from the operating system's randomness.
    pub fn generate() -> Result<Self, KeyError> {
        loop {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| KeyError::Random(e.to_string()))?;
            // Out-of-range scalars (probability ~2^-32) are drawn again.
            if let Ok(key) = Self::from_secret_bytes(&bytes) {
                return Ok(key);
            }
        }
    }

    /// The key of a 32-byte secret scalar.
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let signing = SigningKey::from_slice(bytes)
            .map_err(|_| KeyError::Invalid("not a P-256 secret scalar".into()))?;
        Ok(Self::from_signing_key(signing))
    }

    fn from_signing_key(signing: SigningKey) -> Self {
        let public = PublicKey::new(*signing.verifying_key());
        ApplianceKey { signing, public }
    }

    /// Reads a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        SigningKey::from_pkcs8_pem(pem.trim())
            .map(Self::from_signing_key)
            .map_err(|e| KeyError::Invalid(format!("PKCS#8 PEM: {e}")))
    }

    /// The key as a PKCS#8 PEM.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        self.signing
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.as_str().to_owned())
            .map_err(|e| KeyError::Invalid(e.to_string()))
    }

    /// Reads the key file (PKCS#8 PEM).
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let pem = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_pem(&pem)
    }

    /// Writes the key file (PKCS#8 PEM, mode 0600 on Unix), atomically: a temporary
    /// file beside it is written, flushed and renamed over it.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        let pem = self.to_pem()?;
        crate::atomic_file::write(path, pem.as_bytes()).map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads the key file, or makes a key and saves it there when there is no file (the
    /// appliance's first run). Any other failure (an unreadable or damaged file) is an
    /// error: a new key would orphan the lease store and the offline activation.
    pub fn load_or_generate(path: &Path) -> Result<Self, KeyError> {
        match std::fs::metadata(path) {
            Ok(_) => Self::load(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate()?;
                key.save(path)?;
                Ok(key)
            }
            Err(source) => Err(KeyError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The public half as a JWK.
    pub fn public_jwk(&self) -> Jwk {
        self.public.to_jwk()
    }

    /// The key id (RFC 7638 thumbprint of the public half).
    pub fn kid(&self) -> &str {
        self.public.kid()
    }

    /// An ES256 signature (64 bytes, `r || s`; deterministic, RFC 6979) over `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signature: Signature = self.signing.sign(message);
        signature.to_bytes().to_vec()
    }

    /// The lease store's MAC key: SHA-256(`"licd-lease-store-mac\0"` || secret scalar).
    pub fn mac_key(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(b"licd-lease-store-mac\0");
        hasher.update(self.signing.to_bytes());
        hasher.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwk_round_trip_and_kid_recomputed() {
        let key = ApplianceKey::generate().expect("key");
        let mut jwk = key.public_jwk();
        jwk.kid = Some("forged".into());
        let public = PublicKey::from_jwk(&jwk).expect("jwk");
        assert_eq!(public.kid(), key.kid());
        assert_eq!(public.kid().len(), 43);
    }

    #[test]
    fn bad_jwks_are_refused_not_panicking() {
        let key = ApplianceKey::generate().expect("key");
        let good = key.public_jwk();
        let cases = [
            Jwk {
                kty: "RSA".into(),
                ..good.clone()
            },
            Jwk {
                x: "!!".into(),
                ..good.clone()
            },
            Jwk {
                x: "AAAA".into(),
                ..good.clone()
            },
            Jwk {
                y: good.x.clone(),
                ..good.clone()
            },
        ];
        for jwk in cases {
            assert!(PublicKey::from_jwk(&jwk).is_err(), "{jwk:?}");
        }
        let jwks = Jwks {
            keys: vec![
                good,
                Jwk {
                    crv: "P-384".into(),
                    ..key.public_jwk()
                },
            ],
        };
        assert_eq!(public_keys(&jwks).len(), 1);
    }

    #[test]
    fn a_signature_made_as_licd_makes_it_verifies() {
        use ring::rand::SystemRandom;
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("pkcs8");
        let licd = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("key");
        let point = licd.public_key().as_ref();
        let jwk = Jwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: B64.encode(&point[1..33]),
            y: B64.encode(&point[33..65]),
            kid: None,
            use_: None,
            alg: None,
        };
        let public = PublicKey::from_jwk(&jwk).expect("jwk");
        // Many signatures, so both low and high `s` values occur.
        for i in 0..64u8 {
            let message = [i; 40];
            let sig = licd.sign(&rng, &message).expect("sign");
            assert!(public.verify(&message, sig.as_ref()), "signature {i}");
        }
    }

    #[test]
    fn signatures_of_the_wrong_shape_do_not_verify() {
        let key = ApplianceKey::generate().expect("key");
        assert!(!key.public().verify(b"m", b""));
        assert!(!key.public().verify(b"m", &[0u8; 64]));
        assert!(!key.public().verify(b"m", &[1u8; 70]));
    }

    #[test]
    fn pem_file_round_trip_with_private_mode() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("appliance.pem");
        let key = ApplianceKey::load_or_generate(&path).expect("first run");
        let again = ApplianceKey::load_or_generate(&path).expect("second run");
        assert_eq!(key.kid(), again.kid());
        assert_eq!(key.mac_key(), again.mac_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").expect("write");
        assert!(matches!(
            ApplianceKey::load(&path),
            Err(KeyError::Invalid(_))
        ));
        assert!(ApplianceKey::from_secret_bytes(&[0u8; 32]).is_err());
        assert!(ApplianceKey::from_secret_bytes(&[1u8; 3]).is_err());
    }
}
