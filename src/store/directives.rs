//! Directives queued for an appliance (lock, unlock, message; install_key with a new
//! license key after a renewal, change or reissue): which activation
//! each belongs to, the lease that first carried it, and its acknowledgement.

use super::{ReadTx, Result, StoreError, WriteTx, parse_opt_ts, parse_ts, ts};
use crate::domain::activation::{DirectiveKind, DirectiveStatus};
use chrono::{DateTime, Utc};
use rusqlite::params;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveRow {
    pub id: i64,
    pub license_id: String,
    /// The activation it belongs to: the one current when it was queued, or, when none
    /// was, the one current when a lease first carried it. Only that activation's leases
    /// carry it and only that activation's `seq` acknowledges it.
    pub activation_id: Option<i64>,
    pub kind: DirectiveKind,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// The seq (in its activation's lease chain) of the first lease that carried it.
    pub first_seq: Option<i64>,
    pub acked_at: Option<DateTime<Utc>>,
    pub status: DirectiveStatus,
    /// The key an `install_key` directive carries.
    pub license_key: Option<String>,
}

/// Queues a directive for `activation_id` (the license's current activation), or, with
/// none, for whichever activation is current when a lease first carries it.
pub fn insert(
    tx: &WriteTx<'_>,
    license_id: &str,
    activation_id: Option<i64>,
    kind: DirectiveKind,
    message: &str,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    insert_with_key(
        tx,
        license_id,
        activation_id,
        kind,
        message,
        None,
        created_by,
        now,
    )
}

/// [`insert`], with the license key an `install_key` directive carries.
#[allow(clippy::too_many_arguments)]
pub fn insert_with_key(
    tx: &WriteTx<'_>,
    license_id: &str,
    activation_id: Option<i64>,
    kind: DirectiveKind,
    message: &str,
    license_key: Option<&str>,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO directives (license_id, activation_id, kind, message, created_at, created_by, license_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![license_id, activation_id, kind.as_str(), message, ts(now), created_by, license_key],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Replaces the license's directives of `kind` not yet acknowledged (a newer one makes
/// them pointless): they are no longer delivered and show as superseded.
pub fn replace_pending(
    tx: &WriteTx<'_>,
    license_id: &str,
    kind: DirectiveKind,
    now: DateTime<Utc>,
) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE directives SET replaced_at = ?3 WHERE license_id = ?1 AND kind = ?2 \
         AND acked_at IS NULL AND replaced_at IS NULL",
        params![license_id, kind.as_str(), ts(now)],
    )?)
}

/// Whether the license has a directive of `kind` still to be delivered or confirmed.
pub fn has_pending(tx: &ReadTx<'_>, license_id: &str, kind: DirectiveKind) -> Result<bool> {
    let mut st = tx.prepare(
        "SELECT EXISTS (SELECT 1 FROM directives d LEFT JOIN activations a ON a.id = d.activation_id \
         WHERE d.license_id = ?1 AND d.kind = ?2 AND d.acked_at IS NULL AND d.replaced_at IS NULL \
         AND a.superseded_at IS NULL)",
    )?;
    Ok(st.query_row(params![license_id, kind.as_str()], |r| r.get(0))?)
}

fn read_all(
    st: &mut rusqlite::CachedStatement<'_>,
    p: impl rusqlite::Params,
) -> Result<Vec<DirectiveRow>> {
    let mut rows = st.query(p)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(DirectiveRow {
            id: r.get(0)?,
            license_id: r.get(1)?,
            activation_id: r.get(2)?,
            kind: {
                let s: String = r.get(3)?;
                s.parse().map_err(|_| StoreError::Corrupt {
                    column: "directives.kind",
                    value: s,
                })?
            },
            message: r.get(4)?,
            created_at: parse_ts("directives.created_at", &r.get::<_, String>(5)?)?,
            created_by: r.get(6)?,
            first_seq: r.get(7)?,
            acked_at: parse_opt_ts("directives.acked_at", r.get(8)?)?,
            status: {
                let s: String = r.get(9)?;
                s.parse().map_err(|_| StoreError::Corrupt {
                    column: "directives.status",
                    value: s,
                })?
            },
            license_key: r.get(10)?,
        });
    }
    Ok(out)
}

