//! Who is calling on the customer portal. A customer is identified only on `/portal`
//! paths and only from the portal cookie (`licd_portal`, `__Host-licd_portal` over
//! HTTPS): never from an `Authorization` header, never from the staff session cookie.
//! The staff side, in turn, never reads the portal cookie (`http::auth`). So a staff
//! credential is nobody on the portal, and a customer's cookie is nobody on the console
//! and the API.
//!
//! Extractors name what a portal route needs in the handler's signature, like the staff
//! ones: `Customer` (signed in, enabled, address verified) and `CustomerPending`
//! (signed in and enabled; verification may be pending: the "check your email" page,
//! resending the link, signing out). `routing::check` holds each portal route's
//! registration (`Access::Customer`, `Access::CustomerUnverified`) to its extractor.
//! Refusals are HTML: to the portal's sign-in page, or to the portal's home while the
//! address is unverified.

use super::auth::{LoggedActor, PRELOGIN_COOKIE, cookie, state, tenant_of};
use super::context::Context;
use super::routing::{Access, Demands, page_of};
use super::state::{AppState, blocking, password_work};
use super::ui::reject::UiReject;
use crate::error::{ErrorCode, Problem};
use crate::service::portal_auth::{self, CustomerPrincipal};
use crate::service::tenants::Tenant;
use crate::service::{self, Actor, ServiceError, secrets};
use actix_web::dev::Payload;
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, Utc};
use futures_util::future::{Ready, ready};
use std::sync::Arc;

/// The portal session cookie (Path=/, HttpOnly, SameSite=Lax, Secure and `__Host-`
/// prefixed over HTTPS).
pub const PORTAL_COOKIE: &str = "licd_portal";
/// The portal's device cookie (see `service::device_cookies`), apart from the staff one.
pub const PORTAL_DEVICE_COOKIE: &str = "licd_portal_device";

/// Whether a path belongs to the portal.
pub fn is_portal_path(path: &str) -> bool {
    path == "/portal" || path.starts_with("/portal/")
}

/// The secret a portal form's CSRF token derives from: the portal cookie, else the
/// pre-login cookie (never the staff session cookie).
pub fn portal_csrf_basis(req: &HttpRequest) -> Option<String> {
    cookie(req, PORTAL_COOKIE).or_else(|| cookie(req, PRELOGIN_COOKIE))
}

/// A signed-in customer in a tenant, and what its handler works with.
#[derive(Debug, Clone)]
pub struct CustomerCaller {
    pub principal: CustomerPrincipal,
    pub tenant: Arc<Tenant>,
    /// The CSRF token for the portal's forms.
    pub csrf: String,
    pub state: web::Data<AppState>,
    /// When the request is handled (the app's clock, read once).
    pub now: DateTime<Utc>,
}

/// A customer's use case: the surroundings, and who acts.
#[derive(Debug, Clone)]
pub struct CustomerContext {
    pub cx: Context,
    pub actor: Actor,
    pub principal: CustomerPrincipal,
}

impl std::ops::Deref for CustomerContext {
    type Target = Context;
    fn deref(&self) -> &Context {
        &self.cx
    }
}

impl CustomerCaller {
    pub fn context(&self) -> CustomerContext {
        CustomerContext {
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
        F: FnOnce(&CustomerContext) -> service::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let cx = self.context();
        blocking(move || f(&cx)).await
    }

    /// Runs a use case that hashes a password on the password workers.
    pub async fn run_password<T, F>(&self, f: F) -> service::Result<T>
    where
        F: FnOnce(&CustomerContext) -> service::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let cx = self.context();
        password_work(&self.state, move || f(&cx)).await
    }
}

/// Who the `authenticate` middleware found on a portal path, kept in the request's
/// extensions for the extractors.
#[derive(Debug, Clone)]
pub enum PortalIdentity {
    Customer(CustomerCaller),
    Anonymous,
    /// Looking the caller up failed (the problem to answer with).
    Failed(Problem),
}

