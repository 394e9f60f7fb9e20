//! Customer accounts (the portal's principal, beside staff). Their sessions are in
//! `store::customer_sessions`, their emailed links in `store::customer_links`.

use super::{ReadTx, Result, WriteTx, parse_opt_ts, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) const COLUMNS: &str = "c.id, c.email, c.display_name, c.password_hash, \
     c.email_verified_at, c.disabled_at, c.created_at, c.updated_at";

/// A row as SQLite hands it over, before its times are parsed.
pub(crate) struct RawCustomer {
    id: i64,
    email: String,
    display_name: String,
    password_hash: String,
    email_verified_at: Option<String>,
    disabled_at: Option<String>,
    created_at: String,
    updated_at: String,
}

/// Reads the columns of `COLUMNS`, starting at `at`.
pub(crate) fn read_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<RawCustomer> {
    Ok(RawCustomer {
        id: r.get(at)?,
        email: r.get(at + 1)?,
        display_name: r.get(at + 2)?,
        password_hash: r.get(at + 3)?,
        email_verified_at: r.get(at + 4)?,
        disabled_at: r.get(at + 5)?,
        created_at: r.get(at + 6)?,
        updated_at: r.get(at + 7)?,
    })
}

impl RawCustomer {
    pub(crate) fn parse(self) -> Result<CustomerRow> {
        Ok(CustomerRow {
            id: self.id,
            email: self.email,
            display_name: self.display_name,
            password_hash: self.password_hash,
            email_verified_at: parse_opt_ts("customers.email_verified_at", self.email_verified_at)?,
            disabled_at: parse_opt_ts("customers.disabled_at", self.disabled_at)?,
            created_at: parse_ts("customers.created_at", &self.created_at)?,
            updated_at: parse_ts("customers.updated_at", &self.updated_at)?,
        })
    }
}

fn one(tx: &ReadTx<'_>, filter: &str, param: &dyn rusqlite::ToSql) -> Result<Option<CustomerRow>> {
    let sql = format!("SELECT {COLUMNS} FROM customers c WHERE {filter}");
    tx.query_row(&sql, [param], |r| read_row(r, 0))
        .optional()?
        .map(RawCustomer::parse)
        .transpose()
}

pub fn find_by_id(tx: &ReadTx<'_>, id: i64) -> Result<Option<CustomerRow>> {
    one(tx, "c.id = ?1", &id)
}

/// The account with this email (emails compare without regard to case).
pub fn find_by_email(tx: &ReadTx<'_>, email: &str) -> Result<Option<CustomerRow>> {
    one(tx, "c.email = ?1", &email)
}

/// A new account to write.
#[derive(Debug, Clone)]
pub struct NewCustomer<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    /// Set when the address is proven already (an accepted invitation).
    pub email_verified_at: Option<DateTime<Utc>>,
}

/// Writes a new account; `None` when the email is taken (the unique index decides).
pub fn insert(tx: &WriteTx<'_>, c: &NewCustomer<'_>, now: DateTime<Utc>) -> Result<Option<i64>> {
    let n = tx.execute(
        "INSERT INTO customers (email, display_name, password_hash, email_verified_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (email) DO NOTHING",
        params![
            c.email,
            c.display_name,
            c.password_hash,
            c.email_verified_at.map(ts),
            ts(now)
        ],
    )?;
    Ok((n == 1).then(|| tx.last_insert_rowid()))
}

pub fn set_password(tx: &WriteTx<'_>, id: i64, hash: &str, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE customers SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, hash, ts(now)],
    )?;
    Ok(())
}

pub fn set_display_name(tx: &WriteTx<'_>, id: i64, name: &str, now: DateTime<Utc>) -> Result<()> {
    tx.execute(
        "UPDATE customers SET display_name = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, name, ts(now)],
    )?;
    Ok(())
}

/// Marks the address proven (once: a later proof keeps the first time). Returns whether
/// it was unverified before.
pub fn mark_verified(tx: &WriteTx<'_>, id: i64, now: DateTime<Utc>) -> Result<bool> {
    Ok(tx.execute(
        "UPDATE customers SET email_verified_at = ?2, updated_at = ?2
         WHERE id = ?1 AND email_verified_at IS NULL",
        params![id, ts(now)],
    )? == 1)
}

pub fn set_disabled(tx: &WriteTx<'_>, id: i64, disabled: bool, now: DateTime<Utc>) -> Result<()> {
    let at = disabled.then(|| ts(now));
    tx.execute(
        "UPDATE customers SET disabled_at = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, at, ts(now)],
    )?;
    Ok(())
}

/// Accounts whose email contains `search` (all when empty), by email, at most `limit`.
pub fn search(tx: &ReadTx<'_>, search: &str, limit: i64) -> Result<Vec<CustomerRow>> {
    let pattern = format!("%{}%", escape_like(search.trim()));
    let mut stmt = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM customers c WHERE c.email LIKE ?1 ESCAPE '\\'
         ORDER BY c.email LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![pattern, limit], |r| read_row(r, 0))?;
    rows.map(|r| r?.parse()).collect()
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
