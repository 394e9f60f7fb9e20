//! The appliance side of a license: activations (secret, lease chain), heartbeat
//! history, and directives waiting for delivery.

use super::licenses::{self, COLUMNS as LICENSE_COLUMNS, LicenseRow, WIDTH};
use super::{Result, StoreError, WriteTx, parse_opt_ts, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationRow {
    pub id: i64,
    pub license_id: String,
    pub fingerprint: String,
    pub hostname: Option<String>,
    pub created_at: DateTime<Utc>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub superseded_reason: Option<String>,
    pub last_seq: i64,
    pub last_lease_hash: String,
}

const COLUMNS: &str = "a.id, a.license_id, a.fingerprint, a.hostname, a.created_at, a.superseded_at, \
     a.superseded_reason, a.last_seq, a.last_lease_hash";

fn read(r: &rusqlite::Row<'_>, at: usize) -> Result<ActivationRow> {
    Ok(ActivationRow {
        id: r.get(at)?,
        license_id: r.get(at + 1)?,
        fingerprint: r.get(at + 2)?,
        hostname: r.get(at + 3)?,
        created_at: parse_ts("activations.created_at", &r.get::<_, String>(at + 4)?)?,
        superseded_at: parse_opt_ts("activations.superseded_at", r.get(at + 5)?)?,
        superseded_reason: r.get(at + 6)?,
        last_seq: r.get(at + 7)?,
        last_lease_hash: r.get(at + 8)?,
    })
}

pub fn insert(
    tx: &WriteTx<'_>,
    license_id: &str,
    fingerprint: &str,
    hostname: Option<&str>,
    secret_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO activations (license_id, fingerprint, hostname, secret_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![license_id, fingerprint, hostname, secret_hash, ts(now)],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Marks every current activation of a license as superseded.
pub fn supersede_all(
    tx: &WriteTx<'_>,
    license_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE activations SET superseded_at = ?2, superseded_reason = ?3 WHERE license_id = ?1 AND superseded_at IS NULL",
        params![license_id, ts(now), reason],
    )?)
}

/// The activation whose secret hashes to `secret_hash`, with its license.
pub fn find_by_secret(
    conn: &Connection,
    secret_hash: &[u8],
) -> Result<Option<(ActivationRow, LicenseRow)>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {LICENSE_COLUMNS}, {COLUMNS} FROM activations a JOIN licenses l ON l.id = a.license_id
         WHERE a.secret_hash = ?1"
    ))?;
    let mut rows = st.query([secret_hash])?;
    match rows.next()? {
        Some(r) => Ok(Some((read(r, WIDTH)?, licenses::read_row(r, 0)?))),
        None => Ok(None),
    }
}

pub fn current_for_license(conn: &Connection, license_id: &str) -> Result<Vec<ActivationRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM activations a WHERE a.license_id = ?1 ORDER BY a.id DESC LIMIT 20"
    ))?;
    let mut rows = st.query([license_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read(r, 0)?);
    }
    Ok(out)
}

pub fn record_lease(
    tx: &WriteTx<'_>,
    activation_id: i64,
    seq: i64,
    lease_hash: &str,
) -> Result<()> {
    let mut st = tx.prepare_cached(
        "UPDATE activations SET last_seq = ?2, last_lease_hash = ?3 WHERE id = ?1",
    )?;
    st.execute(params![activation_id, seq, lease_hash])?;
    Ok(())
}

/// Records the client certificate issued to an activation (found again by its SHA-256).
pub fn insert_client_cert(
    tx: &WriteTx<'_>,
    sha256: &str,
    activation_id: i64,
    license_id: &str,
    now: DateTime<Utc>,
    not_after: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO client_certs (sha256, activation_id, license_id, issued_at, not_after) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![sha256, activation_id, license_id, ts(now), ts(not_after)],
    )?;
    Ok(())
}

/// The activation a client certificate was issued to, with its license.
pub fn find_by_client_cert(
    conn: &Connection,
    sha256: &str,
) -> Result<Option<(ActivationRow, LicenseRow)>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {LICENSE_COLUMNS}, {COLUMNS} FROM client_certs c
         JOIN activations a ON a.id = c.activation_id JOIN licenses l ON l.id = a.license_id
         WHERE c.sha256 = ?1"
    ))?;
    let mut rows = st.query([sha256])?;
    match rows.next()? {
        Some(r) => Ok(Some((read(r, WIDTH)?, licenses::read_row(r, 0)?))),
        None => Ok(None),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Heartbeat)]
