//! Staff user accounts.

use super::{ReadTx, Result, StoreError, WriteTx, parse_opt_ts, parse_ts, ts};
use crate::domain::permissions::Role;
use crate::domain::staff::StaffKind;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub must_change_password: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the pending one-time password was issued (`None`: the user chose theirs).
    pub one_time_password_issued_at: Option<DateTime<Utc>>,
    /// A person, or a service account (API tokens only, no password).
    pub kind: StaffKind,
}

pub(crate) const COLUMNS: &str = "u.id, u.email, u.display_name, u.role, u.password_hash, \
     u.must_change_password, u.disabled_at, u.created_at, u.updated_at, \
     (SELECT o.issued_at FROM one_time_passwords o WHERE o.user_id = u.id), u.kind";

/// Reads a `StaffRow` from the columns of `COLUMNS`, starting at `at`.
pub(crate) fn read_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<RawStaff> {
    Ok(RawStaff {
        id: r.get(at)?,
        email: r.get(at + 1)?,
        display_name: r.get(at + 2)?,
        role: r.get(at + 3)?,
        password_hash: r.get(at + 4)?,
        must_change_password: r.get(at + 5)?,
        disabled_at: r.get(at + 6)?,
        created_at: r.get(at + 7)?,
        updated_at: r.get(at + 8)?,
        one_time_password_issued_at: r.get(at + 9)?,
        kind: r.get(at + 10)?,
    })
}

/// A row as SQLite hands it over, before its text columns are parsed.
pub(crate) struct RawStaff {
    id: i64,
    email: String,
    display_name: String,
    role: String,
    password_hash: String,
    must_change_password: bool,
    disabled_at: Option<String>,
    created_at: String,
    updated_at: String,
    one_time_password_issued_at: Option<String>,
    kind: String,
}

impl RawStaff {
    pub(crate) fn parse(self) -> Result<StaffRow> {
        Ok(StaffRow {
            id: self.id,
            role: self.role.parse().map_err(|_| StoreError::Corrupt {
                column: "staff_users.role",
                value: self.role.clone(),
            })?,
            email: self.email,
            display_name: self.display_name,
            password_hash: self.password_hash,
            must_change_password: self.must_change_password,
            disabled_at: parse_opt_ts("staff_users.disabled_at", self.disabled_at)?,
            created_at: parse_ts("staff_users.created_at", &self.created_at)?,
            updated_at: parse_ts("staff_users.updated_at", &self.updated_at)?,
            one_time_password_issued_at: parse_opt_ts(
                "one_time_passwords.issued_at",
                self.one_time_password_issued_at,
            )?,
            kind: self.kind.parse().map_err(|_| StoreError::Corrupt {
                column: "staff_users.kind",
                value: self.kind.clone(),
            })?,
        })
    }
}

fn one(tx: &ReadTx<'_>, filter: &str, param: &dyn rusqlite::ToSql) -> Result<Option<StaffRow>> {
    let sql = format!("SELECT {COLUMNS} FROM staff_users u WHERE {filter}");
    tx.query_row(&sql, [param], |r| read_row(r, 0))
        .optional()?
        .map(RawStaff::parse)
        .transpose()
}

pub fn find_by_email(tx: &ReadTx<'_>, email: &str) -> Result<Option<StaffRow>> {
    one(tx, "u.email = ?1", &email)
}

pub fn find_by_id(tx: &ReadTx<'_>, id: i64) -> Result<Option<StaffRow>> {
    one(tx, "u.id = ?1", &id)
}

pub fn list(tx: &ReadTx<'_>) -> Result<Vec<StaffRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM staff_users u ORDER BY u.email"
    ))?;
    let rows = st.query_map([], |r| read_row(r, 0))?;
    rows.map(|r| r?.parse()).collect()
}

pub fn count(tx: &ReadTx<'_>) -> Result<i64> {
    Ok(tx.query_row("SELECT count(*) FROM staff_users", [], |r| r.get(0))?)
}

/// Enabled people with the super_admin role (a service account cannot sign in to
/// administer anything, so it does not count).
pub fn count_enabled_super_admins(tx: &ReadTx<'_>) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT count(*) FROM staff_users WHERE role = 'super_admin' AND disabled_at IS NULL AND kind = 'person'",
        [],
        |r| r.get(0),
    )?)
}

pub struct NewStaff<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
    pub must_change_password: bool,
    pub kind: StaffKind,
}

pub fn insert(tx: &WriteTx<'_>, u: &NewStaff<'_>, now: DateTime<Utc>) -> Result<i64> {
    tx.execute(
        "INSERT INTO staff_users (email, display_name, role, password_hash, must_change_password, created_at, updated_at, kind)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
        params![u.email, u.display_name, u.role.as_str(), u.password_hash, u.must_change_password, ts(now), u.kind.as_str()],
    )?;
    let id = tx.last_insert_rowid();
    set_one_time_password(tx, id, u.must_change_password, now)?;
    Ok(id)
}

/// Records (or clears) when the account's one-time password was issued.
fn set_one_time_password(
    tx: &WriteTx<'_>,
    id: i64,
    pending: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    if pending {
        tx.execute(
            "INSERT INTO one_time_passwords (user_id, issued_at) VALUES (?1, ?2)
             ON CONFLICT (user_id) DO UPDATE SET issued_at = excluded.issued_at",
            params![id, ts(now)],
        )?;
    } else {
        tx.execute("DELETE FROM one_time_passwords WHERE user_id = ?1", [id])?;
    }
    Ok(())
}

pub fn set_role(tx: &WriteTx<'_>, id: i64, role: Role, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE staff_users SET role = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, role.as_str(), ts(now)],
    )?;
    Ok(())
}

pub fn set_display_name(tx: &WriteTx<'_>, id: i64, name: &str, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE staff_users SET display_name = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, name, ts(now)],
    )?;
    Ok(())
}

pub fn set_disabled(tx: &WriteTx<'_>, id: i64, disabled: bool, now: DateTime<Utc>) -> Result<()> {
    let at = disabled.then(|| ts(now));
    tx.execute(
        "UPDATE staff_users SET disabled_at = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, at, ts(now)],
    )?;
    Ok(())
}

pub fn set_password(
    tx: &WriteTx<'_>,
    id: i64,
    hash: &str,
    must_change: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.execute(
        "UPDATE staff_users SET password_hash = ?2, must_change_password = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, hash, must_change, ts(now)],
    )?;
    set_one_time_password(tx, id, must_change, now)
}

/// The email addresses of enabled people (not service accounts) with one of `roles`.
pub fn enabled_with_roles(tx: &ReadTx<'_>, roles: &[Role]) -> Result<Vec<String>> {
    let mut stmt = tx.prepare(
        "SELECT email FROM staff_users WHERE disabled_at IS NULL AND kind = 'person' AND role = ?1
         ORDER BY email",
    )?;
    let mut out = Vec::new();
    for role in roles {
        let rows = stmt.query_map([role.as_str()], |r| r.get::<_, String>(0))?;
        for email in rows {
            out.push(email?);
        }
    }
    Ok(out)
}
