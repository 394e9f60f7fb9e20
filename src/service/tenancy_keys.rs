//! The tenancy API keys, held as SHA-256 digests with their names. A presented key is
//! hashed and its digest compared with every configured digest by a branch-free XOR fold
//! (`secrets::constant_time_eq` on the hex digests), without stopping at a match, so the
//! time taken says neither which key matched nor how much of one did; hashing first also
//! makes the compared lengths equal whatever was presented.

use super::secrets::constant_time_eq;
use sha2::{Digest, Sha256};

#[derive(Clone, Default)]
pub struct TenancyKeys {
    /// (name, hex SHA-256 of the key)
    keys: Vec<(String, String)>,
}

impl std::fmt::Debug for TenancyKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.keys.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("TenancyKeys")
            .field("names", &names)
            .finish()
    }
}

fn digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl TenancyKeys {
    /// From (name, key) pairs as `TenancyConfig::keys` gives them (already checked).
    pub fn new(keys: Vec<(String, String)>) -> TenancyKeys {
        TenancyKeys {
            keys: keys.into_iter().map(|(n, k)| (n, digest(&k))).collect(),
        }
    }

    /// Whether any key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The name of the configured key `presented` is, if any.
    pub fn identify(&self, presented: &str) -> Option<&str> {
        let d = digest(presented);
        let mut found = None;
        for (name, k) in &self.keys {
            if constant_time_eq(&d, k) && found.is_none() {
                found = Some(name.as_str());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_known_by_name_only() {
        let a = "a".repeat(32);
        let b = "b".repeat(40);
        let keys = TenancyKeys::new(vec![("old".into(), a.clone()), ("new".into(), b.clone())]);
        assert_eq!(keys.identify(&a), Some("old"));
        assert_eq!(keys.identify(&b), Some("new"));
        assert_eq!(keys.identify(&a[..31]), None);
        assert_eq!(keys.identify(""), None);
        assert!(!format!("{keys:?}").contains(&a), "Debug shows no key");
        assert!(TenancyKeys::new(Vec::new()).identify(&a).is_none());
    }
}
