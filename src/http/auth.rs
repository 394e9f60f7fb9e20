//! Who is calling, and may they? Extractors that name the needed permission in the
//! handler's signature: `Staff<need::UsersManage>` for the API, `Page<need::AuditRead>`
//! for console pages, `Open` for public and appliance routes. Each route's registration
//! in the route table (`http::routing`) says the same, and `routing::check` holds the two
//! together. The extractors also hand the handler its context (`http::context`).

use super::context::Open;
use super::problem::{ApiError, refusal};
use super::routing::{Access, Demands};
use super::state::{AppState, blocking};
use super::ui::reject::UiReject;
use crate::domain::permissions::Permission;
use crate::error::{ErrorCode, Problem};
use crate::service::tenants::Tenant;
use crate::service::{Principal, ServiceError, auth, secrets};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::{DateTime, Utc};
use futures_util::future::{Ready, ready};
use std::marker::PhantomData;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "licd_session";
pub const PRELOGIN_COOKIE: &str = "licd_prelogin";
/// Marks a client that signed in to an account before (see `service::device_cookies`).
pub const DEVICE_COOKIE: &str = "licd_device";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf";

/// What a staff route needs of its caller, as a type for `Staff<N>` and `Page<N>`.
pub trait Need: 'static {
    /// One of the staff kinds of `Access`.
    const ACCESS: Access;
}

pub mod need {
    use super::{Access, Need, Permission};

    /// Any signed-in staff member who has set their own password.
    pub struct SignedIn;
    impl Need for SignedIn {
        const ACCESS: Access = Access::SignedIn;
    }

    /// Any signed-in staff member, even one who must still change a one-time password.
    pub struct PendingPasswordOk;
    impl Need for PendingPasswordOk {
        const ACCESS: Access = Access::PendingPasswordOk;
    }

    macro_rules! needs {
        ($($name:ident),* $(,)?) => {$(
            #[doc = concat!("Needs `", stringify!($name), "`.")]
            pub struct $name;
            impl Need for $name {
                const ACCESS: Access = Access::Permission(Permission::$name);
            }
        )*};
    }
    needs!(
        LicenseRead,
        LicenseIssue,
        LicenseRevoke,
        SigningManage,
        SettingsManage,
        UsersManage,
        AuditRead,
        OrgsManage,
        BillingManage,
        SweepRun,
    );
}

/// An authenticated caller in a tenant, and what its handler works with.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub tenant: Arc<Tenant>,
    /// The CSRF token for forms, when the caller uses a browser session.
    pub csrf: Option<String>,
    pub state: web::Data<AppState>,
    /// When the request is handled (the app's clock, read once).
    pub now: DateTime<Utc>,
}

/// Why a caller was not let through.
#[derive(Debug)]
pub enum Denied {
    Unauthenticated,
    PasswordChangeRequired,
    Forbidden(Permission),
    Failed(ServiceError),
}

impl Denied {
    pub fn problem(&self) -> Problem {
        match self {
            Denied::Unauthenticated => Problem::new(
                ErrorCode::Unauthenticated,
                "sign in, or send an API token as `Authorization: Bearer licd_...`",
            ),
            Denied::PasswordChangeRequired => Problem::new(
                ErrorCode::PasswordChangeRequired,
                "change the one-time password first (POST /api/v1/auth/password)",
            ),
            Denied::Forbidden(p) => Problem::new(
                ErrorCode::Forbidden,
                format!("this needs the {p} permission"),
            ),
            Denied::Failed(e) => e.problem(),
        }
    }
}

pub fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ServiceError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ServiceError::unexpected("application state missing"))
}

/// The tenant the request's Host routes to (picked and opened by
/// `middleware::tenant_routing`).
pub fn tenant_of(req: &HttpRequest, state: &AppState) -> Result<Arc<Tenant>, ServiceError> {
    if let Some(routed) = req
        .extensions()
        .get::<crate::http::middleware::tenant_routing::RoutedTenant>()
    {
        return Ok(routed.0.clone());
    }
    crate::service::tenant_domains::route(&state.app, req.connection_info().host())
}

