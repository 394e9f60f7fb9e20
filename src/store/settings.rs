//! Per-tenant settings, stored as JSON documents by key.

use super::{ReadTx, Result, WriteTx};
use rusqlite::{OptionalExtension, params};

pub fn get(tx: &ReadTx<'_>, key: &str) -> Result<Option<String>> {
    Ok(tx
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

pub fn put(tx: &WriteTx<'_>, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}
