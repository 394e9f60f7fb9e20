//! Schema versions, tracked in `PRAGMA user_version`. A fresh database gets the full
//! current schema; an older one is upgraded step by step, each step in its own
//! transaction together with its version bump; a newer one is refused.

use super::{Result, StoreError};
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// One upgrade step: the SQL that takes a database from `to - 1` to `to`.
#[derive(Debug)]
pub struct Step {
    pub to: i64,
    pub sql: &'static str,
}

/// A kind of database: its full current schema and how older versions catch up.
#[derive(Debug)]
pub struct Schema {
    pub name: &'static str,
    pub version: i64,
    pub full: &'static str,
    pub steps: &'static [Step],
}

/// Tenant databases (`tenants/*.db`, `template.db`).
pub static TENANT: Schema = Schema {
    name: "tenant",
    version: 6,
    full: include_str!("../../schema.sql"),
    steps: &[
        Step {
            to: 2,
            sql: include_str!("licensing.sql"),
        },
        Step {
            to: 3,
            sql: include_str!("installations.sql"),
        },
        Step {
            to: 4,
            sql: include_str!("client_certs.sql"),
        },
        Step {
            to: 5,
            sql: include_str!("one_time_passwords.sql"),
        },
        Step {
            to: 6,
            sql: include_str!("directive_activations.sql"),
        },
    ],
};

/// The tenant registry (`registry.db`).
pub static REGISTRY: Schema = Schema {
    name: "registry",
    version: 1,
    full: include_str!("registry.sql"),
    steps: &[],
};

/// What happened to a database when it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Upgraded { from: i64 },
    Current,
}

pub fn user_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

