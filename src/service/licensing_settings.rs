//! Changing a tenant's licensing settings (they are loaded with the tenant, in
//! `tenant.rs`).

use super::tenant::{self, Tenant};
use super::{Actor, Result, ServiceError, audit};
use crate::domain::settings::LicensingSettings;
use chrono::{DateTime, Utc};
use serde_json::json;

pub fn update(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    new: LicensingSettings,
) -> Result<LicensingSettings> {
    new.validate()?;
    let old = tenant.settings();
    tenant
        .db
        .write(|tx| {
            tenant::write_settings(tx, &new)?;
            audit::record(
                tx,
                now,
                actor,
                "settings.update",
                "settings:licensing",
                json!({"from": old, "to": new}),
            )?;
            // Taken up before the commit, while the writer is held: the commit makes
            // the schema forget every assessment a heartbeat would reuse (step 19),
            // and no heartbeat may then make one with the old settings.
            tenant.set_settings(new);
            Ok::<_, ServiceError>(())
        })
        .inspect_err(|_| tenant.set_settings(old))?;
    Ok(new)
}