pub struct HeartbeatRow {
    pub license_id: String,
    pub at: DateTime<Utc>,
    pub fingerprint: String,
    pub seq: i64,
    pub internal_users: Option<u32>,
    pub external_users: Option<u32>,
    pub state: String,
}

pub fn insert_heartbeat(tx: &WriteTx<'_>, h: &HeartbeatRow) -> Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO heartbeats (license_id, at, fingerprint, seq, internal_users, external_users, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    st.execute(params![
        h.license_id,
        ts(h.at),
        h.fingerprint,
        h.seq,
        h.internal_users,
        h.external_users,
        h.state
    ])?;
    Ok(())
}

fn read_heartbeats(
    st: &mut rusqlite::CachedStatement<'_>,
    p: impl rusqlite::Params,
) -> Result<Vec<HeartbeatRow>> {
    let rows = st.query_map(p, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, Option<u32>>(4)?,
            r.get::<_, Option<u32>>(5)?,
            r.get::<_, String>(6)?,
        ))
    })?;
    rows.map(|r| {
        let (license_id, at, fingerprint, seq, internal_users, external_users, state) = r?;
        Ok(HeartbeatRow {
            license_id,
            at: parse_ts("heartbeats.at", &at)?,
            fingerprint,
            seq,
            internal_users,
            external_users,
            state,
        })
    })
    .collect()
}

pub fn heartbeats_for(
    conn: &Connection,
    license_id: &str,
    limit: usize,
) -> Result<Vec<HeartbeatRow>> {
    let mut st = conn.prepare_cached(
        "SELECT license_id, at, fingerprint, seq, internal_users, external_users, state FROM heartbeats
         WHERE license_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    read_heartbeats(&mut st, params![license_id, limit as i64])
}

pub fn recent_heartbeats(conn: &Connection, limit: usize) -> Result<Vec<HeartbeatRow>> {
    let mut st = conn.prepare_cached(
        "SELECT license_id, at, fingerprint, seq, internal_users, external_users, state FROM heartbeats
         ORDER BY id DESC LIMIT ?1",
    )?;
    read_heartbeats(&mut st, params![limit as i64])
}

/// Deletes heartbeats older than `before`; returns how many.
pub fn prune_heartbeats(tx: &WriteTx<'_>, before: DateTime<Utc>) -> Result<usize> {
    // Ids grow with time: delete below the first id that is recent enough (no index on
    // `at` to maintain on every heartbeat).
    Ok(tx.execute(
        "DELETE FROM heartbeats WHERE id < coalesce(
            (SELECT id FROM heartbeats WHERE at >= ?1 ORDER BY id LIMIT 1),
            (SELECT max(id) + 1 FROM heartbeats))",
        [ts(before)],
    )?)
}

/// Where a directive is in its life: waiting for a lease, sent (carried by a lease
/// its activation has not confirmed yet), acknowledged, or superseded (its activation
/// was replaced before confirming it; it is not delivered any more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirectiveStatus {
    Waiting,
    Sent,
    Acknowledged,
    Superseded,
}

impl DirectiveStatus {
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "waiting" => DirectiveStatus::Waiting,
            "sent" => DirectiveStatus::Sent,
            "acknowledged" => DirectiveStatus::Acknowledged,
            "superseded" => DirectiveStatus::Superseded,
            other => {
                return Err(StoreError::Corrupt {
                    column: "directives.status",
                    value: other.to_owned(),
                });
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Directive)]
pub struct DirectiveRow {
    pub id: i64,
    pub license_id: String,
    /// The activation it belongs to: the one current when it was queued, or, when none
    /// was, the one current when a lease first carried it. Only that activation's leases
    /// carry it and only that activation's `seq` acknowledges it.
    pub activation_id: Option<i64>,
    pub kind: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// The seq (in its activation's lease chain) of the first lease that carried it.
    pub first_seq: Option<i64>,
    pub acked_at: Option<DateTime<Utc>>,
    pub status: DirectiveStatus,
}