pub fn bring_up_to_date(conn: &mut Connection, schema: &Schema, path: &Path) -> Result<Outcome> {
    let found = user_version(conn)?;
    if found > schema.version {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found,
            supported: schema.version,
        });
    }
    if found == schema.version {
        return Ok(Outcome::Current);
    }
    if found == 0 {
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if tables > 0 {
            return Err(StoreError::Foreign {
                path: path.to_owned(),
            });
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(schema.full)?;
        tx.pragma_update(None, "user_version", schema.version)?;
        tx.commit()?;
        tracing::info!(db = %path.display(), schema = schema.name, version = schema.version, "created database");
        return Ok(Outcome::Created);
    }
    for step in schema.steps.iter().filter(|s| s.to > found) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(step.sql)?;
        tx.pragma_update(None, "user_version", step.to)?;
        tx.commit()?;
        tracing::info!(db = %path.display(), schema = schema.name, to = step.to, "applied schema step");
    }
    let now = user_version(conn)?;
    if now != schema.version {
        return Err(StoreError::Corrupt {
            column: "user_version",
            value: format!("{now} after upgrade, expected {}", schema.version),
        });
    }
    Ok(Outcome::Upgraded { from: found })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_then_current_then_too_new() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.db");
        let mut c = Connection::open(&p).unwrap();
        assert_eq!(
            bring_up_to_date(&mut c, &TENANT, &p).unwrap(),
            Outcome::Created
        );
        assert_eq!(
            bring_up_to_date(&mut c, &TENANT, &p).unwrap(),
            Outcome::Current
        );
        c.pragma_update(None, "user_version", TENANT.version + 1)
            .unwrap();
        let err = bring_up_to_date(&mut c, &TENANT, &p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("newer than this licd supports"), "{err}");
    }

    #[test]
    fn steps_run_in_order_with_their_version() {
        static STEPPED: Schema = Schema {
            name: "test",
            version: 3,
            full: "CREATE TABLE t (a INTEGER, b INTEGER, c INTEGER);",
            steps: &[
                Step {
                    to: 2,
                    sql: "ALTER TABLE t ADD COLUMN b INTEGER;",
                },
                Step {
                    to: 3,
                    sql: "ALTER TABLE t ADD COLUMN c INTEGER;",
                },
            ],
        };
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        let mut c = Connection::open(&p).unwrap();
        c.execute_batch("CREATE TABLE t (a INTEGER); PRAGMA user_version = 1;")
            .unwrap();
        assert_eq!(
            bring_up_to_date(&mut c, &STEPPED, &p).unwrap(),
            Outcome::Upgraded { from: 1 }
        );
        c.execute("INSERT INTO t (a, b, c) VALUES (1, 2, 3)", [])
            .unwrap();
        assert_eq!(user_version(&c).unwrap(), 3);
    }

    /// A version-1 database upgraded step by step ends with exactly the schema a fresh
    /// database gets.
    #[test]
    fn upgraded_tenant_schema_equals_fresh_schema() {
        let dir = tempfile::tempdir().unwrap();
        let schema_of = |c: &Connection| -> Vec<(String, String)> {
            let mut st = c
                .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
                .unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(|r| r.unwrap())
                .collect()
        };
        let fresh_path = dir.path().join("fresh.db");
        let mut fresh = Connection::open(&fresh_path).unwrap();
        bring_up_to_date(&mut fresh, &TENANT, &fresh_path).unwrap();

        let v1_path = dir.path().join("v1.db");
        let mut old = Connection::open(&v1_path).unwrap();
        let v1_sql = TENANT.full.split("-- Licensing (seed 002)").next().unwrap();
        old.execute_batch(v1_sql).unwrap();
        old.pragma_update(None, "user_version", 1).unwrap();
        assert_eq!(
            bring_up_to_date(&mut old, &TENANT, &v1_path).unwrap(),
            Outcome::Upgraded { from: 1 }
        );
        // Whitespace does not matter, nor where it sits around punctuation: `ALTER TABLE
        // ... ADD COLUMN` stores `..., x TEXT\n, y INTEGER)` for schema.sql's
        // `..., x TEXT,\n y INTEGER\n)`.
        let normalise = |v: Vec<(String, String)>| -> Vec<(String, String)> {
            v.into_iter()
                .map(|(n, s)| {
                    let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
                    (
                        n,
                        words
                            .replace(" ,", ",")
                            .replace(" )", ")")
                            .replace("( ", "("),
                    )
                })
                .collect()
        };
        assert_eq!(normalise(schema_of(&old)), normalise(schema_of(&fresh)));
    }

    /// Step 6: directives not yet acknowledged start over with the license's current
    /// activation (or wait for the next one); acknowledged ones are left alone.
    #[test]
    fn step_6_ties_waiting_directives_to_the_current_activation() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v4.db");
        let mut c = Connection::open(&p).unwrap();
        let v1_sql = TENANT.full.split("-- Licensing (seed 002)").next().unwrap();
        c.execute_batch(v1_sql).unwrap();
        for step in TENANT.steps.iter().filter(|s| s.to <= 4) {
            c.execute_batch(step.sql).unwrap();
        }
        c.pragma_update(None, "user_version", 4).unwrap();
        // Only the rows the step reads: no licenses behind them.
        c.pragma_update(None, "foreign_keys", false).unwrap();
        c.execute_batch(
            "INSERT INTO activations (id, license_id, fingerprint, secret_hash, created_at, superseded_at)
             VALUES (1, 'L1', 'box-a', x'01', 't', 't'), (2, 'L1', 'box-b', x'02', 't', NULL),
                    (3, 'L2', 'box-c', x'03', 't', 't');
             INSERT INTO directives (id, license_id, kind, created_at, created_by, first_seq, acked_at)
             VALUES (1, 'L1', 'message', 't', 'x', 3, 't'), (2, 'L1', 'message', 't', 'x', 5, NULL),
                    (3, 'L1', 'unlock', 't', 'x', NULL, NULL), (4, 'L2', 'message', 't', 'x', 2, NULL);",
        )
        .unwrap();
        assert_eq!(
            bring_up_to_date(&mut c, &TENANT, &p).unwrap(),
            Outcome::Upgraded { from: 4 }
        );
        let rows: Vec<(i64, Option<i64>, Option<i64>)> = c
            .prepare("SELECT id, activation_id, first_seq FROM directives ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(
            rows,
            vec![
                (1, None, Some(3)),
                (2, Some(2), None),
                (3, Some(2), None),
                (4, None, None)
            ]
        );
    }

    #[test]
    fn a_foreign_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.db");
        let mut c = Connection::open(&p).unwrap();
        c.execute_batch("CREATE TABLE other (x);").unwrap();
        assert!(matches!(
            bring_up_to_date(&mut c, &TENANT, &p),
            Err(StoreError::Foreign { .. })
        ));
    }
}
