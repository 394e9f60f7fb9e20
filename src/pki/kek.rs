//! The key-encryption key (KEK): 256 random bits in `keys/kek` (mode 0600) that seal
//! every signing key's private half with ChaCha20-Poly1305. Losing it loses the signing
//! keys; a copy belongs in the backup, stored like a private key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const HEADER: &str = "licd-kek-v1 ";

#[derive(Debug, thiserror::Error)]
pub enum KekError {
    #[error(
        "{path} is missing but sealed signing keys exist: restore it from your backup \
         (without it the signing keys cannot be used)"
    )]
    Missing { path: PathBuf },
    #[error("{path} has mode {mode:o}; it holds a private key and must be 0600 (chmod 600 {path})")]
    Permissions { path: PathBuf, mode: u32 },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a licd key-encryption key file")]
    Corrupt { path: PathBuf },
    #[error("no randomness available: {0}")]
    Random(String),
    #[error(
        "a sealed key does not open with this key-encryption key (wrong keys/kek, or the database was altered)"
    )]
    Open,
}

pub struct Kek {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(..)")
    }
}

/// Refuses a key file that others than its owner can read or write.
#[cfg(unix)]
pub fn check_private(path: &Path) -> Result<(), KekError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| KekError::Io {
            path: path.to_owned(),
            source: e,
        })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(KekError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn check_private(_path: &Path) -> Result<(), KekError> {
    Ok(())
}

/// Writes `contents` to a new file with mode 0600.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

impl Kek {
    /// Loads the KEK, creating it if it does not exist and no sealed keys depend on it.
    pub fn load_or_create(path: &Path, sealed_keys_exist: bool) -> Result<Kek, KekError> {
        if !path.exists() {
            if sealed_keys_exist {
                return Err(KekError::Missing {
                    path: path.to_owned(),
                });
            }
            let mut key = Zeroizing::new([0u8; 32]);
            getrandom::fill(key.as_mut()).map_err(|e| KekError::Random(e.to_string()))?;
            let text = Zeroizing::new(format!("{HEADER}{}\n", B64.encode(key.as_ref())));
            write_private(path, text.as_bytes()).map_err(|e| KekError::Io {
                path: path.to_owned(),
                source: e,
            })?;
            tracing::info!(path = %path.display(), "created the key-encryption key");
            return Ok(Kek { key });
        }
        check_private(path)?;
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| KekError::Io {
            path: path.to_owned(),
            source: e,
        })?);
        let corrupt = || KekError::Corrupt {
            path: path.to_owned(),
        };
        let encoded = text
            .trim()
            .strip_prefix(HEADER.trim_end())
            .ok_or_else(corrupt)?
            .trim();
        let bytes = Zeroizing::new(B64.decode(encoded).map_err(|_| corrupt())?);
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| corrupt())?;
        Ok(Kek {
            key: Zeroizing::new(key),
        })
    }

    /// A 256-bit key for another purpose (`label` names it), derived from the KEK with
    /// HMAC-SHA256: it lives exactly as long as `keys/kek` and needs no file of its own.
    pub fn derive(&self, label: &str) -> Zeroizing<[u8; 32]> {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.key.as_ref());
        let tag = ring::hmac::sign(&key, format!("licd-kek-derive-v1:{label}").as_bytes());
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(tag.as_ref());
        out
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(self.key.as_ref()))
    }

    /// Seals `secret`, binding it to `aad` (e.g. the key id): nonce (12 bytes) || ciphertext.
    pub fn seal(&self, secret: &[u8], aad: &[u8]) -> Result<Vec<u8>, KekError> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| KekError::Random(e.to_string()))?;
        let ct = self
            .cipher()
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad })
            .map_err(|_| KekError::Open)?;
        Ok([nonce.as_slice(), ct.as_slice()].concat())
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, KekError> {
        if sealed.len() < 12 + 16 {
            return Err(KekError::Open);
        }
        let (nonce, ct) = sealed.split_at(12);
        self.cipher()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| KekError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_private_then_seals_and_opens() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kek");
        let kek = Kek::load_or_create(&p, false).unwrap();
        check_private(&p).unwrap();
        let sealed = kek.seal(b"secret", b"kid-1").unwrap();
        let again = Kek::load_or_create(&p, true).unwrap();
        assert_eq!(again.open(&sealed, b"kid-1").unwrap().as_slice(), b"secret");
        assert!(
            again.open(&sealed, b"kid-2").is_err(),
            "aad binds the key id"
        );
        assert_eq!(*kek.derive("a"), *again.derive("a"), "derived keys persist");
        assert_ne!(*kek.derive("a"), *kek.derive("b"));
    }

    #[test]
    fn missing_with_keys_and_wide_modes_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kek");
        assert!(matches!(
            Kek::load_or_create(&p, true),
            Err(KekError::Missing { .. })
        ));
        Kek::load_or_create(&p, false).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Kek::load_or_create(&p, true).unwrap_err().to_string();
        assert!(err.contains("mode 644") && err.contains("kek"), "{err}");
    }
}
