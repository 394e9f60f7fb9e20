//! The tenants this server hosts: the registry, the tenants that are open, and routing
//! of a request's host name to its tenant (unknown hosts go to `public`). Only `public`
//! is opened at start; any other tenant is opened on first use and closed when idle
//! (`tenant_opening.rs`). One tenant and what it keeps in memory is `tenant.rs`.

use super::error::{Result, ServiceError};
use super::keyring;
use crate::clock::Clock;
use crate::pki::kek::Kek;
use crate::store::db::{Db, DbOptions};
use crate::store::layout::DataDir;
use crate::store::migrate::REGISTRY;
use crate::store::registry::{self, TenantRow, TenantState};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

pub use super::tenant::Tenant;

pub const PUBLIC: &str = "public";

#[derive(Debug)]
pub struct Tenants {
    data_dir: DataDir,
    opts: DbOptions,
    registry: Db,
    /// The open tenants.
    by_name: RwLock<HashMap<String, Arc<Tenant>>>,
    by_domain: RwLock<HashMap<String, String>>,
    pub(super) clock: Arc<dyn Clock>,
    /// Unseals each tenant's signing keys when it opens (set by `unlock`).
    pub(super) kek: OnceLock<Arc<Kek>>,
    /// Held while a tenant opens or closes, so that each is open at most once.
    pub(super) opening: Mutex<()>,
    /// Whether a closed tenant's pending email makes it due (an SMTP server is
    /// configured; without one nothing would be sent, so nothing wakes it).
    pub(super) mail_wakes: std::sync::atomic::AtomicBool,
}

impl Tenants {
    /// Opens the data directory, creating it, the registry, the template and the
    /// `public` tenant on first use, and opens `public`'s database; every other tenant
    /// opens on first use. A tenant whose creation was cut short (still `creating`: licd
    /// stopped half-way) has what it had made removed and is marked `failed`. `unlock`
    /// must follow before tenants are used.
    pub fn open(data_dir: DataDir, opts: DbOptions, clock: Arc<dyn Clock>) -> Result<Tenants> {
        let now = clock.now();
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
        if let Some(row) = rows.into_iter().find(|r| r.schema_name == PUBLIC) {
            by_name.insert(
                PUBLIC.to_owned(),
                Arc::new(Tenant::open(&data_dir, row, opts)?),
            );
        }
        let by_domain = registry.read(registry::list_domains)?.into_iter().collect();
        Ok(Tenants {
            data_dir,
            opts,
            registry,
            by_name: RwLock::new(by_name),
            by_domain: RwLock::new(by_domain),
            clock,
            kek: OnceLock::new(),
            opening: Mutex::new(()),
            mail_wakes: std::sync::atomic::AtomicBool::new(false),
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
                t.touch(now);
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

    /// Stops routing to a tenant and drops it from the open tenants (deletion, after
    /// its registry row has left `ready`): its host names resolve as unknown hosts from
    /// now on, and the scheduler forgets it. Under the opening lock, so a request that is
    /// opening it right now either finishes first (and it is dropped here) or finds it
    /// no longer ready. Returns it if it was open, so that the caller can wait for
    /// requests in flight to let go of it and close its database.
    pub fn forget(&self, schema_name: &str) -> Result<Option<Arc<Tenant>>> {
        let _opening = self.opening.lock().unwrap_or_else(|p| p.into_inner());
        self.by_domain
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, s| s != schema_name);
        self.registry
            .write(|tx| crate::store::tenant_schedule::forget(tx, schema_name))?;
        Ok(self.take_if(schema_name, |_| true))
    }

    /// Serves a tenant that is `ready` in the registry again (after restoring it):
    /// routing of its host names as the registry has them, and the tenant opened.
    pub fn reopen(&self, schema_name: &str) -> Result<Arc<Tenant>> {
        let domains = self.registry.read(registry::list_domains)?;
        *self.by_domain.write().unwrap_or_else(|p| p.into_inner()) = domains.into_iter().collect();
        self.open_ready(schema_name)?.ok_or_else(|| {
            ServiceError::unexpected("a restored tenant is not ready in the registry")
        })
    }

    pub fn any_signing_keys(&self) -> Result<bool> {
        if self.public()?.db.read(crate::store::signing_keys::count)? > 0 {
            return Ok(true);
        }
        let ready = self
            .registry
            .read(crate::store::tenant_schedule::count_ready)?;
        Ok(ready > 1)
    }

    /// Hands over the key-encryption key: unseals the open tenants' signing keys (making
    /// the first key where there is none) and lets other tenants open.
    pub fn unlock(&self, kek: Arc<Kek>, now: DateTime<Utc>) -> Result<()> {
        for t in self.all() {
            keyring::load(&t, &kek, now)?;
        }
        self.kek
            .set(kek)
            .map_err(|_| ServiceError::unexpected("the tenants were unlocked twice"))
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.data_dir
    }

    pub(super) fn registry(&self) -> &Db {
        &self.registry
    }

    pub(super) fn opts(&self) -> DbOptions {
        self.opts
    }

    pub(super) fn insert_open(&self, t: Arc<Tenant>) {
        self.by_name
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(t.schema_name.clone(), t);
    }

    /// Removes an open tenant from the open ones if `close` says so, and returns it.
    pub(super) fn take_if(
        &self,
        schema_name: &str,
        close: impl FnOnce(&Arc<Tenant>) -> bool,
    ) -> Option<Arc<Tenant>> {
        let mut open = self.by_name.write().unwrap_or_else(|p| p.into_inner());
        if !close(open.get(schema_name)?) {
            return None;
        }
        open.remove(schema_name)
    }

    /// Whether the tenant is open now.
    pub fn is_open(&self, schema_name: &str) -> bool {
        self.by_name
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(schema_name)
    }

    /// A ready tenant, opened if it is not open (`None` if there is no ready tenant of
    /// that name, or it cannot be opened: that is logged).
    pub fn get(&self, schema_name: &str) -> Option<Arc<Tenant>> {
        match self.open_ready(schema_name) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(tenant = %schema_name, error = %e.report(), "a tenant could not be opened");
                None
            }
        }
    }

