//! `registry.db` `domains`: the host names routed to each tenant. A domain belongs to
//! one tenant (the primary key); a tenant's primary domain is the first one added
//! (lowest rowid), so the order of a tenant's domains is the order they were added in.

use super::{ReadTx, Result, WriteTx, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

/// One routing entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRow {
    pub domain: String,
    pub schema_name: String,
    pub created_at: DateTime<Utc>,
}

/// A tenant's domains, in the order they were added (the first is its primary domain).
pub fn of_tenant(tx: &ReadTx<'_>, schema_name: &str) -> Result<Vec<DomainRow>> {
    let mut st = tx.prepare(
        "SELECT domain, schema_name, created_at FROM domains WHERE schema_name = ?1 ORDER BY rowid",
    )?;
    let raw = st
        .query_map([schema_name], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raw.into_iter()
        .map(|(domain, schema_name, at)| {
            Ok(DomainRow {
                domain,
                schema_name,
                created_at: parse_ts("domains.created_at", &at)?,
            })
        })
        .collect()
}

/// The tenant a domain is routed to.
pub fn owner(tx: &ReadTx<'_>, domain: &str) -> Result<Option<String>> {
    Ok(tx
        .query_row(
            "SELECT schema_name FROM domains WHERE domain = ?1",
            [domain],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn insert(tx: &WriteTx<'_>, d: &DomainRow) -> Result<()> {
    tx.execute(
        "INSERT INTO domains (domain, schema_name, created_at) VALUES (?1, ?2, ?3)",
        params![d.domain, d.schema_name, ts(d.created_at)],
    )?;
    Ok(())
}

/// Removes a tenant's domain; whether there was one.
pub fn delete(tx: &WriteTx<'_>, schema_name: &str, domain: &str) -> Result<bool> {
    let n = tx.execute(
        "DELETE FROM domains WHERE domain = ?1 AND schema_name = ?2",
        params![domain, schema_name],
    )?;
    Ok(n > 0)
}
