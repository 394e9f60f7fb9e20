//! Schema versions, tracked in `PRAGMA user_version`, and the numbered steps that make
//! them: `src/store/migrations/<kind>/NNNN_name.sql`. Step N takes a database from
//! version N - 1 to N; step 1 starts from nothing.
//!
//! A released step never changes (tests/it/migrations holds each one's SHA-256); a
//! schema change is a new step. A fresh database runs every step, in one transaction, so
//! it is the same as an upgraded one and every test that opens a database runs the steps;
//! an older one is upgraded step by step, each step in its own transaction together with
//! its version bump; a newer one is refused. `schema.sql` and `src/store/registry.sql`
//! show the resulting schemas for reading; they are generated from the steps
//! (`UPDATE_SCHEMA=1 cargo test --test it migrations::`) and nothing runs them.

use super::{Result, StoreError};
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// One step: the SQL that takes a database from the version before it to its own.
#[derive(Debug)]
pub struct Step {
    /// Its file under `src/store/migrations/<kind>/`, named `NNNN_what.sql` after its
    /// version.
    pub file: &'static str,
    pub sql: &'static str,
}

/// A kind of database: its steps, in order; step N makes version N.
#[derive(Debug)]
pub struct Schema {
    /// Also the directory of its steps under `src/store/migrations/`.
    pub name: &'static str,
    /// The current version: the number of steps.
    pub version: i64,
    pub steps: &'static [Step],
}

impl Schema {
    const fn new(name: &'static str, steps: &'static [Step]) -> Schema {
        Schema {
            name,
            version: steps.len() as i64,
            steps,
        }
    }

    /// The steps with the version each one makes.
    pub fn numbered_steps(&self) -> impl Iterator<Item = (i64, &Step)> {
        (1..).zip(self.steps)
    }
}

macro_rules! step {
    ($kind:literal, $file:literal) => {
        Step {
            file: $file,
            sql: include_str!(concat!("migrations/", $kind, "/", $file)),
        }
    };
}

/// Tenant databases (`tenants/*.db`, `template.db`).
pub static TENANT: Schema = Schema::new(
    "tenant",
    &[
        step!("tenant", "0001_foundation.sql"),
        step!("tenant", "0002_licensing.sql"),
        step!("tenant", "0003_installations.sql"),
        step!("tenant", "0004_client_certs.sql"),
        step!("tenant", "0005_one_time_passwords.sql"),
        step!("tenant", "0006_directive_activations.sql"),
        step!("tenant", "0007_license_keys.sql"),
        step!("tenant", "0008_fleet_aggregates.sql"),
        step!("tenant", "0009_outbox.sql"),
        step!("tenant", "0010_customer_portal.sql"),
        step!("tenant", "0011_billing.sql"),
        step!("tenant", "0012_subscription_billing.sql"),
        step!("tenant", "0013_air_gapped_appliances.sql"),
        step!("tenant", "0014_heartbeat_chain.sql"),
        step!("tenant", "0015_license_key_once.sql"),
        step!("tenant", "0016_heartbeat_head_on_license.sql"),
        step!("tenant", "0017_heartbeat_state.sql"),
        step!("tenant", "0018_heartbeat_credential.sql"),
        step!("tenant", "0019_heartbeat_assessment.sql"),
        step!("tenant", "0020_leaner_licenses.sql"),
        step!("tenant", "0021_seen_day.sql"),
        step!("tenant", "0022_fewer_index_bytes.sql"),
        step!("tenant", "0023_signed_by_number.sql"),
        step!("tenant", "0024_license_times_as_integers.sql"),
        step!("tenant", "0025_license_numbers.sql"),
    ],
);

/// The tenant registry (`registry.db`).
pub static REGISTRY: Schema = Schema::new(
    "registry",
    &[
        step!("registry", "0001_tenants_and_domains.sql"),
        step!("registry", "0002_audit_and_tenant_state.sql"),
        step!("registry", "0003_recovery_keys_and_public_name.sql"),
        step!("registry", "0004_tenant_archives.sql"),
        step!("registry", "0005_tenant_schedule.sql"),
    ],
);

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
        // All steps at once: a fresh database has the whole schema or nothing.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for step in schema.steps {
            tx.execute_batch(step.sql)?;
        }
        tx.pragma_update(None, "user_version", schema.version)?;
        tx.commit()?;
        tracing::debug!(db = %path.display(), schema = schema.name, version = schema.version, "created database");
        return Ok(Outcome::Created);
    }
    for (to, step) in schema.numbered_steps().filter(|(to, _)| *to > found) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(step.sql)?;
        tx.pragma_update(None, "user_version", to)?;
        tx.commit()?;
        tracing::info!(db = %path.display(), schema = schema.name, to, step = step.file, "applied schema step");
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

