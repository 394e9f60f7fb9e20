//! The installation's assessment a license's `heartbeat_state` row keeps for its next
//! heartbeat (tenant schema step 19, `violation::Reusable`): written with each
//! heartbeat's lease (`leases::record`), read with the credential's digest
//! (`held_credentials::find`), forgotten by the schema's triggers whenever anything it
//! was assessed from changes.
//!
//! Times are whole seconds: when it was made rounded up, its end rounded down, so the
//! window read back is never wider than the one assessed.

use super::{Result, StoreError};
use crate::domain::violation::{Reusable, Stage, Usage};
use chrono::{DateTime, Utc};
use rusqlite::Row;

/// The state row's columns (as `h`), in the order `read` takes them.
pub(super) const COLUMNS: &str = "h.assessed_at, h.assessed_until, h.assessed_stage, \
     h.assessed_internal_users, h.assessed_external_users";

/// The SQL assignments `leases::record` makes, from parameters `?first` onwards.
pub(super) fn assignments(first: usize) -> String {
    format!(
        "assessed_at = ?{}, assessed_until = ?{}, assessed_stage = ?{}, \
         assessed_internal_users = ?{}, assessed_external_users = ?{}",
        first,
        first + 1,
        first + 2,
        first + 3,
        first + 4
    )
}

/// The values `assignments` takes, in order.
pub(super) type Columns = (i64, Option<i64>, &'static str, Option<u32>, Option<u32>);

pub(super) fn columns(r: &Reusable) -> Columns {
    let at = r.at.timestamp() + i64::from(r.at.timestamp_subsec_nanos() > 0);
    (
        at,
        r.until.map(|t| t.timestamp()),
        r.stage.as_str(),
        r.usage.map(|u| u.internal_users),
        r.usage.map(|u| u.external_users),
    )
}

fn instant(column: &'static str, secs: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0).ok_or_else(|| StoreError::Corrupt {
        column,
        value: secs.to_string(),
    })
}

/// Reads `COLUMNS` from column `at`: `None` when forgotten (or never made).
pub(super) fn read(r: &Row<'_>, at: usize) -> Result<Option<Reusable>> {
    let Some(made) = r.get::<_, Option<i64>>(at)? else {
        return Ok(None);
    };
    let until = r.get::<_, Option<i64>>(at + 1)?;
    let stage: String = r.get(at + 2)?;
    let usage = match (r.get(at + 3)?, r.get(at + 4)?) {
        (Some(internal_users), Some(external_users)) => Some(Usage {
            internal_users,
            external_users,
        }),
        _ => None,
    };
    Ok(Some(Reusable {
        at: instant("heartbeat_state.assessed_at", made)?,
        until: until
            .map(|t| instant("heartbeat_state.assessed_until", t))
            .transpose()?,
        stage: stage.parse::<Stage>().map_err(|_| StoreError::Corrupt {
            column: "heartbeat_state.assessed_stage",
            value: stage.clone(),
        })?,
        usage,
    }))
}
