//! Customer organizations and who belongs to them (memberships). Invitations are in
//! `store::invitations`.

use super::{ReadTx, Result, StoreError, WriteTx, parse_opt_ts, parse_ts, ts};
use crate::domain::organization::OrgRole;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationRow {
    pub id: i64,
    pub name: String,
    pub notification_email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deletion_requested_at: Option<DateTime<Utc>>,
    pub deletion_requested_by: Option<String>,
}

const COLUMNS: &str = "o.id, o.name, o.notification_email, o.created_at, o.updated_at, \
     o.deletion_requested_at, o.deletion_requested_by";

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawOrg> {
    Ok(RawOrg {
        id: r.get(0)?,
        name: r.get(1)?,
        notification_email: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
        deletion_requested_at: r.get(5)?,
        deletion_requested_by: r.get(6)?,
    })
}

struct RawOrg {
    id: i64,
    name: String,
    notification_email: String,
    created_at: String,
    updated_at: String,
    deletion_requested_at: Option<String>,
    deletion_requested_by: Option<String>,
}

impl RawOrg {
    fn parse(self) -> Result<OrganizationRow> {
        Ok(OrganizationRow {
            id: self.id,
            name: self.name,
            notification_email: self.notification_email,
            created_at: parse_ts("organizations.created_at", &self.created_at)?,
            updated_at: parse_ts("organizations.updated_at", &self.updated_at)?,
            deletion_requested_at: parse_opt_ts(
                "organizations.deletion_requested_at",
                self.deletion_requested_at,
            )?,
            deletion_requested_by: self.deletion_requested_by,
        })
    }
}

pub fn insert(
    tx: &WriteTx<'_>,
    name: &str,
    notification_email: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO organizations (name, notification_email, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
        params![name, notification_email, ts(now)],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn find(tx: &ReadTx<'_>, id: i64) -> Result<Option<OrganizationRow>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM organizations o WHERE o.id = ?1"),
        [id],
        read,
    )
    .optional()?
    .map(RawOrg::parse)
    .transpose()
}

pub fn update(
    tx: &WriteTx<'_>,
    id: i64,
    name: &str,
    notification_email: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(tx.execute(
        "UPDATE organizations SET name = ?2, notification_email = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, name, notification_email, ts(now)],
    )? == 1)
}

pub fn request_deletion(tx: &WriteTx<'_>, id: i64, by: &str, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE organizations SET deletion_requested_at = ?2, deletion_requested_by = ?3 WHERE id = ?1",
        params![id, ts(now), by],
    )?;
    Ok(())
}

/// Deletes the organization with its memberships and invitations (cascade). Licenses
/// must have left it first (the foreign key refuses otherwise).
pub fn delete(tx: &WriteTx<'_>, id: i64) -> Result<bool> {
    Ok(tx.execute("DELETE FROM organizations WHERE id = ?1", [id])? == 1)
}

/// An organization in a list, with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationSummary {
    pub org: OrganizationRow,
    pub members: i64,
    pub licenses: i64,
}

