//! `registry.db`: a tenant's deletion and restoring (`tenants.state` `deleting`,
//! `deleted`, `restoring`, and the `archive`, `deleted_at` and `archived_domains`
//! columns). The rows themselves are `registry.rs`.

use super::registry::TenantState;
use super::{ReadTx, Result, StoreError, WriteTx, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

/// Where a deleted (or deleting, or restoring) tenant's archive is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveRow {
    pub schema_name: String,
    pub state: TenantState,
    /// The archive's directory, relative to the data directory (`deleted/<schema>-<time>`).
    pub archive: String,
    pub deleted_at: DateTime<Utc>,
    /// The host names it had when it was deleted.
    pub domains: Vec<String>,
}

type Raw = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn to_row((schema_name, state, archive, deleted_at, domains): Raw) -> Result<Option<ArchiveRow>> {
    let (Some(archive), Some(deleted_at)) = (archive, deleted_at) else {
        return Ok(None);
    };
    let state = TenantState::parse(&state).ok_or_else(|| StoreError::Corrupt {
        column: "tenants.state",
        value: state.clone(),
    })?;
    let domains = match domains {
        None => Vec::new(),
        Some(d) => serde_json::from_str(&d).map_err(|_| StoreError::Corrupt {
            column: "tenants.archived_domains",
            value: d,
        })?,
    };
    Ok(Some(ArchiveRow {
        schema_name,
        state,
        archive,
        deleted_at: parse_ts("tenants.deleted_at", &deleted_at)?,
        domains,
    }))
}

const SELECT: &str =
    "SELECT schema_name, state, archive, deleted_at, archived_domains FROM tenants";

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

/// A tenant's archive, if it has one (it is deleting, deleted or restoring).
pub fn find(tx: &ReadTx<'_>, schema_name: &str) -> Result<Option<ArchiveRow>> {
    let r = tx
        .query_row(
            &format!("{SELECT} WHERE schema_name = ?1"),
            [schema_name],
            raw,
        )
        .optional()?;
    Ok(r.map(to_row).transpose()?.flatten())
}

/// Every tenant with an archive, oldest deletion first.
pub fn list(tx: &ReadTx<'_>) -> Result<Vec<ArchiveRow>> {
    let mut st = tx.prepare(&format!(
        "{SELECT} WHERE archive IS NOT NULL ORDER BY deleted_at, schema_name"
    ))?;
    let rows = st.query_map([], raw)?;
    let mut out = Vec::new();
    for r in rows {
        out.extend(to_row(r?)?);
    }
    Ok(out)
}

/// The host names routed to a tenant.
pub fn domains_of(tx: &ReadTx<'_>, schema_name: &str) -> Result<Vec<String>> {
    let mut st = tx.prepare("SELECT domain FROM domains WHERE schema_name = ?1 ORDER BY domain")?;
    let rows = st.query_map([schema_name], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Starts deleting a ready tenant: `deleting`, with its archive's place and time and
/// its host names, which are removed from routing (and free for other tenants).
pub fn begin_deletion(
    tx: &WriteTx<'_>,
    schema_name: &str,
    archive: &str,
    deleted_at: DateTime<Utc>,
    domains: &[String],
) -> Result<()> {
    let domains = serde_json::to_string(domains).map_err(|e| StoreError::Corrupt {
        column: "tenants.archived_domains",
        value: e.to_string(),
    })?;
    tx.execute(
        "UPDATE tenants SET state = 'deleting', archive = ?2, deleted_at = ?3, archived_domains = ?4
         WHERE schema_name = ?1",
        params![schema_name, archive, ts(deleted_at), domains],
    )?;
    tx.execute("DELETE FROM domains WHERE schema_name = ?1", [schema_name])?;
    Ok(())
}

/// Ends restoring a tenant: its host names that no other tenant took meanwhile are
/// routed to it again, it is `ready`, and its archive columns are cleared. Returns the
/// host names it did not get back (another tenant has them now).
pub fn finish_restoring(
    tx: &WriteTx<'_>,
    schema_name: &str,
    domains: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let mut taken = Vec::new();
    for d in domains {
        let owner: Option<String> = tx
            .query_row(
                "SELECT schema_name FROM domains WHERE domain = ?1",
                [d],
                |r| r.get(0),
            )
            .optional()?;
        match owner {
            Some(o) if o != schema_name => taken.push(d.clone()),
            Some(_) => {}
            None => {
                tx.execute(
                    "INSERT INTO domains (domain, schema_name, created_at) VALUES (?1, ?2, ?3)",
                    params![d, schema_name, ts(now)],
                )?;
            }
        }
    }
    tx.execute(
        "UPDATE tenants SET state = 'ready', failure = NULL, archive = NULL, deleted_at = NULL,
         archived_domains = NULL WHERE schema_name = ?1",
        [schema_name],
    )?;
    Ok(taken)
}

/// Registers a tenant known only from an archive (one purged here, or from another
/// server) as `deleted`, with that archive, ready to be restored.
pub fn insert_archived(
    tx: &WriteTx<'_>,
    row: &super::registry::TenantRow,
    archive: &ArchiveRow,
) -> Result<()> {
    let domains = serde_json::to_string(&archive.domains).map_err(|e| StoreError::Corrupt {
        column: "tenants.archived_domains",
        value: e.to_string(),
    })?;
    tx.execute(
        "INSERT INTO tenants (schema_name, name, install_id, created_at, state, archive, deleted_at, archived_domains)
         VALUES (?1, ?2, ?3, ?4, 'deleted', ?5, ?6, ?7)",
        params![
            row.schema_name,
            row.name,
            row.install_id,
            ts(row.created_at),
            archive.archive,
            ts(archive.deleted_at),
            domains
        ],
    )?;
    Ok(())
}

/// The schema_name of the tenant with this Install ID, if any.
pub fn holder_of_install_id(tx: &ReadTx<'_>, install_id: &str) -> Result<Option<String>> {
    Ok(tx
        .query_row(
            "SELECT schema_name FROM tenants WHERE install_id = ?1",
            [install_id],
            |r| r.get(0),
        )
        .optional()?)
}