/// Identifies the customer behind the portal cookie (called by `auth::authenticate` on
/// portal paths only).
pub async fn identify(req: &HttpRequest) -> PortalIdentity {
    let found = async {
        let state = state(req)?;
        let tenant = tenant_of(req, &state)?;
        let Some(secret) = cookie(req, PORTAL_COOKIE) else {
            return Ok(None);
        };
        let now = state.now();
        let csrf = secrets::csrf_token(&secret);
        let t = tenant.clone();
        let principal = blocking(move || portal_auth::session_principal(&t, now, &secret)).await?;
        Ok::<_, ServiceError>(principal.map(|principal| CustomerCaller {
            principal,
            tenant,
            csrf,
            state,
            now,
        }))
    };
    match found.await {
        Ok(Some(caller)) => {
            req.extensions_mut().insert(LoggedActor(format!(
                "customer:{}",
                caller.principal.customer.email
            )));
            PortalIdentity::Customer(caller)
        }
        Ok(None) => PortalIdentity::Anonymous,
        Err(e) => {
            if e.is_internal() {
                tracing::error!(error = %e.report(), "portal authentication failed");
            }
            PortalIdentity::Failed(e.problem())
        }
    }
}

/// The signed-in customer of this request, if any (pages anyone may open use it to
/// show who is signed in).
pub fn signed_in(req: &HttpRequest) -> Option<CustomerCaller> {
    match req.extensions().get::<PortalIdentity>() {
        Some(PortalIdentity::Customer(c)) => Some(c.clone()),
        _ => None,
    }
}

/// The portal's sign-in page, coming back afterwards to the page the visitor was on
/// (for a form post, the page the form is on), and saying the session ended when the
/// request came with a portal cookie that no longer works.
pub fn sign_in_again(req: &HttpRequest) -> String {
    let next = if req.method() == Method::GET {
        req.uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/portal/".into())
    } else {
        page_of(req.path())
    };
    let mut params = vec![("next", next.as_str())];
    if cookie(req, PORTAL_COOKIE).is_some() {
        params.push(("notice", "session_ended"));
    }
    let q = serde_urlencoded::to_string(params).unwrap_or_default();
    format!("/portal/login?{q}")
}

/// The caller a portal route admits with `access`, or how it is refused.
fn admit(req: &HttpRequest, access: Access) -> Result<CustomerCaller, UiReject> {
    let caller = match req.extensions().get::<PortalIdentity>() {
        Some(PortalIdentity::Customer(c)) => c.clone(),
        Some(PortalIdentity::Anonymous) => return Err(UiReject::Redirect(sign_in_again(req))),
        Some(PortalIdentity::Failed(p)) => return Err(UiReject::problem(p, "/portal/")),
        None => {
            return Err(ServiceError::unexpected("the authenticate middleware did not run").into());
        }
    };
    if access == Access::Customer && !caller.principal.customer.verified {
        if req.method() == Method::GET {
            return Err(UiReject::Redirect("/portal/".into()));
        }
        return Err(UiReject::Page {
            status: StatusCode::FORBIDDEN,
            title: ErrorCode::EmailNotVerified.title().into(),
            message: "Verify your email address first: open the link we emailed you. Nothing was changed."
                .into(),
            back: "/portal/".into(),
        });
    }
    Ok(caller)
}

macro_rules! customer_extractor {
    ($(#[$doc:meta])* $name:ident, $access:expr) => {
        $(#[$doc])*
        pub struct $name {
            pub caller: CustomerCaller,
        }

        impl std::ops::Deref for $name {
            type Target = CustomerCaller;
            fn deref(&self) -> &CustomerCaller {
                &self.caller
            }
        }

        impl FromRequest for $name {
            type Error = UiReject;
            type Future = Ready<Result<Self, UiReject>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(admit(req, $access).map(|caller| $name { caller }))
            }
        }

        impl Demands for $name {
            fn demands(out: &mut Vec<Access>) {
                out.push($access);
            }
        }
    };
}

customer_extractor!(
    /// A signed-in, enabled customer whose address is verified.
    Customer,
    Access::Customer
);
customer_extractor!(
    /// A signed-in, enabled customer, verified or not.
    CustomerPending,
    Access::CustomerUnverified
);
