//! Opening tenants on first use and closing idle ones, so that many tenants cost little
//! while nobody uses them. At start only `public` is open. Any other tenant opens when
//! something needs it (a request routed to it, a job that is due for it): its database
//! (schema upgraded then, by its own version), its signing keys unsealed, its own
//! license's stage assessed. A tenant unused for `tenancy.idle_close_minutes` and held
//! by nobody closes again; before it does, its expired sessions are removed and the time
//! its scheduled work is next due goes into the registry (`tenant_schedule`), so the
//! scheduler can tell "nothing due" for every closed tenant with one registry query.

use super::tenant::Tenant;
use super::tenants::{PUBLIC, Tenants};
use super::{Actor, Result, ServiceError, enterprise, keyring};
use crate::domain::customer::KEEP_EXPIRED_LINKS;
use crate::store::registry::{self, TenantState};
use crate::store::sweep_due::sweep_due;
use crate::store::{customer_links, customer_sessions, sessions, tenant_schedule};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

/// A closed tenant's scheduled work (heartbeat retention, session cleanup, the sweep)
/// runs at least this often even when nothing in it is dated sooner.
pub const CLOSED_TENANT_CHECK: Duration = Duration::hours(24);

impl Tenants {
    /// The ready tenant `schema_name`, opening it if it is closed; `None` if no ready
    /// tenant has that name.
    pub(super) fn open_ready(&self, schema_name: &str) -> Result<Option<Arc<Tenant>>> {
        if let Some(t) = self.get_open(schema_name) {
            return Ok(Some(t));
        }
        let _opening = self.opening.lock().unwrap_or_else(|p| p.into_inner());
        // Another caller may have opened it while this one waited.
        if let Some(t) = self.get_open(schema_name) {
            return Ok(Some(t));
        }
        let Some(row) = self
            .registry()
            .read(|tx| registry::find_tenant(tx, schema_name))?
            .filter(|r| r.state == TenantState::Ready)
        else {
            return Ok(None);
        };
        let kek = self.kek.get().ok_or_else(|| {
            ServiceError::unexpected("a tenant was needed before the key-encryption key was loaded")
        })?;
        let now = self.clock.now();
        let started = crate::metrics::Stopwatch::start();
        let t = Tenant::open_existing(self.data_dir(), row, self.opts())?;
        keyring::load(&t, kek, now)?;
        enterprise::refresh(&t, now, &Actor::System)?;
        // While it is open the registry no longer knows its schedule: if licd stops
        // without closing it, it is due at the next start.
        self.registry()
            .write(|tx| tenant_schedule::forget(tx, schema_name))?;
        t.touch(now);
        let t = Arc::new(t);
        self.insert_open(t.clone());
        tracing::debug!(tenant = %schema_name, took = ?started.elapsed(), "opened a tenant");
        Ok(Some(t))
    }

    /// Closes every tenant other than `public` that nothing holds and that was last used
    /// longer than `idle` before `now`; returns how many closed.
    pub fn close_idle(&self, now: DateTime<Utc>, idle: Duration) -> Result<usize> {
        let before = crate::domain::timestamp::earlier(now, idle);
        let candidates: Vec<String> = self
            .all()
            .iter()
            .filter(|t| t.schema_name != PUBLIC && t.unused_since(before))
            .map(|t| t.schema_name.clone())
            .collect();
        let mut closed = 0;
        for name in candidates {
            if self.close_if_unused(&name, now, |t| t.unused_since(before))? {
                closed += 1;
            }
        }
        Ok(closed)
    }

    /// Closes `schema_name` if it is open, not `public`, held by nobody else and `idle`
    /// says so: removes its expired sessions, records when its scheduled work is next
    /// due, checkpoints and closes its database.
    fn close_if_unused(
        &self,
        schema_name: &str,
        now: DateTime<Utc>,
        idle: impl Fn(&Tenant) -> bool,
    ) -> Result<bool> {
        if schema_name == PUBLIC {
            return Ok(false);
        }
        let _opening = self.opening.lock().unwrap_or_else(|p| p.into_inner());
        let Some(t) = self.take_if(schema_name, |t| Arc::strong_count(t) == 1 && idle(t)) else {
            return Ok(false);
        };
        t.db.write(|tx| {
            sessions::purge_expired(tx, now)?;
            customer_sessions::purge_expired(tx, now)?;
            customer_links::purge_expired(tx, now - KEEP_EXPIRED_LINKS)
        })?;
        self.record_schedule(&t, now)?;
        if let Err(e) = t.db.checkpoint() {
            tracing::warn!(tenant = %schema_name, error = %e, "checkpoint before closing failed");
        }
        drop(t);
        tracing::debug!(tenant = %schema_name, "closed an idle tenant");
        Ok(true)
    }

