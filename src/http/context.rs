//! What a handler works with, from its extractor: the app, the tenant the request's Host
//! routes to, the time the request is handled at and, for staff, who acts. And the one
//! way a handler runs a use case: `run` (the blocking pool) or `run_password` (the
//! password workers), off the async threads, with a `Context` the closure borrows.

use super::auth::Caller;
use super::state::{AppState, blocking, password_work};
use crate::service::tenants::Tenant;
use crate::service::{self, Actor, App, Principal};
use actix_web::web;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// A use case's surroundings: the app, the tenant, and the request's time.
#[derive(Debug, Clone)]
pub struct Context {
    pub app: Arc<App>,
    pub tenant: Arc<Tenant>,
    pub now: DateTime<Utc>,
}

/// A staff member's use case: the surroundings, and who acts.
#[derive(Debug, Clone)]
pub struct StaffContext {
    pub cx: Context,
    pub actor: Actor,
    pub principal: Principal,
}

impl std::ops::Deref for StaffContext {
    type Target = Context;
    fn deref(&self) -> &Context {
        &self.cx
    }
}

impl StaffContext {
    /// The acting staff member's account id.
    pub fn user_id(&self) -> i64 {
        self.principal.user.id
    }
}

/// Runs `f` on the blocking pool with a copy of `cx`.
async fn on_pool<C, T, F>(cx: C, f: F) -> service::Result<T>
where
    C: Send + 'static,
    F: FnOnce(&C) -> service::Result<T> + Send + 'static,
    T: Send + 'static,
{
    blocking(move || f(&cx)).await
}

impl Caller {
    /// The context a use case of this caller runs with.
    pub fn context(&self) -> StaffContext {
        StaffContext {
            cx: Context {
                app: self.state.app.clone(),
                tenant: self.tenant.clone(),
                now: self.now,
            },
            actor: self.principal.actor(),
            principal: self.principal.clone(),
        }
    }

    /// Runs a use case on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> service::Result<T>
    where
        F: FnOnce(&StaffContext) -> service::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        on_pool(self.context(), f).await
    }

    /// Runs a use case that hashes a password on the password workers (refused at once
    /// with `password_check_busy` when every worker is busy).
    pub async fn run_password<T, F>(&self, f: F) -> service::Result<T>
    where
        F: FnOnce(&StaffContext) -> service::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let cx = self.context();
        password_work(&self.state, move || f(&cx)).await
    }
}

/// A request on a route that is not for staff (public or appliance): the app, the tenant
/// the Host routes to, and the time.
#[derive(Debug, Clone)]
pub struct Open {
    pub state: web::Data<AppState>,
    pub tenant: Arc<Tenant>,
    pub now: DateTime<Utc>,
}

impl Open {
    pub fn context(&self) -> Context {
        Context {
            app: self.state.app.clone(),
            tenant: self.tenant.clone(),
            now: self.now,
        }
    }

    /// Runs a use case on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> service::Result<T>
    where
        F: FnOnce(&Context) -> service::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        on_pool(self.context(), f).await
    }

    /// Runs a use case that checks a password on the password workers.
    pub async fn run_password<T, F>(&self, f: F) -> service::Result<T>
    where
        F: FnOnce(&Context) -> service::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let cx = self.context();
        password_work(&self.state, move || f(&cx)).await
    }
}
