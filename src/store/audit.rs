//! The audit log table: append (inside the caller's write transaction), list, walk.

use super::{ReadTx, Result, WriteTx, parse_ts, ts};
use crate::domain::audit::{EntryFields, GENESIS_HASH, entry_hash};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params_from_iter};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    pub fn fields(&self) -> EntryFields<'_> {
        EntryFields {
            id: self.id,
            at: &self.at,
            actor: &self.actor,
            action: &self.action,
            target: &self.target,
            details: &self.details,
            prev_hash: &self.prev_hash,
        }
    }

    pub fn at(&self) -> Result<DateTime<Utc>> {
        parse_ts("audit_log.at", &self.at)
    }
}

const COLUMNS: &str = "id, at, actor, action, target, details, prev_hash, hash";

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        target: r.get(4)?,
        details: r.get(5)?,
        prev_hash: r.get(6)?,
        hash: r.get(7)?,
    })
}

/// Appends an entry, chained to the last one. Must run in the same write transaction
/// as the change it records.
pub fn append(
    tx: &WriteTx<'_>,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    target: &str,
    details: &str,
) -> Result<i64> {
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (id, prev_hash) = match last {
        Some((id, hash)) => (id + 1, hash),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let at = ts(at);
    let hash = entry_hash(&EntryFields {
        id,
        at: &at,
        actor,
        action,
        target,
        details,
        prev_hash: &prev_hash,
    });
    tx.execute(
        "INSERT INTO audit_log (id, at, actor, action, target, details, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        rusqlite::params![id, at, actor, action, target, details, prev_hash, hash],
    )?;
    Ok(id)
}

/// Filters for listing; all optional, combined with AND. Text filters compare bytes
/// (callers lower-case what they search for: actions and emails are stored lower-case).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Actions that start with this (`license` finds `license.issue`).
    pub action_prefix: Option<String>,
    /// Actors that contain this (`admin@localhost` finds `staff:admin@localhost`).
    pub actor_contains: Option<String>,
    /// Targets that start with this (`license:` finds every license).
    pub target_prefix: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only entries with an id below this (the cursor of the previous page).
    pub before_id: Option<i64>,
}

/// Newest first, at most `limit` entries.
pub fn list(tx: &ReadTx<'_>, f: &Filter, limit: usize) -> Result<Vec<AuditRow>> {
    let mut clauses = Vec::new();
    let mut args: Vec<String> = Vec::new();
    let mut add = |clause: &str, v: String| {
        args.push(v);
        clauses.push(clause.replace('?', &format!("?{}", args.len())));
    };
    // substr/instr rather than LIKE: no wildcard characters to escape in what was typed.
    if let Some(a) = &f.action_prefix {
        add("substr(action, 1, length(?)) = ?", a.clone());
    }
    if let Some(a) = &f.actor_contains {
        add("instr(actor, ?) > 0", a.clone());
    }
    if let Some(t) = &f.target_prefix {
        add("substr(target, 1, length(?)) = ?", t.clone());
    }
    if let Some(s) = f.since {
        add("at >= ?", ts(s));
    }
    if let Some(u) = f.until {
        add("at < ?", ts(u));
    }
    if let Some(b) = f.before_id {
        add("id < CAST(? AS INTEGER)", b.to_string());
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!("SELECT {COLUMNS} FROM audit_log {filter} ORDER BY id DESC LIMIT {limit}");
    let mut st = tx.prepare(&sql)?;
    let rows = st.query_map(params_from_iter(args.iter()), read)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Calls `visit` on every entry in id order; stops early when it returns `false`.
pub fn walk(tx: &ReadTx<'_>, mut visit: impl FnMut(&AuditRow) -> bool) -> Result<()> {
    let mut st = tx.prepare(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY id"))?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        if !visit(&read(r)?) {
            break;
        }
    }
    Ok(())
}