    /// Writes into the registry when `t`'s scheduled work is next due (see
    /// `next_due`).
    pub(super) fn record_schedule(&self, t: &Tenant, now: DateTime<Utc>) -> Result<()> {
        let mail = self.mail_wakes.load(std::sync::atomic::Ordering::Relaxed);
        let due = next_due(t, now, mail)?;
        self.registry()
            .write(|tx| tenant_schedule::set_due(tx, &t.schema_name, due))?;
        Ok(())
    }

    /// Runs `f` on every ready tenant, one at a time: open ones as they are, closed ones
    /// opened for the call and closed again after it (unless something else took them
    /// up meanwhile). Stops at the first error.
    pub fn each_tenant(&self, mut f: impl FnMut(&Arc<Tenant>) -> Result<()>) -> Result<()> {
        for name in self.ready_names()? {
            self.visit(&name, &mut f)?;
        }
        Ok(())
    }

    /// The schema_names of every ready tenant, open or closed (oldest first).
    pub fn ready_names(&self) -> Result<Vec<String>> {
        Ok(self
            .registry()
            .read(registry::list_tenants)?
            .into_iter()
            .filter(|r| r.state == TenantState::Ready)
            .map(|r| r.schema_name)
            .collect())
    }

    /// Runs `f` on the ready tenant `schema_name` (see `each_tenant`); `Ok(false)` if
    /// there is no such tenant.
    pub fn visit(
        &self,
        schema_name: &str,
        f: impl FnOnce(&Arc<Tenant>) -> Result<()>,
    ) -> Result<bool> {
        let was_open = self.get_open(schema_name).is_some();
        let Some(t) = self.open_ready(schema_name)? else {
            return Ok(false);
        };
        let outcome = f(&t);
        drop(t);
        if !was_open {
            self.close_if_unused(schema_name, self.clock.now(), |_| true)?;
        }
        outcome.map(|()| true)
    }

    /// The closed tenants whose scheduled work is due at `now` (one registry query; no
    /// tenant is opened).
    pub fn closed_and_due(&self, now: DateTime<Utc>) -> Result<Vec<String>> {
        let due = self.registry().read(|tx| tenant_schedule::due(tx, now))?;
        Ok(due.into_iter().filter(|name| !self.is_open(name)).collect())
    }

    /// Whether a closed tenant's pending email makes it due (`App::open` sets it when an
    /// SMTP server is configured).
    pub fn wake_for_mail(&self, on: bool) {
        self.mail_wakes
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Postpones a closed tenant's scheduled work (after it failed, so that it is not
    /// retried on every run).
    pub fn postpone(&self, schema_name: &str, until: DateTime<Utc>) -> Result<()> {
        self.registry()
            .write(|tx| tenant_schedule::set_due(tx, schema_name, until))?;
        Ok(())
    }

    /// How many tenants are open now, and how many are ready in all.
    pub fn open_counts(&self) -> Result<(usize, i64)> {
        let ready = self.registry().read(tenant_schedule::count_ready)?;
        Ok((self.all().len(), ready))
    }
}

/// When `t`'s scheduled work is next due, judged at `now`: the sweep's next dated
/// change (a second after it), within one sweep interval if something is re-examined on
/// every run (or overdue), the next attempt of a pending email when `mail` (an SMTP
/// server is configured), and within `CLOSED_TENANT_CHECK` in any case.
fn next_due(t: &Tenant, now: DateTime<Utc>, mail: bool) -> Result<DateTime<Utc>> {
    let s = t.settings();
    let every = Duration::seconds(i64::from(s.sweep_interval_secs));
    let d =
        t.db.read(|tx| sweep_due(tx, now, s.grace(), &s.timeline()))?;
    let mut due = now + CLOSED_TENANT_CHECK;
    if mail && let Some(at) = t.db.read(crate::store::outbox::next_attempt)? {
        due = due.min(at.max(now));
    }
    if d.every_run {
        due = due.min(now + every);
    }
    if let Some(at) = d.next_at {
        due = due.min(if at <= now {
            now + every
        } else {
            at + Duration::seconds(1)
        });
    }
    Ok(due)
}
