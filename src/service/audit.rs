//! Recording, listing and verifying the audit log.

use super::tenant::Tenant;
use super::{Actor, Result, refuse};
use crate::domain::audit::{ChainBreak, check_link};
use crate::domain::timestamp::{self, DayEnd};
use crate::error::ErrorCode;
use crate::store::WriteTx;
use crate::store::audit::{self as store, AuditRow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
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

/// Which entries to list; every field optional, combined with AND. The API and the
/// console both build it from a `Search`, so they find the same entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Actions that start with this (`license` finds `license.issue`, `license.revoke`).
    pub action: Option<String>,
    /// Actors that contain this (`admin@localhost` finds `staff:admin@localhost`).
    pub actor: Option<String>,
    /// Targets that start with this (`license:` finds every license, `license:<id>` one).
    pub target: Option<String>,
    /// Entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub until: Option<DateTime<Utc>>,
}

/// A search as typed (query string of the API or of the console page): text, so that
/// a bad time is refused naming its field.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Search {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub target: Option<String>,
    /// RFC 3339, or a date (`YYYY-MM-DD`: from the start of that day, UTC).
    pub since: Option<String>,
    /// RFC 3339, or a date (`YYYY-MM-DD`: up to the end of that day, UTC).
    pub until: Option<String>,
}

fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Search {
    /// The filter this search asks for; empty fields ask for nothing.
    pub fn filter(&self) -> Result<Filter> {
        let time = |field, s: &Option<String>, end| {
            given(s)
                .map(|s| timestamp::parse_time_or_day(field, s, end))
                .transpose()
        };
        let since = time("since", &self.since, DayEnd::Start)?;
        let until = time("until", &self.until, DayEnd::End)?;
        if let (Some(s), Some(u)) = (since, until)
            && s >= u
        {
            return Err(refuse(
                ErrorCode::ValidationFailed,
                "until: must be later than since",
            ));
        }
        let text = |s: &Option<String>| -> Result<Option<String>> {
            match given(s) {
                Some(t) if t.chars().count() > MAX_SEARCH_CHARS => Err(refuse(
                    ErrorCode::ValidationFailed,
                    format!("search terms are at most {MAX_SEARCH_CHARS} characters"),
                )),
                t => Ok(t.map(str::to_lowercase)),
            }
        };
        Ok(Filter {
            action: text(&self.action)?,
            actor: text(&self.actor)?,
            target: given(&self.target).map(str::to_owned),
            since,
            until,
        })
    }

    /// The same search as query-string pairs (for links to further pages and exports).
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("action", &self.action),
            ("actor", &self.actor),
            ("target", &self.target),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .into_iter()
        .filter_map(|(k, v)| given(v).map(|v| (k, v)))
        .collect()
    }
}

/// The longest search term (actions, emails and ids are shorter).
const MAX_SEARCH_CHARS: usize = 256;

fn store_filter(filter: Filter, before_id: Option<i64>) -> store::Filter {
    store::Filter {
        action_prefix: filter.action,
        actor_contains: filter.actor,
        target_prefix: filter.target,
        since: filter.since,
        until: filter.until,
        before_id,
    }
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
    let filter = store_filter(filter, before_id);
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

/// The most entries one export holds.
pub const MAX_EXPORT: usize = 100_000;

/// Every entry the filter finds, newest first (for CSV and JSON export). Refuses when
/// more than `MAX_EXPORT` match, so that an export is never silently cut short.
pub fn export(tenant: &Tenant, filter: Filter) -> Result<Vec<AuditEntry>> {
    let filter = store_filter(filter, None);
    let rows = tenant
        .db
        .read(|tx| store::list(tx, &filter, MAX_EXPORT + 1))?;
    if rows.len() > MAX_EXPORT {
        return Err(refuse(
            ErrorCode::ValidationFailed,
            format!(
                "more than {MAX_EXPORT} entries match; narrow the search (a shorter time range) and export in parts"
            ),
        ));
    }
    rows.into_iter().map(AuditEntry::try_from).collect()
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub entries: u64,
    /// The first entry that does not verify, and why.
    pub broken: Option<(i64, ChainBreak)>,
}

/// Walks a tenant's whole chain from the first entry; stops at the first break.
pub fn verify(tenant: &Tenant) -> Result<Verification> {
    verify_db(&tenant.db)
}

/// Walks the `audit_log` of a database (a tenant's or the registry's: same table, same
/// chain rules).
pub(super) fn verify_db(db: &crate::store::db::Db) -> Result<Verification> {
    db.read(|tx| {
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
