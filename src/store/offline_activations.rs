//! Offline activations: an activation made from an appliance's request file (air-gapped:
//! it never reaches licd). The activation itself is an ordinary `activations` row; this
//! table keeps what only such a box has: its own public key, the request nonce (answered
//! once), the response's deadline and lease, and its release (offline deactivation).

use super::{ReadTx, Result, WriteTx, parse_opt_ts, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineActivationRow {
    pub activation_id: i64,
    pub license_id: String,
    pub fingerprint: String,
    /// The appliance's public key, a JWK as JSON text.
    pub appliance_key: String,
    pub appliance_kid: String,
    pub request_nonce: String,
    pub created_at: DateTime<Utc>,
    pub response_deadline: DateTime<Utc>,
    pub lease_expires_at: DateTime<Utc>,
    /// The license key the box was last given.
    pub license_key: String,
    pub released_at: Option<DateTime<Utc>>,
    pub release_nonce: Option<String>,
    /// `(internal, external)` users when the box stopped.
    pub final_usage: Option<(u32, u32)>,
    /// Whether its activation is still the license's current one.
    pub current: bool,
}

const COLUMNS: &str = "o.activation_id, o.license_id, o.fingerprint, o.appliance_key, o.appliance_kid, \
     o.request_nonce, o.created_at, o.response_deadline, o.lease_expires_at, o.license_key, \
     o.released_at, o.release_nonce, o.final_internal_users, o.final_external_users, \
     a.superseded_at IS NULL";

fn read(r: &rusqlite::Row<'_>) -> Result<OfflineActivationRow> {
    let internal: Option<u32> = r.get(12)?;
    let external: Option<u32> = r.get(13)?;
    Ok(OfflineActivationRow {
        activation_id: r.get(0)?,
        license_id: r.get(1)?,
        fingerprint: r.get(2)?,
        appliance_key: r.get(3)?,
        appliance_kid: r.get(4)?,
        request_nonce: r.get(5)?,
        created_at: parse_ts("offline_activations.created_at", &r.get::<_, String>(6)?)?,
        response_deadline: parse_ts(
            "offline_activations.response_deadline",
            &r.get::<_, String>(7)?,
        )?,
        lease_expires_at: parse_ts(
            "offline_activations.lease_expires_at",
            &r.get::<_, String>(8)?,
        )?,
        license_key: r.get(9)?,
        released_at: parse_opt_ts("offline_activations.released_at", r.get(10)?)?,
        release_nonce: r.get(11)?,
        final_usage: internal.zip(external),
        current: r.get(14)?,
    })
}

/// What an offline activation records beside its activation.
#[derive(Debug, Clone)]
pub struct NewOfflineActivation<'a> {
    pub activation_id: i64,
    pub license_id: &'a str,
    pub fingerprint: &'a str,
    pub appliance_key: &'a str,
    pub appliance_kid: &'a str,
    pub request_nonce: &'a str,
    pub response_deadline: DateTime<Utc>,
    pub lease_expires_at: DateTime<Utc>,
    pub license_key: &'a str,
}

pub fn insert(tx: &WriteTx<'_>, o: &NewOfflineActivation<'_>, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "INSERT INTO offline_activations (activation_id, license_id, fingerprint, appliance_key, appliance_kid,
            request_nonce, created_at, response_deadline, lease_expires_at, license_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            o.activation_id,
            o.license_id,
            o.fingerprint,
            o.appliance_key,
            o.appliance_kid,
            o.request_nonce,
            ts(now),
            ts(o.response_deadline),
            ts(o.lease_expires_at),
            o.license_key,
        ],
    )?;
    Ok(())
}

/// Whether a request with this nonce was answered already (by any license).
pub fn request_nonce_used(tx: &ReadTx<'_>, nonce: &str) -> Result<bool> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM offline_activations WHERE request_nonce = ?1)",
        [nonce],
        |r| r.get(0),
    )?)
}

/// Whether a release proof with this nonce was recorded already.
pub fn release_nonce_used(tx: &ReadTx<'_>, nonce: &str) -> Result<bool> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM offline_activations WHERE release_nonce = ?1)",
        [nonce],
        |r| r.get(0),
    )?)
}

/// The latest offline activation of `license_id` from the box `fingerprint`.
pub fn latest_for_box(
    tx: &ReadTx<'_>,
    license_id: &str,
    fingerprint: &str,
) -> Result<Option<OfflineActivationRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM offline_activations o JOIN activations a ON a.id = o.activation_id
         WHERE o.license_id = ?1 AND o.fingerprint = ?2 ORDER BY o.activation_id DESC LIMIT 1"
    ))?;
    let mut rows = st.query(params![license_id, fingerprint])?;
    rows.next()?.map(read).transpose()
}

/// The license's offline activation that is its current activation, if it has one.
pub fn current(tx: &ReadTx<'_>, license_id: &str) -> Result<Option<OfflineActivationRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM offline_activations o JOIN activations a ON a.id = o.activation_id
         WHERE o.license_id = ?1 AND a.superseded_at IS NULL ORDER BY o.activation_id DESC LIMIT 1"
    ))?;
    let mut rows = st.query([license_id])?;
    rows.next()?.map(read).transpose()
}

/// A license's offline activations, newest first (at most 20).
pub fn for_license(tx: &ReadTx<'_>, license_id: &str) -> Result<Vec<OfflineActivationRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM offline_activations o JOIN activations a ON a.id = o.activation_id
         WHERE o.license_id = ?1 ORDER BY o.activation_id DESC LIMIT 20"
    ))?;
    let mut rows = st.query([license_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(read(r)?);
    }
    Ok(out)
}

/// Records what a renewal bundle gave the box: its new lease's end and the key.
pub fn renewed(
    tx: &WriteTx<'_>,
    activation_id: i64,
    lease_expires_at: DateTime<Utc>,
    license_key: &str,
) -> Result<()> {
    tx.execute(
        "UPDATE offline_activations SET lease_expires_at = ?2, license_key = ?3 WHERE activation_id = ?1",
        params![activation_id, ts(lease_expires_at), license_key],
    )?;
    Ok(())
}

/// Records the box's release proof (its nonce and final user counts).
pub fn released(
    tx: &WriteTx<'_>,
    activation_id: i64,
    nonce: &str,
    final_usage: (u32, u32),
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE offline_activations SET released_at = ?2, release_nonce = ?3,
            final_internal_users = ?4, final_external_users = ?5 WHERE activation_id = ?1",
        params![activation_id, ts(now), nonce, final_usage.0, final_usage.1],
    )?;
    Ok(())
}

/// One offline activation by its activation id.
pub fn find(tx: &ReadTx<'_>, activation_id: i64) -> Result<Option<OfflineActivationRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM offline_activations o JOIN activations a ON a.id = o.activation_id
         WHERE o.activation_id = ?1"
    ))?;
    st.query_row([activation_id], |r| Ok(read(r)))
        .optional()?
        .transpose()
}