/// The license's current (not superseded) activation, if any.
pub fn current_activation(conn: &Connection, license_id: &str) -> Result<Option<i64>> {
    let mut st = conn.prepare_cached(
        "SELECT max(id) FROM activations WHERE license_id = ?1 AND superseded_at IS NULL",
    )?;
    Ok(st.query_row([license_id], |r| r.get(0))?)
}

/// Queues a directive for `activation_id` (the license's current activation), or, with
/// none, for whichever activation is current when a lease first carries it.
pub fn insert_directive(
    tx: &WriteTx<'_>,
    license_id: &str,
    activation_id: Option<i64>,
    kind: &str,
    message: &str,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO directives (license_id, activation_id, kind, message, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![license_id, activation_id, kind, message, ts(now), created_by],
    )?;
    Ok(tx.last_insert_rowid())
}

fn read_directives(
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
            kind: r.get(3)?,
            message: r.get(4)?,
            created_at: parse_ts("directives.created_at", &r.get::<_, String>(5)?)?,
            created_by: r.get(6)?,
            first_seq: r.get(7)?,
            acked_at: parse_opt_ts("directives.acked_at", r.get(8)?)?,
            status: DirectiveStatus::parse(&r.get::<_, String>(9)?)?,
        });
    }
    Ok(out)
}

/// Directive columns with the status, over `directives d LEFT JOIN activations a`.
const DIRECTIVE_SELECT: &str = "SELECT d.id, d.license_id, d.activation_id, d.kind, d.message, \
     d.created_at, d.created_by, d.first_seq, d.acked_at, \
     CASE WHEN d.acked_at IS NOT NULL THEN 'acknowledged' \
          WHEN a.superseded_at IS NOT NULL THEN 'superseded' \
          WHEN d.first_seq IS NOT NULL THEN 'sent' ELSE 'waiting' END \
     FROM directives d LEFT JOIN activations a ON a.id = d.activation_id";

/// Directives a lease of `activation_id` carries: not yet acknowledged, and its own or
/// not yet tied to any activation; oldest first.
pub fn deliverable_directives(
    conn: &Connection,
    license_id: &str,
    activation_id: i64,
) -> Result<Vec<DirectiveRow>> {
    let mut st = conn.prepare_cached(&format!(
        "{DIRECTIVE_SELECT} WHERE d.license_id = ?1 AND d.acked_at IS NULL \
         AND (d.activation_id IS NULL OR d.activation_id = ?2) ORDER BY d.id"
    ))?;
    read_directives(&mut st, params![license_id, activation_id])
}

pub fn directives_for(conn: &Connection, license_id: &str) -> Result<Vec<DirectiveRow>> {
    let mut st = conn.prepare_cached(&format!(
        "{DIRECTIVE_SELECT} WHERE d.license_id = ?1 ORDER BY d.id DESC LIMIT 100"
    ))?;
    read_directives(&mut st, [license_id])
}

/// Directives still to be delivered or confirmed (not those whose activation was
/// superseded), newest first.
pub fn all_pending_directives(conn: &Connection, limit: usize) -> Result<Vec<DirectiveRow>> {
    let mut st = conn.prepare_cached(&format!(
        "{DIRECTIVE_SELECT} WHERE d.acked_at IS NULL AND a.superseded_at IS NULL \
         ORDER BY d.id DESC LIMIT ?1"
    ))?;
    read_directives(&mut st, [limit as i64])
}

/// Acknowledges the directives of `activation_id` first carried by a lease the
/// appliance confirms holding (its own seq, `<= seq`).
pub fn ack_directives(
    tx: &WriteTx<'_>,
    activation_id: i64,
    seq: i64,
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut st = tx.prepare_cached(
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
    let mut st = tx.prepare_cached(
        "UPDATE directives SET activation_id = ?2, first_seq = ?3 WHERE license_id = ?1 \
         AND acked_at IS NULL AND first_seq IS NULL \
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
         (SELECT id FROM activations WHERE license_id = ?1 AND superseded_at IS NULL)",
        [license_id],
    )?)
}
