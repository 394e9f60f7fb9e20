//! The tenants this server hosts: the registry, opening every tenant, and routing of a
//! request's host name to its tenant (unknown hosts go to `public`). One tenant and what
//! it keeps in memory is `tenant.rs`.

use super::error::{Result, ServiceError};
use super::keyring;
use crate::pki::kek::Kek;
use crate::store::db::{Db, DbOptions};
use crate::store::layout::DataDir;
use crate::store::migrate::REGISTRY;
use crate::store::registry::{self, TenantRow, TenantState};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub use super::tenant::Tenant;

pub const PUBLIC: &str = "public";

#[derive(Debug)]
pub struct Tenants {
    data_dir: DataDir,
    opts: DbOptions,
    registry: Db,
    by_name: RwLock<HashMap<String, Arc<Tenant>>>,
    by_domain: RwLock<HashMap<String, String>>,
}

impl Tenants {
    /// Opens the data directory, creating it, the registry, the template and the
    /// `public` tenant on first use, and opens every ready tenant's database. A tenant
    /// whose creation was cut short (still `creating`: licd stopped half-way) has what
    /// it had made removed and is marked `failed`.
    pub fn open(data_dir: DataDir, opts: DbOptions, now: DateTime<Utc>) -> Result<Tenants> {
        data_dir.create_dirs()?;
        data_dir.rebuild_template()?;
        let registry = Db::open(&data_dir.registry_db(), &REGISTRY, opts)?;
        let mut rows = registry.read(registry::list_tenants)?;
        // Finishing or cleaning up what a stop cut short is for the one who holds the
        // data directory: not for `licd admin` or `licd tenant list` beside a running
        // server, which may be creating or deleting that tenant right now.
        let recovering = data_dir.try_lock()?;
        if recovering.is_none() {
            rows.retain(|r| r.state == TenantState::Ready);
        }
        for row in rows.iter_mut().filter(|r| r.state == TenantState::Creating) {
            data_dir.remove_tenant_data(&row.schema_name)?;
            let why = "licd stopped while creating it; what was made was removed at the next start";
            registry.write(|tx| {
                registry::set_state(tx, &row.schema_name, TenantState::Failed, Some(why))
            })?;
            tracing::warn!(tenant = %row.schema_name, "removed a tenant whose creation was cut short");
            row.state = TenantState::Failed;
        }
        for row in rows.iter_mut() {
            super::tenant_archive::recover(&data_dir, &registry, row, now)?;
        }
        rows.retain(|r| r.state == TenantState::Ready);
        drop(recovering);
        if !rows.iter().any(|t| t.schema_name == PUBLIC) {
            let public = TenantRow {
                schema_name: PUBLIC.into(),
                name: PUBLIC.into(),
                install_id: uuid::Uuid::new_v4().to_string(),
                created_at: now,
                state: TenantState::Ready,
                failure: None,
            };
            registry.write(|tx| registry::insert_tenant(tx, &public))?;
            tracing::info!(install_id = %public.install_id, "created the public tenant");
            rows.push(public);
        }
        let mut by_name = HashMap::new();
        for row in rows {
            let name = row.schema_name.clone();
            by_name.insert(name, Arc::new(Tenant::open(&data_dir, row, opts)?));
        }
        let by_domain = registry.read(registry::list_domains)?.into_iter().collect();
        Ok(Tenants {
            data_dir,
            opts,
            registry,
            by_name: RwLock::new(by_name),
            by_domain: RwLock::new(by_domain),
        })
    }

    /// Creates a tenant from the template: a row in state `creating`, its database (a
    /// copy of `template.db`), its files directory and its first signing key, then
    /// `ready`. If anything fails, what was made is removed and the row is `failed` with
    /// the reason; a crash half-way is cleaned up by the next `open`. A `failed` tenant
    /// of the same schema_name is replaced; any other is refused (`schema_name_taken`).
    pub fn create(
        &self,
        kek: &Kek,
        schema_name: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<Arc<Tenant>> {
        let row = TenantRow {
            schema_name: schema_name.to_owned(),
            name: name.to_owned(),
            install_id: uuid::Uuid::new_v4().to_string(),
            created_at: now,
            state: TenantState::Creating,
            failure: None,
        };
        self.registry.write(|tx| {
            match registry::find_tenant(tx, schema_name)? {
                Some(old) if old.state == TenantState::Failed => {
                    registry::delete_tenant(tx, schema_name)?
                }
                Some(_) => {
                    return Err(super::refuse(
                        crate::error::ErrorCode::SchemaNameTaken,
                        format!("schema_name: a tenant named {schema_name:?} exists already"),
                    ));
                }
                None => {}
            }
            registry::insert_tenant(tx, &row)?;
            Ok(())
        })?;
        let made = Tenant::open(&self.data_dir, row.clone(), self.opts).and_then(|t| {
            keyring::load(&t, kek, now)?;
            Ok(t)
        });
        match made {
            Ok(t) => {
                self.registry
                    .write(|tx| registry::set_state(tx, schema_name, TenantState::Ready, None))?;
                let t = Arc::new(t);
                self.by_name
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(schema_name.to_owned(), t.clone());
                Ok(t)
            }
            Err(e) => {
                tracing::error!(tenant = %schema_name, error = %e.report(), "creating a tenant failed");
                let why = format!("creating its database or signing key failed: {e}");
                self.data_dir.remove_tenant_data(schema_name)?;
                self.registry.write(|tx| {
                    registry::set_state(tx, schema_name, TenantState::Failed, Some(&why))
                })?;
                Err(e)
            }
        }
    }

    /// Stops routing to a tenant and drops it from the open tenants (deletion): its
    /// host names resolve as unknown hosts from now on. Returns it, so that the caller
    /// can wait for requests in flight to let go of it and close its database.
    pub fn forget(&self, schema_name: &str) -> Option<Arc<Tenant>> {
        self.by_domain
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, s| s != schema_name);
        self.by_name
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(schema_name)
    }

