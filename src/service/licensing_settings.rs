//! Changing a tenant's licensing settings (they are loaded with the tenant, in
//! `tenant.rs`).

use super::tenant::{self, Tenant};
use super::{Actor, Result, audit};
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
    tenant.db.write(|tx| {
        tenant::write_settings(tx, &new)?;
        audit::record(
            tx,
            now,
            actor,
            "settings.update",
            "settings:licensing",
            json!({"from": old, "to": new}),
        )
    })?;
    tenant.set_settings(new);
    Ok(new)
}