/// The credential a request presents. An `Authorization` header, whatever it holds, is
/// the request's credential and the session cookie is then never looked at: only a
/// licd API token (`Bearer licd_...`) authenticates staff, and it needs no CSRF token.
/// Any other header (Basic, Negotiate, an appliance's `Bearer lact_...`, an empty one)
/// authenticates no staff member and skips nothing. Without the header, the session
/// cookie is the credential, and state-changing requests need the CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    ApiToken(String),
    OtherAuthorization,
    SessionCookie(String),
    Nothing,
}

pub fn presented(req: &HttpRequest) -> Presented {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|token| token.starts_with(secrets::API_TOKEN_PREFIX));
        return match token {
            Some(t) => Presented::ApiToken(t.to_owned()),
            None => Presented::OtherAuthorization,
        };
    }
    match cookie(req, SESSION_COOKIE) {
        Some(secret) => Presented::SessionCookie(secret),
        None => Presented::Nothing,
    }
}

/// The value of licd's cookie `base` (`SESSION_COOKIE`, ...), read under the name it is
/// set with (`__Host-` prefixed when cookies are `Secure`; the bare name is then ignored).
pub fn cookie(req: &HttpRequest, base: &str) -> Option<String> {
    let name = match req.app_data::<web::Data<AppState>>() {
        Some(state) => state.cookie_name(base),
        None => base.to_owned(),
    };
    req.cookie(&name).map(|c| c.value().to_owned())
}

/// The secret the CSRF token derives from: the session cookie, else the pre-login cookie.
pub fn csrf_basis(req: &HttpRequest) -> Option<String> {
    cookie(req, SESSION_COOKIE).or_else(|| cookie(req, PRELOGIN_COOKIE))
}

/// Authenticates a request by API token or session cookie (see `Presented`).
pub async fn identify(req: &HttpRequest) -> Result<Caller, Denied> {
    let state = state(req).map_err(Denied::Failed)?;
    let tenant = tenant_of(req, &state).map_err(Denied::Failed)?;
    let now = state.now();
    let (principal, csrf) = match presented(req) {
        Presented::ApiToken(token) => {
            let t = tenant.clone();
            let p = blocking(move || auth::token_principal(&t, now, &token)).await;
            (p.map_err(Denied::Failed)?, None)
        }
        Presented::SessionCookie(secret) => {
            let csrf = secrets::csrf_token(&secret);
            let t = tenant.clone();
            let p = blocking(move || auth::session_principal(&t, now, &secret)).await;
            (p.map_err(Denied::Failed)?, Some(csrf))
        }
        // Not a staff credential, and never a fallback to the cookie.
        Presented::OtherAuthorization | Presented::Nothing => (None, None),
    };
    let principal = principal.ok_or(Denied::Unauthenticated)?;
    req.extensions_mut()
        .insert(LoggedActor(principal.user.email.clone()));
    Ok(Caller {
        principal,
        tenant,
        csrf,
        state,
        now,
    })
}

/// Who the `authenticate` middleware found the caller to be, kept in the request's
/// extensions for the extractors.
#[derive(Debug, Clone)]
pub enum Identity {
    Caller(Caller),
    Anonymous,
    /// Looking the caller up failed (the problem to answer with).
    Failed(Problem),
}

/// Middleware: authenticates every request once, before any handler extractor runs, so
/// `Staff<N>` and `Page<N>` decide synchronously and a refusal (401/403) always comes
/// before body parsing (actix resolves a handler's extractors concurrently). On portal
/// paths it looks for a customer only, by the portal cookie (`customer_auth`): no staff
/// credential identifies anyone there, and the staff side never reads the portal cookie.
pub async fn authenticate(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if super::customer_auth::is_portal_path(req.path()) {
        let customer = super::customer_auth::identify(req.request()).await;
        req.extensions_mut().insert(customer);
        req.extensions_mut().insert(Identity::Anonymous);
        return next.call(req).await;
    }
    let path = req.path();
    if path.starts_with("/static/")
        || ["/healthz", "/readyz", "/ca.pem", "/metrics"].contains(&path)
    {
        req.extensions_mut().insert(Identity::Anonymous);
        return next.call(req).await;
    }
    let identity = match identify(req.request()).await {
        Ok(caller) => Identity::Caller(caller),
        Err(Denied::Failed(e)) => {
            if e.is_internal() {
                tracing::error!(error = %e.report(), "authentication failed");
            }
            Identity::Failed(e.problem())
        }
        Err(_) => Identity::Anonymous,
    };
    req.extensions_mut().insert(identity);
    next.call(req).await
}

