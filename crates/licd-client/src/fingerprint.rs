//! The appliance's fingerprint: what licd binds an activation to.
//!
//! By default it is `hex(HMAC-SHA256(key = product id, message = machine id))`, the
//! machine id being the trimmed content of `/etc/machine-id` (or
//! `/var/lib/dbus/machine-id`). The raw machine id never leaves the box, and two
//! products on the same box get different fingerprints. Where the machine id is not
//! stable (containers, clusters), [`Fingerprint::explicit`] takes a value from the
//! operator.
//!
//! ```
//! use licd_client::fingerprint::Fingerprint;
//!
//! let dir = tempfile::tempdir()?;
//! let id_file = dir.path().join("machine-id");
//! std::fs::write(&id_file, "0123456789abcdef0123456789abcdef\n")?;
//! let fp = Fingerprint::from_file(&id_file, "acme-appliance")?;
//! assert_eq!(fp.as_str().len(), 64);
//! assert!(!fp.as_str().contains("0123456789abcdef"));
//! assert_ne!(fp, Fingerprint::from_file(&id_file, "other-product")?);
//!
//! assert!(Fingerprint::explicit("cluster-a/node-3").is_ok());
//! assert!(Fingerprint::explicit("has a space").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::path::{Path, PathBuf};

/// The longest fingerprint licd accepts.
pub const FINGERPRINT_MAX: usize = 256;

/// Where the machine id is looked for, in order.
pub const MACHINE_ID_FILES: [&str; 2] = ["/etc/machine-id", "/var/lib/dbus/machine-id"];

/// An appliance fingerprint: 1 to 256 printable ASCII characters without spaces (the
/// rule licd applies).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint(String);

/// Why no fingerprint could be made.
#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    /// No machine id file could be read.
    #[error("no machine id: could not read {tried} (set an explicit fingerprint instead)")]
    NoMachineId {
        /// The files tried and why each failed.
        tried: String,
    },
    /// The machine id file is empty.
    #[error("the machine id file {0} is empty (set an explicit fingerprint instead)")]
    EmptyMachineId(PathBuf),
    /// The product id (the HMAC key) is empty.
    #[error("the product id must not be empty: it keys the fingerprint")]
    EmptyProductId,
    /// An explicit fingerprint that licd would refuse.
    #[error(
        "fingerprint: must be 1 to {FINGERPRINT_MAX} printable ASCII characters without spaces"
    )]
    Invalid,
}

impl Fingerprint {
    /// From the machine id (`/etc/machine-id`, else `/var/lib/dbus/machine-id`), keyed
    /// with `product_id`.
    pub fn from_machine_id(product_id: &str) -> Result<Self, FingerprintError> {
        let mut tried = Vec::new();
        for file in MACHINE_ID_FILES {
            let path = Path::new(file);
            match std::fs::read_to_string(path) {
                Ok(text) if text.trim().is_empty() => tried.push(format!("{file} (empty)")),
                Ok(text) => return Self::keyed(product_id, text.trim()),
                Err(e) => tried.push(format!("{file} ({e})")),
            }
        }
        Err(FingerprintError::NoMachineId {
            tried: tried.join(", "),
        })
    }

    /// From the machine id in `path` (trimmed), keyed with `product_id`.
    pub fn from_file(path: &Path, product_id: &str) -> Result<Self, FingerprintError> {
        let text = std::fs::read_to_string(path).map_err(|e| FingerprintError::NoMachineId {
            tried: format!("{} ({e})", path.display()),
        })?;
        if text.trim().is_empty() {
            return Err(FingerprintError::EmptyMachineId(path.to_owned()));
        }
        Self::keyed(product_id, text.trim())
    }

    fn keyed(product_id: &str, machine_id: &str) -> Result<Self, FingerprintError> {
        if product_id.is_empty() {
            return Err(FingerprintError::EmptyProductId);
        }
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(product_id.as_bytes())
            .map_err(|_| FingerprintError::EmptyProductId)?;
        mac.update(machine_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        Ok(Fingerprint(
            digest.iter().map(|b| format!("{b:02x}")).collect(),
        ))
    }

    /// An explicit fingerprint (containers, clusters): trimmed, then 1 to 256 printable
    /// ASCII characters without spaces, as licd checks it.
    pub fn explicit(value: &str) -> Result<Self, FingerprintError> {
        let v = value.trim();
        if v.is_empty() || v.len() > FINGERPRINT_MAX || !v.chars().all(|c| c.is_ascii_graphic()) {
            return Err(FingerprintError::Invalid);
        }
        Ok(Fingerprint(v.to_owned()))
    }

    /// The fingerprint text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Fingerprint {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_of_the_machine_id_keyed_by_product() {
        // HMAC-SHA256(key="acme", msg="abc"), computed with Python's hmac module.
        let fp = Fingerprint::keyed("acme", "abc").expect("fp");
        assert_eq!(
            fp.as_str(),
            "a7919cdf7d3f161b1b550407855e172bf194438a3ec8def8f30437038c4b8aab"
        );
        assert_eq!(fp.as_str().len(), 64);
        assert!(fp.as_str().chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn machine_id_file_rules() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("machine-id");
        std::fs::write(&path, "  abc \n").expect("write");
        let a = Fingerprint::from_file(&path, "acme").expect("fp");
        std::fs::write(&path, "abc").expect("write");
        assert_eq!(a, Fingerprint::from_file(&path, "acme").expect("fp"));
        assert!(matches!(
            Fingerprint::from_file(&path, ""),
            Err(FingerprintError::EmptyProductId)
        ));
        std::fs::write(&path, "\n").expect("write");
        assert!(matches!(
            Fingerprint::from_file(&path, "acme"),
            Err(FingerprintError::EmptyMachineId(_))
        ));
        let missing = Fingerprint::from_file(&dir.path().join("none"), "acme")
            .expect_err("missing")
            .to_string();
        assert!(missing.contains("none"), "{missing}");
    }

    #[test]
    fn explicit_follows_the_server_rule() {
        assert_eq!(
            Fingerprint::explicit("  node-1 ").expect("ok").as_str(),
            "node-1"
        );
        assert!(Fingerprint::explicit(&"x".repeat(FINGERPRINT_MAX)).is_ok());
        for bad in ["", "   ", "a b", "é", "tab\there"] {
            assert!(Fingerprint::explicit(bad).is_err(), "{bad:?}");
        }
        assert!(Fingerprint::explicit(&"x".repeat(FINGERPRINT_MAX + 1)).is_err());
    }
}
