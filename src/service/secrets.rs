//! Random secrets and their hashes: session cookies, API tokens, one-time passwords,
//! CSRF tokens, argon2id password hashes.

use super::error::{Result, ServiceError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

pub const API_TOKEN_PREFIX: &str = "licd_";

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .map_err(|e| ServiceError::unexpected(format!("no randomness: {e}")))?;
    Ok(buf)
}

/// A fresh 256-bit secret, base64url.
pub fn new_secret() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// A fresh API token: `licd_` followed by 256 random bits.
pub fn new_api_token() -> Result<String> {
    Ok(format!("{API_TOKEN_PREFIX}{}", new_secret()?))
}

/// The part of an API token shown in lists (enough to tell tokens apart, useless alone).
pub fn token_prefix(token: &str) -> String {
    token.chars().take(API_TOKEN_PREFIX.len() + 6).collect()
}

/// The stored form of a session cookie or API token: SHA-256 (the secrets have 256 bits
/// of entropy, so a fast hash is the right choice; argon2 is for passwords).
pub fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// What a license's heartbeat state row keeps of the credential that last heartbeated
/// (tenant schema step 18): the first 128 bits of SHA-256 over the activation secret's
/// hash and the box's fingerprint. One comparison with it checks both. It is a
/// shortcut only: a heartbeat whose digest differs takes the long way, by the secret's
/// hash, which checks each refusal.
pub fn credential_digest(secret_hash: &[u8], fingerprint: &str) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(b"licd-heartbeat-credential-v1:");
    h.update(secret_hash);
    h.update(fingerprint.as_bytes());
    let full = h.finalize();
    let mut digest = [0u8; 16];
    digest.copy_from_slice(&full[..16]);
    digest
}

/// The CSRF token bound to a session (or pre-login) secret. Derived, so nothing extra is
/// stored, and unguessable without the HttpOnly cookie.
pub fn csrf_token(cookie_secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"licd-csrf-v1:");
    h.update(cookie_secret.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A one-time password people can type: 5 groups of 4 from an unambiguous alphabet
/// (about 100 bits).
pub fn one_time_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let bytes = random_bytes::<20>()?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// argon2id (m=19 MiB, t=2, p=1) in PHC string form.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| ServiceError::internal("making a password salt", e))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::internal("hashing a password (argon2)", e))
}

/// Checks a password against a stored hash. A malformed stored hash never verifies.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A valid hash of a random password, verified against when an account does not exist
/// so that unknown and known emails take the same time.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password("licd dummy password for timing")
            .unwrap_or_else(|_| String::from("$argon2id$invalid"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn secrets_are_distinct_and_well_formed() {
        let a = new_api_token().unwrap();
        let b = new_api_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("licd_") && a.len() == 5 + 43);
        assert_eq!(hash_secret(&a).len(), 32);
        let otp = one_time_password().unwrap();
        assert_eq!(otp.len(), 24);
        assert_ne!(csrf_token("s1"), csrf_token("s2"));
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
