//! One tenant: its identity, its open database, and what it keeps in memory (signing
//! keys, licensing settings, its own license's stage). Opening a tenant's database and
//! loading its settings happen here; loading its keys is `keyring.rs`; the registry of
//! every tenant and host routing are in `tenants.rs`.

use super::error::{Result, ServiceError};
use crate::domain::settings::LicensingSettings;
use crate::domain::violation::Stage;
use crate::pki::keys::Jwks;
use crate::pki::{KeyPair, PublicKey};
use crate::store::db::{Db, DbOptions};
use crate::store::layout::DataDir;
use crate::store::registry::TenantRow;
use crate::store::{StoreError, WriteTx, settings};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

/// A tenant's signing keys in memory: the one that signs, and every key that verifies
/// (loaded by `keyring::load`).
#[derive(Debug)]
pub struct KeyRing {
    pub active: KeyPair,
    pub verifying: Vec<PublicKey>,
}

impl KeyRing {
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self.verifying.iter().map(PublicKey::to_jwk).collect(),
        }
    }
}

/// Where the licensing settings are kept (`settings` table).
const SETTINGS_KEY: &str = "licensing";

#[derive(Debug)]
pub struct Tenant {
    pub schema_name: String,
    /// Shown in its console's header; the tenancy API can rename it at any time.
    name: RwLock<String>,
    pub install_id: String,
    /// When the tenant was created (an additional tenant's license timeline starts here).
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Only use cases touch the database; the HTTP layer calls them.
    /// Shared so a queued group commit can outlive the request that queued it.
    pub(super) db: Arc<Db>,
    keys: RwLock<Option<Arc<KeyRing>>>,
    settings: RwLock<LicensingSettings>,
    /// The violation stage of this tenant's own license (read-only mode, banners).
    own_stage: RwLock<Stage>,
    /// When it was last handed out (Unix seconds by the app's clock): idle tenants close.
    last_used: AtomicI64,
}

impl Tenant {
    /// Opens the tenant's database (creating it from the template on first use) and
    /// loads its licensing settings. Its keys are loaded by `keyring::load`, once the
    /// KEK is at hand.
    pub(super) fn open(data_dir: &DataDir, row: TenantRow, opts: DbOptions) -> Result<Tenant> {
        let db = data_dir.create_tenant_db(&row.schema_name, opts)?;
        Tenant::with_db(db, row)
    }

    /// Opens an existing tenant's database (upgrading its schema if it is older), and
    /// loads its licensing settings; refuses if the database is missing.
    pub(super) fn open_existing(
        data_dir: &DataDir,
        row: TenantRow,
        opts: DbOptions,
    ) -> Result<Tenant> {
        let db = data_dir.open_tenant_db(&row.schema_name, opts)?;
        Tenant::with_db(db, row)
    }

    fn with_db(db: Db, row: TenantRow) -> Result<Tenant> {
        let db = Arc::new(db);
        let settings = load_settings(&db)?;
        Ok(Tenant {
            schema_name: row.schema_name,
            name: RwLock::new(row.name),
            install_id: row.install_id,
            created_at: row.created_at,
            db,
            keys: RwLock::new(None),
            settings: RwLock::new(settings),
            own_stage: RwLock::new(Stage::None),
            last_used: AtomicI64::new(i64::MIN),
        })
    }

    /// Its display name (as the registry holds it).
    pub fn name(&self) -> String {
        self.name.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Takes a new display name at once (after the registry has it).
    pub(super) fn set_name(&self, name: &str) {
        *self.name.write().unwrap_or_else(|p| p.into_inner()) = name.to_owned();
    }

    /// Notes a use at `now` (see `Tenants::close_idle`).
    pub(super) fn touch(&self, now: chrono::DateTime<chrono::Utc>) {
        self.last_used.fetch_max(now.timestamp(), Ordering::Relaxed);
    }

    /// Whether it was last used before `before`.
    pub(super) fn unused_since(&self, before: chrono::DateTime<chrono::Utc>) -> bool {
        self.last_used.load(Ordering::Relaxed) < before.timestamp()
    }

    /// The issuer (`iss`) of this tenant's license keys and leases.
    pub fn issuer(&self) -> String {
        format!("licd:{}", self.install_id)
    }

    pub fn keyring(&self) -> Result<Arc<KeyRing>> {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| {
                ServiceError::unexpected(format!(
                    "signing keys of tenant {} are not loaded",
                    self.schema_name
                ))
            })
    }

    pub(super) fn set_keyring(&self, ring: Arc<KeyRing>) {
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Some(ring);
    }

    pub fn settings(&self) -> LicensingSettings {
        *self.settings.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_settings(&self, s: LicensingSettings) {
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = s;
    }

    /// (group commits, heartbeats they carried) since the database was opened.
    pub fn group_commit_stats(&self) -> (u64, u64) {
        self.db.group_stats()
    }

    pub fn own_stage(&self) -> Stage {
        *self.own_stage.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn set_own_stage(&self, s: Stage) {
        *self.own_stage.write().unwrap_or_else(|p| p.into_inner()) = s;
    }
}

fn load_settings(db: &Db) -> Result<LicensingSettings> {
    match db.read(|tx| settings::get(tx, SETTINGS_KEY))? {
        None => Ok(LicensingSettings::default()),
        Some(s) => Ok(serde_json::from_str(&s).map_err(|_| StoreError::Corrupt {
            column: "settings.licensing",
            value: s,
        })?),
    }
}

/// Stores new licensing settings inside `tx`; `set_settings` after the commit.
pub(super) fn write_settings(tx: &WriteTx<'_>, s: &LicensingSettings) -> Result<()> {
    let text = serde_json::to_string(s)
        .map_err(|e| ServiceError::internal("encoding the licensing settings", e))?;
    settings::put(tx, SETTINGS_KEY, &text)?;
    Ok(())
}
