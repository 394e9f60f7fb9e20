//! Scrape-time gauges: licenses by state and installations by stage in every open
//! tenant (a closed tenant's keep the values from when it was last open: nothing
//! changes them while it is closed but its scheduled sweep), how many tenants are open,
//! when the CA and the served certificate expire, and how large each database is
//! (closed tenants' too, from the files).

use super::{App, Result};
use crate::domain::lifecycle::LicenseState;
use crate::domain::violation::Stage;
use crate::metrics::{CertLabels, DbLabels, TenantStageLabels, TenantStateLabels};
use crate::store::{fleet, wal_path};
use std::path::Path;

/// A database file's size with its write-ahead log.
fn db_bytes(path: &Path) -> i64 {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    i64::try_from(size(path) + size(&wal_path(path))).unwrap_or(i64::MAX)
}

/// The count of `key` in `rows` (a key with no row counts 0).
fn count<K: PartialEq>(rows: &[(K, i64)], key: &K) -> i64 {
    rows.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n)
}

/// Sets every gauge from the current state; then `app.metrics.encode()` is current.
pub fn refresh(app: &App) -> Result<()> {
    let m = &app.metrics;
    for t in app.tenants.all() {
        let gauges = t.db.read(fleet::gauges)?;
        for s in LicenseState::ALL {
            m.licenses
                .get_or_create(&TenantStateLabels {
                    tenant: t.schema_name.clone(),
                    state: s.as_str().to_owned(),
                })
                .set(count(&gauges.licenses, &s));
        }
        for s in Stage::ALL {
            m.installations
                .get_or_create(&TenantStageLabels {
                    tenant: t.schema_name.clone(),
                    stage: s.as_str().to_owned(),
                })
                .set(count(&gauges.installations, &s));
        }
    }
    // Every tenant's file, open or not, without opening it.
    let names = app.tenants.ready_names()?;
    for name in &names {
        m.db_size
            .get_or_create(&DbLabels {
                database: format!("tenant:{name}"),
            })
            .set(db_bytes(&app.tenants.data_dir().tenant_db(name)));
    }
    let (open, _) = app.tenants.open_counts()?;
    m.tenants_open.set(i64::try_from(open).unwrap_or(i64::MAX));
    m.tenants
        .set(i64::try_from(names.len()).unwrap_or(i64::MAX));
    m.db_size
        .get_or_create(&DbLabels {
            database: "registry".into(),
        })
        .set(db_bytes(app.tenants.registry().path()));
    let expiry = |name: &str, at: i64| {
        m.cert_expiry
            .get_or_create(&CertLabels {
                certificate: name.into(),
            })
            .set(at);
    };
    expiry("ca", app.ca.not_after().timestamp());
    if let Some(info) = app.tls.as_ref().map(|t| t.info()) {
        expiry("server", info.not_after.timestamp());
    }
    Ok(())
}
