//! The lease chain of an activation: the seq and chain hash of the last lease issued
//! (kept on the activation's row). The next lease's seq is `last_seq + 1`, decided
//! inside the heartbeat's write transaction (see "single writer" in `mod.rs`).

use super::{Result, WriteTx};
use rusqlite::params;

/// Records the lease just issued to an activation.
pub fn record(tx: &WriteTx<'_>, activation_id: i64, seq: i64, lease_hash: &str) -> Result<()> {
    let mut st =
        tx.prepare("UPDATE activations SET last_seq = ?2, last_lease_hash = ?3 WHERE id = ?1")?;
    st.execute(params![activation_id, seq, lease_hash])?;
    Ok(())
}
