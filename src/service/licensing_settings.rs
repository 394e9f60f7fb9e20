//! Reading and changing a tenant's licensing settings.

use super::tenants::Tenant;
use super::{Actor, Result, audit};
use crate::domain::settings::LicensingSettings;
use crate::store::{Db, StoreError, settings};
use chrono::{DateTime, Utc};
use serde_json::json;

const KEY: &str = "licensing";

pub fn load(db: &Db) -> Result<LicensingSettings> {
    match db.read(|tx| settings::get(tx, KEY))? {
        None => Ok(LicensingSettings::default()),
        Some(s) => Ok(serde_json::from_str(&s).map_err(|_| StoreError::Corrupt {
            column: "settings.licensing",
            value: s,
        })?),
    }
}

pub fn update(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    new: LicensingSettings,
) -> Result<LicensingSettings> {
    new.validate()?;
    let old = tenant.settings();
    let text =
        serde_json::to_string(&new).map_err(|e| super::ServiceError::Internal(e.to_string()))?;
    tenant.db.write(|tx| {
        settings::put(tx, KEY, &text)?;
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
