//! The heartbeat's shortcut (tenant schema step 18): a license's `heartbeat_state` row
//! keeps a digest of the credential that last heartbeated for the activation whose
//! lease chain it holds. A heartbeat presenting that digest again is found by its
//! license id alone: the state row and the license, two B-trees, where the lookup by
//! secret (`activations::find_by_secret`) descends four before the state row.
//!
//! The digest is set by the service after a heartbeat checked the long way
//! (`remember`), and cleared by the schema whenever an activation of the license
//! changes (triggers of step 18) or the row takes another activation's chain
//! (`leases::record`).

use super::held_assessments;
use super::licenses::{COLUMNS as LICENSE_COLUMNS, LicenseRow, WIDTH, read_row};
use super::{ReadTx, Result, WriteTx};
use crate::domain::violation::Reusable;
use rusqlite::params;
use std::sync::LazyLock;

/// `remember`'s statement when an activation's assessment goes with the digest.
static REMEMBERED_ASSESSED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE heartbeat_state SET credential_digest = ?3, {}
         WHERE license_no = (SELECT no FROM licenses WHERE id = ?1) AND activation_id = ?2",
        held_assessments::assignments(4)
    )
});

/// The activation a license's state row holds the lease chain of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldChain {
    pub activation_id: i64,
    pub last_seq: i64,
    pub last_lease_hash: String,
}

/// What a heartbeat found by its credential's digest reads of its license.
#[derive(Debug, Clone)]
pub struct Held {
    pub chain: HeldChain,
    /// The installation's stage as the last heartbeat's assessment left it, if not
    /// forgotten since (`held_assessments`).
    pub assessed: Option<Reusable>,
    pub license: LicenseRow,
}

/// The license `license_id` and what its state row holds, when the row's digest is
/// `digest`.
pub fn find(tx: &ReadTx<'_>, license_id: &str, digest: &[u8]) -> Result<Option<Held>> {
    let mut st = tx.prepare(&format!(
        "SELECT {LICENSE_COLUMNS}, h.activation_id, h.last_seq, h.last_lease_hash, {}
         FROM licenses l JOIN heartbeat_state h ON h.license_no = l.no
         WHERE l.id = ?1 AND h.credential_digest = ?2",
        held_assessments::COLUMNS
    ))?;
    let mut rows = st.query(params![license_id, digest])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    Ok(Some(Held {
        chain: HeldChain {
            activation_id: r.get(WIDTH)?,
            last_seq: r.get(WIDTH + 1)?,
            last_lease_hash: r.get(WIDTH + 2)?,
        },
        assessed: held_assessments::read(r, WIDTH + 3)?,
        license: read_row(r, 0)?,
    }))
}

/// Keeps `digest` for the activation `activation_id`, if the license's state row holds
/// its chain (a lease was just recorded for it), and with it the installation's stage
/// as an activation assessed it (a heartbeat's goes with its lease, `leases::record`):
/// one write of the row for both shortcuts.
pub fn remember(
    tx: &WriteTx<'_>,
    license_id: &str,
    activation_id: i64,
    digest: &[u8],
    assessed: Option<&Reusable>,
) -> Result<()> {
    match assessed {
        None => {
            let mut st = tx.prepare(
                "UPDATE heartbeat_state SET credential_digest = ?3
                 WHERE license_no = (SELECT no FROM licenses WHERE id = ?1) AND activation_id = ?2",
            )?;
            st.execute(params![license_id, activation_id, digest])?;
        }
        Some(assessed) => {
            let (at, until, stage, internal, external) = held_assessments::columns(assessed);
            let mut st = tx.prepare(&REMEMBERED_ASSESSED)?;
            st.execute(params![
                license_id,
                activation_id,
                digest,
                at,
                until,
                stage,
                internal,
                external
            ])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::db::{Db, DbOptions};
    use super::super::migrate::TENANT;
    use super::super::{StoreError, activations, leases};
    use super::*;
    use chrono::{TimeZone, Utc};

    const AT: &str = "2026-01-01T00:00:00.000000Z";

    fn db_with_license(dir: &std::path::Path) -> Db {
        let db = Db::open(&dir.join("t.db"), &TENANT, DbOptions::default()).unwrap();
        db.write(|tx| {
            tx.execute(
                "INSERT INTO signing_keys (kid, status, public_jwk, sealed_private, created_at, no)
                 VALUES ('k1', 'active', '{}', x'00', ?1, 1)",
                [AT],
            )?;
            tx.execute(
                "INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before,
                     expires_at, issued_at, signed_by, state)
                 VALUES ('L', 'n', 'I', 1, 0, unixepoch(?1) * 1000000,
                     unixepoch('2027-01-01') * 1000000, unixepoch(?1) * 1000000, 1, 'active')",
                [AT],
            )?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
        db
    }

    fn found(db: &Db, digest: &[u8]) -> Option<i64> {
        db.read(|tx| find(tx, "L", digest)).unwrap().map(|held| {
            assert_eq!(held.license.id, "L");
            held.chain.activation_id
        })
    }

    /// The digest finds the activation whose chain the state row holds, and only while
    /// nothing about that activation changed.
    #[test]
    fn the_digest_goes_when_the_activation_or_the_chain_changes() {
        let dir = tempfile::tempdir().unwrap();
        let db = db_with_license(dir.path());
        let now = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap();
        let one = db
            .write(|tx| {
                let one = activations::insert(tx, "L", "box-1", None, b"s1", now)?;
                leases::record(tx, "L", one, 1, "h1", None)?;
                remember(tx, "L", one, b"d1", None)?;
                Ok::<_, StoreError>(one)
            })
            .unwrap();
        assert_eq!(found(&db, b"d1"), Some(one));
        assert_eq!(found(&db, b"d2"), None, "another digest");
        assert!(
            db.read(|tx| find(tx, "M", b"d1")).unwrap().is_none(),
            "another license"
        );
        // Remembered for an activation whose chain the row does not hold: nothing.
        db.write(|tx| remember(tx, "L", one + 1, b"d9", None))
            .unwrap();
        assert_eq!(found(&db, b"d9"), None);
        assert_eq!(found(&db, b"d1"), Some(one));
        // Another activation's lease takes the row over: the digest goes with the chain.
        let two = db
            .write(|tx| {
                let two = activations::insert(tx, "L", "box-2", None, b"s2", now)?;
                leases::record(tx, "L", two, 1, "h2", None)?;
                Ok::<_, StoreError>(two)
            })
            .unwrap();
        assert_eq!(found(&db, b"d1"), None, "the row holds another chain");
        db.write(|tx| remember(tx, "L", two, b"d2", None)).unwrap();
        assert_eq!(found(&db, b"d2"), Some(two));
        // The activation is superseded (a rebind, a new activation, a release).
        db.write(|tx| {
            activations::supersede_all(
                tx,
                "L",
                crate::domain::activation::SupersededReason::Rebind,
                now,
            )
        })
        .unwrap();
        assert_eq!(found(&db, b"d2"), None, "superseded");
    }
}
