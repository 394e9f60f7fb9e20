//! The installation's assessment a license's `heartbeat_state` row keeps for its next
//! heartbeat (tenant schema step 19, `violation::Reusable`): written at activation with
//! the credential's digest (`held_credentials::remember`) and with each heartbeat's
//! lease (`leases::record`), read with the digest (`held_credentials::find`), forgotten
//! by the schema's triggers whenever anything it was assessed from changes.
//!
//! Times are whole seconds: when it was made rounded up, its end rounded down, so the
//! window read back is never wider than the one assessed. The stage is its place in
//! `Stage::ALL`.

use super::{Result, StoreError};
use crate::domain::violation::{Reusable, Stage, Usage};
use chrono::{DateTime, Utc};
use rusqlite::Row;

/// The state row's columns (as `h`), in the order `read` takes them.
pub(super) const COLUMNS: &str = "h.assessed_at, h.assessed_until, h.assessed_stage, \
     h.assessed_internal_users, h.assessed_external_users";

/// The SQL assignments that write it, from parameters `?first` onwards.
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
pub(super) type Columns = (i64, Option<i64>, usize, Option<u32>, Option<u32>);

pub(super) fn columns(r: &Reusable) -> Columns {
    let at = r.at.timestamp() + i64::from(r.at.timestamp_subsec_nanos() > 0);
    // Its place in `Stage::ALL`, which lists the stages in the order they are declared.
    let stage = r.stage as usize;
    (
        at,
        r.until.map(|t| t.timestamp()),
        stage,
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
    let stage: usize = r.get(at + 2)?;
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
        stage: *Stage::ALL.get(stage).ok_or_else(|| StoreError::Corrupt {
            column: "heartbeat_state.assessed_stage",
            value: stage.to_string(),
        })?,
        usage,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use rusqlite::Connection;

    fn round_trip(r: &Reusable) -> Option<Reusable> {
        let c = Connection::open_in_memory().unwrap();
        let (at, until, stage, internal, external) = columns(r);
        c.query_row(
            "SELECT ?1 AS assessed_at, ?2, ?3, ?4, ?5",
            rusqlite::params![at, until, stage, internal, external],
            |row| Ok(read(row, 0)),
        )
        .unwrap()
        .unwrap()
    }

    /// Every stage comes back as itself; the window comes back whole seconds inside
    /// the one written, never wider; usage comes back as it went.
    #[test]
    fn an_assessment_comes_back_as_written_or_narrower() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::microseconds(250);
        for (i, stage) in Stage::ALL.into_iter().enumerate() {
            assert_eq!(Stage::ALL[stage as usize], stage);
            let r = Reusable {
                at,
                until: Some(at + Duration::days(i as i64 + 1)),
                stage,
                usage: (i % 2 == 0).then_some(Usage {
                    internal_users: 7,
                    external_users: i as u32,
                }),
            };
            let back = round_trip(&r).expect("made");
            assert_eq!((back.stage, back.usage), (r.stage, r.usage));
            assert_eq!(
                back.at,
                at - Duration::microseconds(250) + Duration::seconds(1)
            );
            assert_eq!(
                back.until,
                Some(r.until.unwrap() - Duration::microseconds(250))
            );
        }
        let open = Reusable {
            at: at - Duration::microseconds(250),
            until: None,
            stage: Stage::None,
            usage: None,
        };
        assert_eq!(round_trip(&open), Some(open));
    }
}
