//! The lease chain of an activation: the seq and chain hash of the last lease issued.
//! The next lease's seq is `last_seq + 1`, decided inside the heartbeat's write
//! transaction (see "single writer" in `mod.rs`).
//!
//! A license's `heartbeat_state` row holds the chain of one of its activations, the
//! one that was last given a lease, so that a heartbeat rewrites that narrow row only
//! (tenant schema step 17). The chain of any other activation is in its own row
//! (`activations.last_seq`, `activations.last_lease_hash`); `activations::COLUMNS`
//! reads whichever holds it.

use super::{Result, WriteTx, held_assessments, micros};
use crate::domain::violation::Reusable;
use chrono::{DateTime, Utc};
use rusqlite::params;
use std::sync::LazyLock;

/// A heartbeat that came with a lease: its appliance was heard from `at`, its history
/// row is `heartbeat_id`, the new head of the license's chain, and its installation's
/// stage is `assessed`, for the next heartbeat to reuse. Recorded in the same write of
/// the state row as the lease (one statement, not two).
#[derive(Debug, Clone, Copy)]
pub struct Heard {
    pub at: DateTime<Utc>,
    pub heartbeat_id: i64,
    pub assessed: Reusable,
}

/// The statements of a heartbeat's lease: the same activation's chain, and another's
/// taken over. `?5` and `?6`: when heard from, and the new head of the history chain;
/// `?7` to `?11`: the assessment.
static HEARD: LazyLock<[String; 2]> = LazyLock::new(|| {
    let assessed = held_assessments::assignments(7);
    [
        format!(
            "UPDATE heartbeat_state SET last_seq = ?3, last_lease_hash = ?4,
                 last_seen_at = ?5, last_heartbeat_id = ?6, {assessed}
             WHERE license_no = (SELECT no FROM licenses WHERE id = ?1) AND activation_id = ?2"
        ),
        format!(
            "UPDATE heartbeat_state SET activation_id = ?2, last_seq = ?3, last_lease_hash = ?4,
                 credential_digest = NULL, last_seen_at = ?5, last_heartbeat_id = ?6, {assessed}
             WHERE license_no = (SELECT no FROM licenses WHERE id = ?1)"
        ),
    ]
});

/// Records the lease just issued to an activation of license `license_id`, and with it
/// the heartbeat it answers, if any.
pub fn record(
    tx: &WriteTx<'_>,
    license_id: &str,
    activation_id: i64,
    seq: i64,
    lease_hash: &str,
    heard: Option<Heard>,
) -> Result<()> {
    let (same, taken_over) = match heard {
        None => (
            "UPDATE heartbeat_state SET last_seq = ?3, last_lease_hash = ?4
             WHERE license_no = (SELECT no FROM licenses WHERE id = ?1) AND activation_id = ?2",
            "UPDATE heartbeat_state SET activation_id = ?2, last_seq = ?3, last_lease_hash = ?4,
                 credential_digest = NULL
             WHERE license_no = (SELECT no FROM licenses WHERE id = ?1)",
        ),
        Some(_) => (HEARD[0].as_str(), HEARD[1].as_str()),
    };
    let execute = |sql: &str| -> Result<usize> {
        let mut st = tx.prepare(sql)?;
        Ok(match heard {
            None => st.execute(params![license_id, activation_id, seq, lease_hash])?,
            Some(h) => {
                let (at, until, stage, internal, external) = held_assessments::columns(&h.assessed);
                st.execute(params![
                    license_id,
                    activation_id,
                    seq,
                    lease_hash,
                    micros(h.at),
                    h.heartbeat_id,
                    at,
                    until,
                    stage,
                    internal,
                    external
                ])?
            }
        })
    };
    if execute(same)? == 1 {
        return Ok(());
    }
    // The state row (every license has one) holds another activation's chain, or none:
    // that chain goes back to its activation's row before this one takes its place, and
    // the digest of that activation's credential goes (`held_credentials`).
    let mut st = tx.prepare(
        "UPDATE activations SET last_seq = h.last_seq, last_lease_hash = h.last_lease_hash
         FROM heartbeat_state h
         WHERE h.license_no = (SELECT no FROM licenses WHERE id = ?1) AND activations.id = h.activation_id",
    )?;
    st.execute([license_id])?;
    execute(taken_over)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::db::{Db, DbOptions};
    use super::super::migrate::TENANT;
    use super::super::{StoreError, activations};
    use super::*;

    /// Two activations of one license given leases in turn (a box the license moved
    /// away from keeps heartbeating until it locks): each keeps its own chain, whichever
    /// holds the license's state row.
    #[test]
    fn two_activations_of_a_license_keep_their_own_chains() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db"), &TENANT, DbOptions::default()).unwrap();
        db.write(|tx| {
            tx.execute(
                "INSERT INTO signing_keys (kid, status, public_jwk, sealed_private, created_at, no)
                 VALUES ('k1', 'active', '{}', x'00', '2026-01-01T00:00:00.000000Z', 1)",
                [],
            )?;
            tx.execute(
                "INSERT INTO licenses (id, name, install_id, internal_users, external_users, not_before,
                     expires_at, issued_at, signed_by, state)
                 VALUES ('L', 'n', 'I', 1, 0, unixepoch('2026-01-01') * 1000000,
                     unixepoch('2027-01-01') * 1000000, unixepoch('2026-01-01') * 1000000, 1,
                     'active')",
                [],
            )?;
            tx.execute(
                "INSERT INTO activations (id, license_no, fingerprint, secret_hash, created_at, last_seq, last_lease_hash)
                 SELECT 1, no, 'old-box', x'01', unixepoch('2026-01-01') * 1000000, 7, 'a7'
                 FROM licenses WHERE id = 'L'
                 UNION ALL SELECT 2, no, 'new-box', x'02', unixepoch('2026-01-02') * 1000000, 0, ''
                 FROM licenses WHERE id = 'L'",
                [],
            )?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
        let chain = |id: i64| {
            db.read(|tx| activations::find(tx, id))
                .unwrap()
                .map(|a| (a.last_seq, a.last_lease_hash))
                .unwrap()
        };
        let record = |id: i64, seq: i64, hash: &str| {
            db.write(|tx| record(tx, "L", id, seq, hash, None)).unwrap();
        };
        record(2, 1, "b1");
        assert_eq!(chain(1), (7, "a7".into()), "a chain never in the state row");
        assert_eq!(chain(2), (1, "b1".into()));
        record(1, 8, "a8");
        record(2, 2, "b2");
        record(2, 3, "b3");
        record(1, 9, "a9");
        assert_eq!(chain(1), (9, "a9".into()), "read from the state row");
        assert_eq!(chain(2), (3, "b3".into()), "read from its own row");
        // A license's activations read together agree.
        let listed: Vec<(i64, i64)> = db
            .read(|tx| activations::for_license(tx, "L"))
            .unwrap()
            .iter()
            .map(|a| (a.id, a.last_seq))
            .collect();
        assert_eq!(listed, [(2, 3), (1, 9)]);
    }
}
