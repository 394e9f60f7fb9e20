//! Recording, listing and verifying the audit log.

use super::tenant::Tenant;
use super::{Actor, Result, refuse};
use crate::domain::audit::{ChainBreak, check_link};
use crate::error::ErrorCode;
use crate::store::WriteTx;
use crate::store::audit::{self as store, AuditRow};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// Records an action inside the transaction that makes the change.
pub(super) fn record(
    tx: &WriteTx<'_>,
    now: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    target: &str,
    details: serde_json::Value,
) -> Result<()> {
    store::append(
        tx,
        now,
        &actor.audit_name(),
        action,
        target,
        &details.to_string(),
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: serde_json::Value,
    pub hash: String,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = super::ServiceError;
    fn try_from(r: AuditRow) -> Result<Self> {
        Ok(AuditEntry {
            at: r.at()?,
            details: serde_json::from_str(&r.details)
                .unwrap_or(serde_json::Value::String(r.details)),
            id: r.id,
            actor: r.actor,
            action: r.action,
            target: r.target,
            hash: r.hash,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = AuditPage)]
pub struct Page {
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` to get the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub const MAX_PAGE: usize = 500;

/// Which entries to list; every field optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Lists entries newest first. `cursor` is the `next_cursor` of the previous page.
pub fn list(tenant: &Tenant, filter: Filter, cursor: Option<&str>, limit: usize) -> Result<Page> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            format!("limit: must be between 1 and {MAX_PAGE}"),
        ));
    }
    let before_id = cursor
        .map(|c| {
            c.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
                refuse(
                    ErrorCode::ValidationFailed,
                    "cursor: not a cursor this server gave out",
                )
            })
        })
        .transpose()?;
    let filter = store::Filter {
        action: filter.action,
        actor: filter.actor,
        target: filter.target,
        since: filter.since,
        until: filter.until,
        before_id,
    };
    let mut rows = tenant.db.read(|tx| store::list(tx, &filter, limit + 1))?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = more
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    let items = rows
        .into_iter()
        .map(AuditEntry::try_from)
        .collect::<Result<_>>()?;
    Ok(Page { items, next_cursor })
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub entries: u64,
    /// The first entry that does not verify, and why.
    pub broken: Option<(i64, ChainBreak)>,
}

/// Walks the whole chain from the first entry; stops at the first break.
pub fn verify(tenant: &Tenant) -> Result<Verification> {
    tenant.db.read(|tx| {
        let mut entries = 0u64;
        let mut prev: Option<(i64, String)> = None;
        let mut broken = None;
        store::walk(tx, |row| {
            entries += 1;
            let link = prev.as_ref().map(|(id, h)| (*id, h.as_str()));
            match check_link(link, &row.fields(), &row.hash) {
                Ok(()) => {
                    prev = Some((row.id, row.hash.clone()));
                    true
                }
                Err(why) => {
                    broken = Some((row.id, why));
                    false
                }
            }
        })?;
        Ok(Verification { entries, broken })
    })
}