/// Organizations whose name or notification email contains `search` (all when empty),
/// by name, at most `limit`.
pub fn search(tx: &ReadTx<'_>, search: &str, limit: i64) -> Result<Vec<OrganizationSummary>> {
    let pattern = format!("%{}%", escape_like(search.trim()));
    let sql = format!(
        "SELECT {COLUMNS},
            (SELECT count(*) FROM memberships m WHERE m.organization_id = o.id),
            (SELECT count(*) FROM licenses l WHERE l.organization_id = o.id)
         FROM organizations o
         WHERE o.name LIKE ?1 ESCAPE '\\' OR o.notification_email LIKE ?1 ESCAPE '\\'
         ORDER BY o.name COLLATE NOCASE, o.id LIMIT ?2"
    );
    let mut stmt = tx.prepare(&sql)?;
    let rows = stmt.query_map(params![pattern, limit], |r| {
        Ok((read(r)?, r.get::<_, i64>(7)?, r.get::<_, i64>(8)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (raw, members, licenses) = row?;
        out.push(OrganizationSummary {
            org: raw.parse()?,
            members,
            licenses,
        });
    }
    Ok(out)
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A customer's organizations with their role there, by name.
pub fn for_customer(tx: &ReadTx<'_>, customer_id: i64) -> Result<Vec<(OrganizationRow, OrgRole)>> {
    let sql = format!(
        "SELECT {COLUMNS}, m.role FROM organizations o
         JOIN memberships m ON m.organization_id = o.id
         WHERE m.customer_id = ?1 ORDER BY o.name COLLATE NOCASE, o.id"
    );
    let mut stmt = tx.prepare(&sql)?;
    let rows = stmt.query_map([customer_id], |r| Ok((read(r)?, r.get::<_, String>(7)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (raw, role) = row?;
        out.push((raw.parse()?, parse_role(role)?));
    }
    Ok(out)
}

fn parse_role(role: String) -> Result<OrgRole> {
    role.parse().map_err(|_| StoreError::Corrupt {
        column: "role",
        value: role,
    })
}

/// A member of an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub customer_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: OrgRole,
    pub since: DateTime<Utc>,
    pub disabled: bool,
}

/// The customer's role in the organization, if they belong to it.
pub fn role_of(tx: &ReadTx<'_>, org_id: i64, customer_id: i64) -> Result<Option<OrgRole>> {
    tx.query_row(
        "SELECT role FROM memberships WHERE organization_id = ?1 AND customer_id = ?2",
        [org_id, customer_id],
        |r| r.get::<_, String>(0),
    )
    .optional()?
    .map(parse_role)
    .transpose()
}

/// The organization's members, owners first, then by email.
pub fn members(tx: &ReadTx<'_>, org_id: i64) -> Result<Vec<Member>> {
    let mut stmt = tx.prepare(
        "SELECT c.id, c.email, c.display_name, m.role, m.created_at, c.disabled_at IS NOT NULL
         FROM memberships m JOIN customers c ON c.id = m.customer_id
         WHERE m.organization_id = ?1
         ORDER BY m.role = 'member', c.email COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([org_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, bool>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (customer_id, email, display_name, role, since, disabled) = row?;
        out.push(Member {
            customer_id,
            email,
            display_name,
            role: parse_role(role)?,
            since: parse_ts("memberships.created_at", &since)?,
            disabled,
        });
    }
    Ok(out)
}

/// How many owners the organization has.
pub fn owners(tx: &ReadTx<'_>, org_id: i64) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT count(*) FROM memberships WHERE organization_id = ?1 AND role = 'owner'",
        [org_id],
        |r| r.get(0),
    )?)
}

/// Adds a member, or leaves an existing membership as it is. Returns whether it was new.
pub fn add_member(
    tx: &WriteTx<'_>,
    org_id: i64,
    customer_id: i64,
    role: OrgRole,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(tx.execute(
        "INSERT INTO memberships (organization_id, customer_id, role, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT DO NOTHING",
        params![org_id, customer_id, role.as_str(), ts(now)],
    )? == 1)
}

pub fn set_role(tx: &WriteTx<'_>, org_id: i64, customer_id: i64, role: OrgRole) -> Result<bool> {
    Ok(tx.execute(
        "UPDATE memberships SET role = ?3 WHERE organization_id = ?1 AND customer_id = ?2",
        params![org_id, customer_id, role.as_str()],
    )? == 1)
}

pub fn remove_member(tx: &WriteTx<'_>, org_id: i64, customer_id: i64) -> Result<bool> {
    Ok(tx.execute(
        "DELETE FROM memberships WHERE organization_id = ?1 AND customer_id = ?2",
        [org_id, customer_id],
    )? == 1)
}

/// Licenses of the organization that are still valid (not revoked, not expired).
pub fn valid_licenses(tx: &ReadTx<'_>, org_id: i64) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT count(*) FROM licenses WHERE organization_id = ?1 AND state NOT IN ('revoked', 'expired')",
        [org_id],
        |r| r.get(0),
    )?)
}

/// Detaches every (revoked or expired) license from the organization, so it can go.
pub fn release_licenses(tx: &WriteTx<'_>, org_id: i64) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE licenses SET organization_id = NULL WHERE organization_id = ?1",
        [org_id],
    )?)
}