/// The caller the middleware identified, or why there is none.
fn identified(req: &HttpRequest) -> Result<Caller, Denied> {
    match req.extensions().get::<Identity>() {
        Some(Identity::Caller(c)) => Ok(c.clone()),
        Some(Identity::Anonymous) => Err(Denied::Unauthenticated),
        Some(Identity::Failed(p)) => Err(Denied::Failed(ServiceError::Refused(p.clone()))),
        None => Err(Denied::Failed(ServiceError::unexpected(
            "the authenticate middleware did not run",
        ))),
    }
}

/// Applies a staff route's access to an authenticated caller.
pub fn admit(access: Access, caller: &Caller) -> Result<(), Denied> {
    // A pending one-time password blocks every credential alike: a token made while the
    // password was pending (e.g. `licd admin token create`) reaches only the routes that
    // let the owner change it.
    if caller.principal.user.must_change_password && access != Access::PendingPasswordOk {
        return Err(Denied::PasswordChangeRequired);
    }
    match access {
        Access::Permission(p) if !caller.principal.can(p) => Err(Denied::Forbidden(p)),
        _ => Ok(()),
    }
}

/// Whether a signed-in caller may use a route of this access (for what the console
/// shows, such as the navigation).
pub fn may_use(access: Access, principal: &Principal) -> bool {
    match access {
        Access::Permission(p) => principal.can(p),
        Access::SignedIn | Access::PendingPasswordOk | Access::Public => true,
        Access::MetricsToken
        | Access::Appliance(_)
        | Access::TenancyKey
        | Access::GatewaySigned
        | Access::Customer
        | Access::CustomerUnverified => false,
    }
}

/// The signed-in user's email, for the request log.
#[derive(Debug, Clone)]
pub struct LoggedActor(pub String);

/// An API caller that has the permission `N` names.
pub struct Staff<N: Need> {
    pub caller: Caller,
    _need: PhantomData<N>,
}

impl<N: Need> std::ops::Deref for Staff<N> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl<N: Need> FromRequest for Staff<N> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            identified(req)
                .and_then(|caller| admit(N::ACCESS, &caller).map(|()| caller))
                .map(|caller| Staff {
                    caller,
                    _need: PhantomData,
                })
                .map_err(|d| ApiError(d.problem())),
        )
    }
}

impl<N: Need> Demands for Staff<N> {
    fn demands(out: &mut Vec<Access>) {
        out.push(N::ACCESS);
    }
}

/// A console page visitor that has the permission `N` names. Refusals become a redirect
/// to the login (or password) page, or an HTML error page.
pub struct Page<N: Need> {
    pub caller: Caller,
    _need: PhantomData<N>,
}

impl<N: Need> std::ops::Deref for Page<N> {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl<N: Need> FromRequest for Page<N> {
    type Error = UiReject;
    type Future = Ready<Result<Self, UiReject>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            identified(req)
                .and_then(|caller| admit(N::ACCESS, &caller).map(|()| caller))
                .map(|caller| Page {
                    caller,
                    _need: PhantomData,
                })
                .map_err(|d| UiReject::from_denied(req, d)),
        )
    }
}

impl<N: Need> Demands for Page<N> {
    fn demands(out: &mut Vec<Access>) {
        out.push(N::ACCESS);
    }
}

impl FromRequest for Open {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let open = state(req).and_then(|state| {
            Ok(Open {
                tenant: tenant_of(req, &state)?,
                now: state.now(),
                state,
            })
        });
        ready(open.map_err(|e| {
            if e.is_internal() {
                tracing::error!(error = %e, "request failed");
            }
            refusal(req, e.problem())
        }))
    }
}

/// `Open` demands nothing of the caller: the route (public or appliance) or the use case
/// decides.
impl Demands for Open {}