    /// Opens a tenant that is `ready` in the registry again (after restoring it):
    /// its database, its keys, and routing of its host names as the registry has them.
    pub fn reopen(&self, kek: &Kek, schema_name: &str, now: DateTime<Utc>) -> Result<Arc<Tenant>> {
        let (row, domains) = self.registry.read(|tx| {
            Ok::<_, ServiceError>((
                registry::find_tenant(tx, schema_name)?,
                registry::list_domains(tx)?,
            ))
        })?;
        let row = row
            .ok_or_else(|| ServiceError::unexpected("a restored tenant is not in the registry"))?;
        let t = Arc::new(Tenant::open(&self.data_dir, row, self.opts)?);
        keyring::load(&t, kek, now)?;
        self.by_name
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(schema_name.to_owned(), t.clone());
        *self.by_domain.write().unwrap_or_else(|p| p.into_inner()) = domains.into_iter().collect();
        Ok(t)
    }

    /// Whether any tenant holds sealed signing keys (then the KEK must exist).
    pub fn any_signing_keys(&self) -> Result<bool> {
        for t in self.all() {
            if t.db.read(crate::store::signing_keys::count)? > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Unseals every tenant's signing keys (making the first key where there is none).
    pub fn load_keys(&self, kek: &Kek, now: DateTime<Utc>) -> Result<()> {
        for t in self.all() {
            keyring::load(&t, kek, now)?;
        }
        Ok(())
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.data_dir
    }

    pub(super) fn registry(&self) -> &Db {
        &self.registry
    }

    pub fn get(&self, schema_name: &str) -> Option<Arc<Tenant>> {
        self.by_name
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(schema_name)
            .cloned()
    }

    pub fn public(&self) -> Result<Arc<Tenant>> {
        self.get(PUBLIC)
            .ok_or_else(|| ServiceError::unexpected("the public tenant is not open"))
    }

    /// The tenant a request's `Host` belongs to; hosts without a domain entry go to
    /// `public` (`tenant_domains::route` also applies `tenancy.unknown_hosts`).
    pub fn resolve(&self, host: &str) -> Result<Arc<Tenant>> {
        match self.by_domain(host) {
            Some(t) => Ok(t),
            None => self.public(),
        }
    }

    /// The tenant whose domain `host` is (port, case and trailing dot ignored), if any.
    pub fn by_domain(&self, host: &str) -> Option<Arc<Tenant>> {
        let name = host_name(host);
        let routed = self
            .by_domain
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&name)
            .cloned();
        routed.and_then(|schema| self.get(&schema))
    }

    /// Routes `domain` to `schema_name` from now on (`None`: stops routing it).
    pub fn set_route(&self, domain: &str, schema_name: Option<&str>) {
        let mut routes = self.by_domain.write().unwrap_or_else(|p| p.into_inner());
        match schema_name {
            Some(s) => routes.insert(domain.to_owned(), s.to_owned()),
            None => routes.remove(domain),
        };
    }

    /// Every open tenant.
    pub fn all(&self) -> Vec<Arc<Tenant>> {
        self.by_name
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Probes every database for readiness.
    pub fn probe(&self) -> Result<()> {
        self.registry.probe_writable()?;
        for t in self.all() {
            t.db.probe_writable()?;
        }
        Ok(())
    }

    /// Checkpoints every database (clean shutdown).
    pub fn checkpoint_all(&self) {
        let tenants = self.all();
        for db in std::iter::once(&self.registry).chain(tenants.iter().map(|t| &t.db)) {
            if let Err(e) = db.checkpoint() {
                tracing::warn!(db = %db.path().display(), error = %e, "checkpoint failed");
            }
        }
    }
}

/// `Example.org:8443` -> `example.org`; `[::1]:8080` -> `::1`.
pub fn host_name(host: &str) -> String {
    let h = host.trim();
    let h = if let Some(rest) = h.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        h.rsplit_once(':').map_or(h, |(name, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                name
            } else {
                h
            }
        })
    };
    h.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn host_names_lose_port_and_case() {
        assert_eq!(host_name("Example.org:8443"), "example.org");
        assert_eq!(host_name("example.org."), "example.org");
        assert_eq!(host_name("[::1]:8080"), "::1");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
    }
}