/// The mechanism on made-up schemas; the real steps, the generated schema files and the
/// release fixtures are tested in tests/it/migrations.
#[cfg(test)]
mod tests {
    use super::*;

    static STEPPED: Schema = Schema::new(
        "test",
        &[
            Step {
                file: "0001_t.sql",
                sql: "CREATE TABLE t (a INTEGER);",
            },
            Step {
                file: "0002_b.sql",
                sql: "ALTER TABLE t ADD COLUMN b INTEGER;",
            },
            Step {
                file: "0003_c.sql",
                sql: "ALTER TABLE t ADD COLUMN c INTEGER;",
            },
        ],
    );

    static BROKEN: Schema = Schema::new(
        "broken",
        &[
            Step {
                file: "0001_t.sql",
                sql: "CREATE TABLE t (a INTEGER);",
            },
            Step {
                file: "0002_b.sql",
                sql: "ALTER TABLE t ADD COLUMN b INTEGER;",
            },
            Step {
                file: "0003_bad.sql",
                sql: "CREATE TABLE u (x); ALTER TABLE nope ADD COLUMN c INTEGER;",
            },
        ],
    );

    fn tables(c: &Connection) -> Vec<String> {
        c.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    #[test]
    fn fresh_then_current_then_too_new() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.db");
        let mut c = Connection::open(&p).unwrap();
        assert_eq!(
            bring_up_to_date(&mut c, &TENANT, &p).unwrap(),
            Outcome::Created
        );
        assert_eq!(user_version(&c).unwrap(), TENANT.version);
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
    fn the_version_is_the_number_of_steps() {
        assert_eq!(STEPPED.version, 3);
        assert_eq!(TENANT.version, TENANT.steps.len() as i64);
        assert_eq!(REGISTRY.version, REGISTRY.steps.len() as i64);
        let numbers: Vec<i64> = STEPPED.numbered_steps().map(|(n, _)| n).collect();
        assert_eq!(numbers, vec![1, 2, 3]);
    }

    #[test]
    fn steps_run_in_order_with_their_version() {
        let p = Path::new("s.db");
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (a INTEGER); PRAGMA user_version = 1;")
            .unwrap();
        assert_eq!(
            bring_up_to_date(&mut c, &STEPPED, p).unwrap(),
            Outcome::Upgraded { from: 1 }
        );
        c.execute("INSERT INTO t (a, b, c) VALUES (1, 2, 3)", [])
            .unwrap();
        assert_eq!(user_version(&c).unwrap(), 3);
    }

    /// A fresh database gets every step or nothing: after a failing step it is still
    /// empty at version 0, so the next start tries again instead of calling it foreign.
    #[test]
    fn a_fresh_database_is_made_whole_or_not_at_all() {
        let p = Path::new("f.db");
        let mut c = Connection::open_in_memory().unwrap();
        assert!(bring_up_to_date(&mut c, &BROKEN, p).is_err());
        assert_eq!(user_version(&c).unwrap(), 0);
        assert!(tables(&c).is_empty(), "{:?}", tables(&c));
        assert_eq!(
            bring_up_to_date(&mut c, &STEPPED, p).unwrap(),
            Outcome::Created
        );
    }

    /// An upgrade keeps the steps that succeeded, each with its version, and undoes the
    /// failing one entirely.
    #[test]
    fn an_upgrade_stops_at_a_failing_step_and_keeps_the_ones_before() {
        let p = Path::new("u.db");
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (a INTEGER); PRAGMA user_version = 1;")
            .unwrap();
        assert!(bring_up_to_date(&mut c, &BROKEN, p).is_err());
        assert_eq!(user_version(&c).unwrap(), 2);
        assert_eq!(tables(&c), vec!["t"], "step 3's table u is rolled back");
        c.execute("INSERT INTO t (a, b) VALUES (1, 2)", []).unwrap();
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