/// Directive columns with the status, over `directives d LEFT JOIN activations a`.
const DIRECTIVE_SELECT: &str = "SELECT d.id, d.license_id, d.activation_id, d.kind, d.message, \
     d.created_at, d.created_by, d.first_seq, d.acked_at, \
     CASE WHEN d.acked_at IS NOT NULL THEN 'acknowledged' \
          WHEN a.superseded_at IS NOT NULL OR d.replaced_at IS NOT NULL THEN 'superseded' \
          WHEN d.first_seq IS NOT NULL THEN 'sent' ELSE 'waiting' END, \
     d.license_key \
     FROM directives d LEFT JOIN activations a ON a.id = d.activation_id";

/// Directives a lease of `activation_id` carries: not yet acknowledged, and its own or
/// not yet tied to any activation; oldest first.
pub fn deliverable(
    tx: &ReadTx<'_>,
    license_id: &str,
    activation_id: i64,
) -> Result<Vec<DirectiveRow>> {
    let mut st = tx.prepare(&format!(
        "{DIRECTIVE_SELECT} WHERE d.license_id = ?1 AND d.acked_at IS NULL AND d.replaced_at IS NULL \
         AND (d.activation_id IS NULL OR d.activation_id = ?2) ORDER BY d.id"
    ))?;
    read_all(&mut st, params![license_id, activation_id])
}

pub fn for_license(tx: &ReadTx<'_>, license_id: &str) -> Result<Vec<DirectiveRow>> {
    let mut st = tx.prepare(&format!(
        "{DIRECTIVE_SELECT} WHERE d.license_id = ?1 ORDER BY d.id DESC LIMIT 100"
    ))?;
    read_all(&mut st, [license_id])
}

/// Directives still to be delivered or confirmed (not those whose activation was
/// superseded), newest first.
pub fn pending(tx: &ReadTx<'_>, limit: usize) -> Result<Vec<DirectiveRow>> {
    let mut st = tx.prepare(&format!(
        "{DIRECTIVE_SELECT} WHERE d.acked_at IS NULL AND a.superseded_at IS NULL \
         AND d.replaced_at IS NULL ORDER BY d.id DESC LIMIT ?1"
    ))?;
    read_all(&mut st, [limit as i64])
}

/// Acknowledges the directives of `activation_id` first carried by a lease the
/// appliance confirms holding (its own seq, `<= seq`).
pub fn acknowledge(
    tx: &WriteTx<'_>,
    activation_id: i64,
    seq: i64,
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut st = tx.prepare(
        "UPDATE directives SET acked_at = ?3 WHERE activation_id = ?1 AND acked_at IS NULL \
         AND first_seq IS NOT NULL AND first_seq <= ?2",
    )?;
    Ok(st.execute(params![activation_id, seq, ts(now)])?)
}

/// Notes the lease (`seq` of `activation_id`) that first carries each deliverable
/// directive, tying those queued for no activation in particular to this one.
pub fn mark_carried(
    tx: &WriteTx<'_>,
    license_id: &str,
    activation_id: i64,
    seq: i64,
) -> Result<()> {
    let mut st = tx.prepare(
        "UPDATE directives SET activation_id = ?2, first_seq = ?3 WHERE license_id = ?1 \
         AND acked_at IS NULL AND first_seq IS NULL AND replaced_at IS NULL \
         AND (activation_id IS NULL OR activation_id = ?2)",
    )?;
    st.execute(params![license_id, activation_id, seq])?;
    Ok(())
}

/// The same box activates again: what its current activations were sent but never
/// confirmed goes back to the queue, for the new activation.
pub fn requeue_unconfirmed(tx: &WriteTx<'_>, license_id: &str) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE directives SET activation_id = NULL, first_seq = NULL \
         WHERE license_id = ?1 AND acked_at IS NULL AND activation_id IN \
         (SELECT id FROM activations \
          WHERE license_no = (SELECT no FROM licenses WHERE id = ?1) AND superseded_at IS NULL)",
        [license_id],
    )?)
}
