//! The appliance side of a license: activations (secret, lease chain), heartbeat
//! history, and directives waiting for delivery.

use super::licenses::{self, COLUMNS as LICENSE_COLUMNS, LicenseRow, WIDTH};
use super::{Result, WriteTx, parse_opt_ts, parse_ts, ts};
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Directive)]
pub struct DirectiveRow {
    pub id: i64,
    pub license_id: String,
    pub kind: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// The seq of the first lease that carried it.
    pub first_seq: Option<i64>,
    pub acked_at: Option<DateTime<Utc>>,
}

pub fn insert_directive(
    tx: &WriteTx<'_>,
    license_id: &str,
    kind: &str,
    message: &str,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO directives (license_id, kind, message, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![license_id, kind, message, ts(now), created_by],
    )?;
    Ok(tx.last_insert_rowid())
}

fn read_directives(
    st: &mut rusqlite::CachedStatement<'_>,
    p: impl rusqlite::Params,
) -> Result<Vec<DirectiveRow>> {
    let rows = st.query_map(p, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, Option<i64>>(6)?,
            r.get::<_, Option<String>>(7)?,
        ))
    })?;
    rows.map(|r| {
        let (id, license_id, kind, message, created, created_by, first_seq, acked) = r?;
        Ok(DirectiveRow {
            id,
            license_id,
            kind,
            message,
            created_at: parse_ts("directives.created_at", &created)?,
            created_by,
            first_seq,
            acked_at: parse_opt_ts("directives.acked_at", acked)?,
        })
    })
    .collect()
}

const DIRECTIVE_COLUMNS: &str =
    "id, license_id, kind, message, created_at, created_by, first_seq, acked_at";

/// Directives not yet acknowledged, oldest first.
pub fn pending_directives(conn: &Connection, license_id: &str) -> Result<Vec<DirectiveRow>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {DIRECTIVE_COLUMNS} FROM directives WHERE license_id = ?1 AND acked_at IS NULL ORDER BY id"
    ))?;
    read_directives(&mut st, [license_id])
}

pub fn directives_for(conn: &Connection, license_id: &str) -> Result<Vec<DirectiveRow>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {DIRECTIVE_COLUMNS} FROM directives WHERE license_id = ?1 ORDER BY id DESC LIMIT 100"
    ))?;
    read_directives(&mut st, [license_id])
}

pub fn all_pending_directives(conn: &Connection, limit: usize) -> Result<Vec<DirectiveRow>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {DIRECTIVE_COLUMNS} FROM directives WHERE acked_at IS NULL ORDER BY id DESC LIMIT ?1"
    ))?;
    read_directives(&mut st, [limit as i64])
}

/// Acknowledges directives first carried by a lease the appliance confirms (seq <= `seq`).
pub fn ack_directives(
    tx: &WriteTx<'_>,
    license_id: &str,
    seq: i64,
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut st = tx.prepare_cached(
        "UPDATE directives SET acked_at = ?3 WHERE license_id = ?1 AND acked_at IS NULL AND first_seq IS NOT NULL AND first_seq <= ?2",
    )?;
    Ok(st.execute(params![license_id, seq, ts(now)])?)
}

/// Notes the lease that first carries each pending directive.
pub fn mark_carried(tx: &WriteTx<'_>, license_id: &str, seq: i64) -> Result<()> {
    let mut st = tx.prepare_cached(
        "UPDATE directives SET first_seq = ?2 WHERE license_id = ?1 AND acked_at IS NULL AND first_seq IS NULL",
    )?;
    st.execute(params![license_id, seq])?;
    Ok(())
}
