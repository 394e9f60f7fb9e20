//! The audit chain: each entry's hash covers its own fields and the previous entry's
//! hash, so changing, removing or reordering any entry breaks every hash after it.

use sha2::{Digest, Sha256};

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields an entry's hash covers, in the order they are hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFields<'a> {
    pub id: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub details: &'a str,
    pub prev_hash: &'a str,
}

/// Hex SHA-256 over the length-prefixed fields (unambiguous whatever the fields hold).
pub fn entry_hash(e: &EntryFields<'_>) -> String {
    let mut h = Sha256::new();
    h.update(b"licd-audit-v1");
    h.update(e.id.to_be_bytes());
    for field in [e.at, e.actor, e.action, e.target, e.details, e.prev_hash] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Why the chain stops verifying at an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's stored hash does not match its contents.
    HashMismatch,
    /// The entry's `prev_hash` is not the hash of the entry before it.
    PrevMismatch,
    /// An id is missing or out of order (an entry was removed).
    Gap { expected: i64 },
}

/// Checks one entry given the previous entry's (id, hash); `None` for the first entry.
pub fn check_link(
    prev: Option<(i64, &str)>,
    e: &EntryFields<'_>,
    stored_hash: &str,
) -> Result<(), ChainBreak> {
    let (expected_id, expected_prev) = match prev {
        Some((id, hash)) => (id + 1, hash),
        None => (1, GENESIS_HASH),
    };
    if e.id != expected_id {
        return Err(ChainBreak::Gap {
            expected: expected_id,
        });
    }
    if e.prev_hash != expected_prev {
        return Err(ChainBreak::PrevMismatch);
    }
    if entry_hash(e) != stored_hash {
        return Err(ChainBreak::HashMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, prev: &str, action: &str) -> (EntryFields<'static>, String) {
        let prev: &'static str = Box::leak(prev.to_owned().into_boxed_str());
        let action: &'static str = Box::leak(action.to_owned().into_boxed_str());
        let e = EntryFields {
            id,
            at: "2026-01-01T00:00:00.000000Z",
            actor: "user:1",
            action,
            target: "user:2",
            details: "{}",
            prev_hash: prev,
        };
        let h = entry_hash(&e);
        (e, h)
    }

    #[test]
    fn chain_links_and_breaks() {
        let (e1, h1) = entry(1, GENESIS_HASH, "user.create");
        let (e2, h2) = entry(2, &h1, "user.update");
        assert_eq!(check_link(None, &e1, &h1), Ok(()));
        assert_eq!(check_link(Some((1, &h1)), &e2, &h2), Ok(()));

        let mut tampered = e2.clone();
        tampered.action = "user.delete";
        assert_eq!(
            check_link(Some((1, &h1)), &tampered, &h2),
            Err(ChainBreak::HashMismatch)
        );
        assert_eq!(
            check_link(Some((1, "f00")), &e2, &h2),
            Err(ChainBreak::PrevMismatch)
        );
        assert_eq!(
            check_link(None, &e2, &h2),
            Err(ChainBreak::Gap { expected: 1 })
        );
    }

    #[test]
    fn field_boundaries_matter() {
        let (a, _) = entry(1, GENESIS_HASH, "ab");
        let mut b = a.clone();
        b.action = "a";
        b.target = "buser:2";
        assert_ne!(entry_hash(&a), entry_hash(&b));
    }
}
