//! Invitations to join an organization, found by the hash of their token.

use super::{ReadTx, Result, StoreError, WriteTx, parse_opt_ts, parse_ts, ts};
use crate::domain::organization::OrgRole;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
}

impl InvitationState {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationState::Pending => "pending",
            InvitationState::Accepted => "accepted",
            InvitationState::Revoked => "revoked",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRow {
    pub id: i64,
    pub organization_id: i64,
    pub email: String,
    pub role: OrgRole,
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: DateTime<Utc>,
    pub sends: i64,
    pub expires_at: DateTime<Utc>,
    pub state: InvitationState,
    pub accepted_by: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, organization_id, email, role, invited_by, created_at, sent_at, sends, \
     expires_at, state, accepted_by, closed_at";

type Raw = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    Option<i64>,
    Option<String>,
);

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
    ))
}

fn parse(raw: Raw) -> Result<InvitationRow> {
    let (id, org, email, role, by, created, sent, sends, expires, state, accepted_by, closed) = raw;
    let corrupt = |column: &'static str, value: String| StoreError::Corrupt { column, value };
    Ok(InvitationRow {
        id,
        organization_id: org,
        email,
        role: role
            .parse()
            .map_err(|_| corrupt("invitations.role", role.clone()))?,
        invited_by: by,
        created_at: parse_ts("invitations.created_at", &created)?,
        sent_at: parse_ts("invitations.sent_at", &sent)?,
        sends,
        expires_at: parse_ts("invitations.expires_at", &expires)?,
        state: match state.as_str() {
            "pending" => InvitationState::Pending,
            "accepted" => InvitationState::Accepted,
            "revoked" => InvitationState::Revoked,
            _ => return Err(corrupt("invitations.state", state)),
        },
        accepted_by,
        closed_at: parse_opt_ts("invitations.closed_at", closed)?,
    })
}

fn many(tx: &ReadTx<'_>, sql: &str, p: impl rusqlite::Params) -> Result<Vec<InvitationRow>> {
    let mut stmt = tx.prepare(sql)?;
    let rows = stmt.query_map(p, read)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(parse(row?)?);
    }
    Ok(out)
}

/// A new invitation to write.
#[derive(Debug, Clone)]
pub struct NewInvitation<'a> {
    pub organization_id: i64,
    pub email: &'a str,
    pub role: OrgRole,
    pub token_hash: &'a [u8],
    pub invited_by: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// Writes a pending invitation; `None` when one is already pending for that address in
/// that organization.
pub fn insert(tx: &WriteTx<'_>, i: &NewInvitation<'_>, now: DateTime<Utc>) -> Result<Option<i64>> {
    let n = tx.execute(
        "INSERT INTO invitations (organization_id, email, role, token_hash, invited_by, created_at, sent_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)
         ON CONFLICT (organization_id, email) WHERE state = 'pending' DO NOTHING",
        params![
            i.organization_id,
            i.email,
            i.role.as_str(),
            i.token_hash,
            i.invited_by,
            ts(now),
            ts(i.expires_at)
        ],
    )?;
    Ok((n == 1).then(|| tx.last_insert_rowid()))
}

pub fn find(tx: &ReadTx<'_>, id: i64) -> Result<Option<InvitationRow>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM invitations WHERE id = ?1"),
        [id],
        read,
    )
    .optional()?
    .map(parse)
    .transpose()
}

pub fn find_by_token(tx: &ReadTx<'_>, token_hash: &[u8]) -> Result<Option<InvitationRow>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM invitations WHERE token_hash = ?1"),
        [token_hash],
        read,
    )
    .optional()?
    .map(parse)
    .transpose()
}

/// The organization's pending invitations (expired ones included: the page says so),
/// newest first.
pub fn pending(tx: &ReadTx<'_>, org_id: i64) -> Result<Vec<InvitationRow>> {
    many(
        tx,
        &format!(
            "SELECT {COLUMNS} FROM invitations WHERE organization_id = ?1 AND state = 'pending'
             ORDER BY created_at DESC, id DESC"
        ),
        [org_id],
    )
}

/// Rotates a pending invitation's token (a resend): a new hash, a new expiry, one more
/// send. The old link stops working.
pub fn rotate(
    tx: &WriteTx<'_>,
    id: i64,
    token_hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<bool> {
    Ok(tx.execute(
        "UPDATE invitations SET token_hash = ?2, sent_at = ?3, expires_at = ?4, sends = sends + 1
         WHERE id = ?1 AND state = 'pending'",
        params![id, token_hash, ts(now), ts(expires_at)],
    )? == 1)
}

/// Closes a pending invitation (accepted by `accepted_by`, or revoked). Returns false
/// when it was no longer pending (someone else closed it first).
pub fn close(
    tx: &WriteTx<'_>,
    id: i64,
    state: InvitationState,
    accepted_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(tx.execute(
        "UPDATE invitations SET state = ?2, accepted_by = ?3, closed_at = ?4
         WHERE id = ?1 AND state = 'pending'",
        params![id, state.as_str(), accepted_by, ts(now)],
    )? == 1)
}
