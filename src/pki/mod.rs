//! Key material: ECDSA P-256 signing keys and JWS (ES256), the key-encryption key that
//! seals private keys at rest, and offline verification of license keys.

pub mod body_signature;
pub mod ca;
pub mod jws;
pub mod kek;
pub mod keys;
pub mod tls;
pub mod verify;

pub use keys::{KeyPair, PublicKey};
