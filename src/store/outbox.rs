//! The email outbox (`outbox`): messages written in the transaction of the change that
//! causes them, and what the delivery job records about each attempt.

use super::{ReadTx, Result, StoreError, WriteTx, parse_opt_ts, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

/// Where a message is: waiting (or between attempts), delivered (or marked so by
/// hand), or given up after the last attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    Pending,
    Sent,
    Failed,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(OutboxState::Pending),
            "sent" => Ok(OutboxState::Sent),
            "failed" => Ok(OutboxState::Failed),
            other => Err(StoreError::Corrupt {
                column: "outbox.state",
                value: other.to_owned(),
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub kind: String,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub state: OutboxState,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub sent_by: Option<String>,
    pub dedupe_key: Option<String>,
}

pub struct NewMessage<'a> {
    pub kind: &'a str,
    pub to_address: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub dedupe_key: Option<&'a str>,
}

const COLUMNS: &str = "id, created_at, kind, to_address, subject, body_text, body_html, state, \
     attempts, next_attempt_at, last_error, sent_at, sent_by, dedupe_key";

type Raw = (
    (i64, String, String, String, String, String, String),
    (
        String,
        u32,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ),
);

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ),
        (
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
            r.get(11)?,
            r.get(12)?,
            r.get(13)?,
        ),
    ))
}

fn parse(raw: Raw) -> Result<OutboxRow> {
    let (
        (id, created, kind, to_address, subject, body_text, body_html),
        (state, attempts, next, last_error, sent, sent_by, dedupe_key),
    ) = raw;
    Ok(OutboxRow {
        id,
        created_at: parse_ts("outbox.created_at", &created)?,
        kind,
        to_address,
        subject,
        body_text,
        body_html,
        state: OutboxState::parse(&state)?,
        attempts,
        next_attempt_at: parse_ts("outbox.next_attempt_at", &next)?,
        last_error,
        sent_at: parse_opt_ts("outbox.sent_at", sent)?,
        sent_by,
        dedupe_key,
    })
}

/// Writes a pending message, due at once; `None` when a message with the same
/// `dedupe_key` exists (that event's message was already written).
pub fn insert(tx: &WriteTx<'_>, m: &NewMessage<'_>, now: DateTime<Utc>) -> Result<Option<i64>> {
    let n = tx.execute(
        "INSERT INTO outbox (created_at, kind, to_address, subject, body_text, body_html, state, attempts, next_attempt_at, dedupe_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?1, ?7)
         ON CONFLICT (dedupe_key) DO NOTHING",
        params![
            ts(now),
            m.kind,
            m.to_address,
            m.subject,
            m.body_text,
            m.body_html,
            m.dedupe_key
        ],
    )?;
    Ok((n == 1).then(|| tx.last_insert_rowid()))
}

/// Whether the message of the event `dedupe_key` names was written already (a caller
/// that finds events on every run checks before rendering one).
pub fn has_key(tx: &ReadTx<'_>, dedupe_key: &str) -> Result<bool> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE dedupe_key = ?1)",
        [dedupe_key],
        |r| r.get(0),
    )?)
}

pub fn find(tx: &ReadTx<'_>, id: i64) -> Result<Option<OutboxRow>> {
    tx.query_row(
        &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
        [id],
        read,
    )
    .optional()?
    .map(parse)
    .transpose()
}

/// The newest messages first, at most `limit`.
pub fn list(tx: &ReadTx<'_>, limit: u32) -> Result<Vec<OutboxRow>> {
    let mut st = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM outbox ORDER BY id DESC LIMIT ?1"
    ))?;
    let rows = st.query_map([limit], read)?;
    rows.map(|r| parse(r?)).collect()
}

/// The ids of pending messages due at `now`, oldest first, at most `limit`.
pub fn due(tx: &ReadTx<'_>, now: DateTime<Utc>, limit: u32) -> Result<Vec<i64>> {
    let mut st = tx.prepare(
        "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?1
         ORDER BY next_attempt_at, id LIMIT ?2",
    )?;
    let rows = st.query_map(params![ts(now), limit], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
}

/// When the next pending message is due, if any.
pub fn next_attempt(tx: &ReadTx<'_>) -> Result<Option<DateTime<Utc>>> {
    let at: Option<String> = tx.query_row(
        "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'",
        [],
        |r| r.get(0),
    )?;
    at.map(|a| super::parse_ts("outbox.next_attempt_at", &a))
        .transpose()
}

/// Claims a due pending message for one attempt: counts the attempt and moves its next
/// attempt to `retry_at`, so that it is not due again before then. `false` when it is
/// no longer pending and due (another run took it, or staff marked it sent).
pub fn claim(
    tx: &WriteTx<'_>,
    id: i64,
    now: DateTime<Utc>,
    retry_at: DateTime<Utc>,
) -> Result<bool> {
    let n = tx.execute(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?3
         WHERE id = ?1 AND state = 'pending' AND next_attempt_at <= ?2",
        params![id, ts(now), ts(retry_at)],
    )?;
    Ok(n == 1)
}

/// Records a delivery (`by` is `None` when SMTP delivered it, else who marked it sent).
/// `false` when it was not pending or failed.
pub fn mark_sent(tx: &WriteTx<'_>, id: i64, now: DateTime<Utc>, by: Option<&str>) -> Result<bool> {
    let n = tx.execute(
        "UPDATE outbox SET state = 'sent', sent_at = ?2, sent_by = ?3
         WHERE id = ?1 AND state IN ('pending', 'failed')",
        params![id, ts(now), by],
    )?;
    Ok(n == 1)
}

/// Records a failed attempt: the error, and either a later attempt (already set by
/// `claim`) or, when `give_up`, the end of trying.
pub fn record_failure(tx: &WriteTx<'_>, id: i64, error: &str, give_up: bool) -> Result<()> {
    tx.execute(
        "UPDATE outbox SET last_error = ?2,
             state = CASE WHEN ?3 THEN 'failed' ELSE state END
         WHERE id = ?1 AND state = 'pending'",
        params![id, error, give_up],
    )?;
    Ok(())
}

/// How many messages are in each state (pending, sent, failed).
pub fn counts(tx: &ReadTx<'_>) -> Result<(u64, u64, u64)> {
    Ok(tx.query_row(
        "SELECT coalesce(sum(state = 'pending'), 0), coalesce(sum(state = 'sent'), 0),
                coalesce(sum(state = 'failed'), 0) FROM outbox",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}