    /// The tenant if it is open now (never opens it).
    pub fn get_open(&self, schema_name: &str) -> Option<Arc<Tenant>> {
        let t = self
            .by_name
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(schema_name)
            .cloned()?;
        t.touch(self.clock.now());
        Some(t)
    }

    pub fn public(&self) -> Result<Arc<Tenant>> {
        self.get(PUBLIC)
            .ok_or_else(|| ServiceError::unexpected("the public tenant is not open"))
    }

    /// The tenant a request's `Host` belongs to, opened if need be; hosts without a
    /// domain entry go to `public` (`tenant_domains::route` also applies
    /// `tenancy.unknown_hosts`). A routed tenant that cannot be opened is an error,
    /// never a fall back to `public`.
    pub fn resolve(&self, host: &str) -> Result<Arc<Tenant>> {
        self.pick(host, true)?
            .ok_or_else(|| ServiceError::unexpected("a tenant was not opened"))
    }

    /// Like `resolve`, but only if the tenant is open now (`None`: `resolve` must open
    /// it, off the async executor). Never opens anything.
    pub fn resolve_open(&self, host: &str) -> Option<Arc<Tenant>> {
        self.pick(host, false).ok().flatten()
    }

    /// The schema_name of the tenant whose domain `host` is (port, case and trailing
    /// dot ignored), if any.
    pub fn domain_owner(&self, host: &str) -> Option<String> {
        self.by_domain
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&host_name(host))
            .cloned()
    }

    /// The routing rule, in one place for `resolve` and `resolve_open`. `Ok(None)` only
    /// when `may_open` is false and the tenant is closed.
    fn pick(&self, host: &str, may_open: bool) -> Result<Option<Arc<Tenant>>> {
        let routed = self.domain_owner(host);
        let schema = routed.as_deref().unwrap_or(PUBLIC);
        if let Some(t) = self.get_open(schema) {
            return Ok(Some(t));
        }
        if !may_open {
            return Ok(None);
        }
        match self.open_ready(schema)? {
            Some(t) => Ok(Some(t)),
            // Routed to a tenant that is no longer ready.
            None => self.public().map(Some),
        }
    }

    /// Routes `domain` to `schema_name` from now on (`None`: stops routing it).
    pub fn set_route(&self, domain: &str, schema_name: Option<&str>) {
        let mut routes = self.by_domain.write().unwrap_or_else(|p| p.into_inner());
        match schema_name {
            Some(s) => routes.insert(domain.to_owned(), s.to_owned()),
            None => routes.remove(domain),
        };
    }

    /// Every open tenant (`each_tenant` visits the closed ones too).
    pub fn all(&self) -> Vec<Arc<Tenant>> {
        self.by_name
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Probes the registry and every open database for readiness.
    pub fn probe(&self) -> Result<()> {
        self.registry.probe_writable()?;
        for t in self.all() {
            t.db.probe_writable()?;
        }
        Ok(())
    }

    /// Checkpoints every open database and records each open tenant's schedule (clean
    /// shutdown), so that the next start knows what is due without opening them.
    pub fn checkpoint_all(&self) {
        let tenants = self.all();
        let now = self.clock.now();
        for t in tenants.iter().filter(|t| t.schema_name != PUBLIC) {
            if let Err(e) = self.record_schedule(t, now) {
                tracing::warn!(tenant = %t.schema_name, error = %e.report(), "recording the schedule failed");
            }
        }
        for db in std::iter::once(&self.registry).chain(tenants.iter().map(|t| &*t.db)) {
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
