//! The route table. Every route licd serves is registered once, with what it needs of its
//! caller (`Access`), whether it works in read-only mode (`ReadOnly`) and, for console
//! pages, its navigation entry. From that one table come:
//!
//! - the actix routes, with 405 and `Allow` for methods a path does not serve;
//! - the check that each handler's extractor demands what its registration says
//!   (`check`: at startup, and in a unit test);
//! - the read-only middleware (`http::middleware::read_only`);
//! - the OpenAPI `security` of each operation (`http::openapi`);
//! - the console navigation (`http::ui::chrome`);
//! - the route × role × read-only matrix in `tests/it/permissions.rs`, which fails for a
//!   registered route it has no sample request for.
//!
//! The table itself is `http::routes()`, built from `api::routes` and `ui::routes`.

use super::problem::problem_response;
use super::ui::reject::error_page;
use crate::domain::permissions::Permission;
use crate::error::{ErrorCode, Problem};
use actix_web::dev::ResourceDef;
use actix_web::http::{Method, StatusCode, header};
use actix_web::{FromRequest, Handler, HttpRequest, Responder, web};
use std::fmt;
use std::sync::OnceLock;

/// Which side of licd a route belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Surface {
    /// Machine-facing: the JSON API, health, CA and key endpoints. The OpenAPI document
    /// must describe every such route. Refusals are `application/problem+json`.
    Api,
    /// A console page (HTML and form posts); not part of the API reference. Refusals are
    /// HTML pages.
    Console,
    /// A page of the customer portal under `/portal` (HTML and form posts), for
    /// customers (`Access::Customer`, `Access::CustomerUnverified`) or anyone; never for
    /// staff credentials. Refusals are HTML pages.
    Portal,
}

impl Surface {
    /// Whether refusals on this surface are HTML pages (the console and the portal).
    pub fn is_html(self) -> bool {
        matches!(self, Surface::Console | Surface::Portal)
    }
}

/// What a route needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Anyone: health, the sign-in page and endpoint, the API reference, public keys,
    /// static files.
    Public,
    /// `/metrics`: loopback clients, or the metrics token (checked by the handler).
    MetricsToken,
    /// An appliance, proving itself with a secret of its own (checked by the service);
    /// never a staff credential.
    Appliance(Proof),
    /// Any signed-in staff member, even one who must still change a one-time password.
    PendingPasswordOk,
    /// Any signed-in staff member who has set their own password.
    SignedIn,
    /// A signed-in staff member whose role holds this permission.
    Permission(Permission),
    /// A tenancy API key (`tenancy.api_key_file`, `tenancy.api_key`), demanded by the
    /// `Tenancy` extractor; never a staff credential. 404 while tenancy is off.
    TenancyKey,
    /// A signed-in, enabled customer whose email address is verified (the portal's
    /// `Customer` extractor); never a staff credential.
    Customer,
    /// A signed-in, enabled customer whose address may still be unverified (the portal's
    /// `CustomerPending` extractor): the "check your email" page, resending the link,
    /// signing out.
    CustomerUnverified,
    /// The vendor's payment gateway: a body signed with a secret of
    /// `billing.gateway_secret_file` (`Licd-Signature`), checked by the `GatewaySigned`
    /// extractor; never a staff credential. 404 while no secret is configured.
    GatewaySigned,
}

/// How an appliance route's caller proves itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proof {
    /// The license key, in the body (activation).
    LicenseKey,
    /// The activation secret as a bearer token, or the client certificate (heartbeats).
    ActivationSecret,
    /// A provisioning token, in the body.
    ProvisioningToken,
}

impl Access {
    /// Whether the route is for staff (and so authenticated by `Staff<N>` / `Page<N>`).
    pub fn is_staff(self) -> bool {
        matches!(
            self,
            Access::PendingPasswordOk | Access::SignedIn | Access::Permission(_)
        )
    }

    /// Whether the route is for customers (and so authenticated by `Customer` /
    /// `CustomerPending`, on the portal only).
    pub fn is_customer(self) -> bool {
        matches!(self, Access::Customer | Access::CustomerUnverified)
    }

    /// The permission it needs, if any.
    pub fn permission(self) -> Option<Permission> {
        match self {
            Access::Permission(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Access::Public => f.write_str("public"),
            Access::MetricsToken => f.write_str("the metrics token"),
            Access::Appliance(p) => write!(f, "an appliance ({p:?})"),
            Access::PendingPasswordOk => f.write_str("any staff member (password pending ok)"),
            Access::SignedIn => f.write_str("any signed-in staff member"),
            Access::Permission(p) => write!(f, "the {p} permission"),
            Access::TenancyKey => f.write_str("a tenancy API key"),
            Access::Customer => f.write_str("a verified customer"),
            Access::CustomerUnverified => {
                f.write_str("a signed-in customer (verification may be pending)")
            }
            Access::GatewaySigned => f.write_str("a body signed with a gateway secret"),
        }
    }
}

/// The groups of the console navigation, in the order they are shown. A group with no
/// page the user may open is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NavGroup {
    /// The appliances out there: dashboard, installations, heartbeats.
    Fleet,
    /// Licenses and what makes them: provisioning, signing keys, licensing settings.
    Licensing,
    /// The vendor's customers: their accounts and organizations.
    Customers,
    /// Invoices, payments and the price list.
    Billing,
    /// licd itself: staff, API tokens, TLS, its own license, the audit log.
    Administration,
}

impl NavGroup {
    pub const ALL: [NavGroup; 5] = [
        NavGroup::Fleet,
        NavGroup::Licensing,
        NavGroup::Customers,
        NavGroup::Billing,
        NavGroup::Administration,
    ];

    /// The heading shown above the group's links.
    pub fn label(self) -> &'static str {
        match self {
            NavGroup::Fleet => "Fleet",
            NavGroup::Licensing => "Licensing",
            NavGroup::Customers => "Customers",
            NavGroup::Billing => "Billing",
            NavGroup::Administration => "Administration",
        }
    }

    /// A stable name for HTML ids and tests.
    pub fn id(self) -> &'static str {
        match self {
            NavGroup::Fleet => "fleet",
            NavGroup::Licensing => "licensing",
            NavGroup::Customers => "customers",
            NavGroup::Billing => "billing",
            NavGroup::Administration => "administration",
        }
    }
}

/// A page's entry in the console navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nav {
    pub group: NavGroup,
    pub label: &'static str,
}

/// Whether a route works while licd's own license holds it read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadOnly {
    /// Changes nothing (GET): always works.
    Read,
    /// Changes something: refused with `license_read_only`.
    Write,
    /// Changes something, and keeps working: signing in and out, one's password, licd's
    /// own licenses, user changes, revoking credentials of every kind, and what
    /// appliances call (the fleet is never held hostage by the vendor's own license).
    AllowedInReadOnly,
}

/// A registered route: what the table says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub surface: Surface,
    pub method: &'static str,
    /// actix syntax (`/api/v1/users/{id}`), which is OpenAPI's too.
    pub path: &'static str,
    pub access: Access,
    pub read_only: ReadOnly,
    /// The console navigation entry (GET pages only).
    pub nav: Option<Nav>,
    /// What the handler's extractors demand (`Staff<N>`, `Page<N>`, `Tenancy`), for `check`.
    pub demanded: Vec<Access>,
}

/// What an extractor demands of the caller: `Staff<N>` and `Page<N>` demand `N`'s
/// access, `Tenancy` a tenancy API key, `GatewaySigned` a gateway signature, every other
/// extractor nothing. A handler can only be registered when each of
/// its extractors says (so a new kind of extractor must be thought about here).
pub trait Demands {
    fn demands(_out: &mut Vec<Access>) {}
}

impl Demands for () {}
impl Demands for HttpRequest {}
impl<T> Demands for web::Path<T> {}
impl<T> Demands for web::Json<T> {}
impl<T> Demands for web::Form<T> {}
impl<T> Demands for web::Query<T> {}
impl<T> Demands for super::optional_json::OptionalJson<T> {}

macro_rules! tuple_demands {
    ($($t:ident),+) => {
        impl<$($t: Demands),+> Demands for ($($t,)+) {
            fn demands(out: &mut Vec<Access>) {
                $($t::demands(out);)+
            }
        }
    };
}
tuple_demands!(A);
tuple_demands!(A, B);
tuple_demands!(A, B, C);
tuple_demands!(A, B, C, D);
tuple_demands!(A, B, C, D, E);
tuple_demands!(A, B, C, D, E, F);

type MakeRoute = Box<dyn Fn() -> actix_web::Route>;

struct Entry {
    route: Route,
    make: MakeRoute,
}

/// The route table being built (see the module documentation).
#[derive(Default)]
pub struct Routes {
    entries: Vec<Entry>,
}

impl Routes {
    /// A machine-facing path (documented in the OpenAPI reference).
    pub fn api(&mut self, path: &'static str) -> PathRoutes<'_> {
        self.at(path, Surface::Api)
    }

    /// A console path.
    pub fn page(&mut self, path: &'static str) -> PathRoutes<'_> {
        self.at(path, Surface::Console)
    }

    /// A customer portal path (under `/portal`).
    pub fn portal(&mut self, path: &'static str) -> PathRoutes<'_> {
        self.at(path, Surface::Portal)
    }

    fn at(&mut self, path: &'static str, surface: Surface) -> PathRoutes<'_> {
        PathRoutes {
            routes: self,
            path,
            surface,
            nav: None,
        }
    }

    /// What the table says about each route, in registration order.
    pub fn list(&self) -> Vec<Route> {
        self.entries.iter().map(|e| e.route.clone()).collect()
    }

    /// Registers every route with actix, one resource per path (in the order the paths
    /// first appear, which is the order actix matches them in), each answering the
    /// methods it does not serve with 405 and `Allow`.
    pub fn configure(self, cfg: &mut web::ServiceConfig) {
        let mut paths: Vec<(&'static str, Surface, Vec<Entry>)> = Vec::new();
        for e in self.entries {
            match paths.iter_mut().find(|(p, _, _)| *p == e.route.path) {
                Some((_, _, list)) => list.push(e),
                None => paths.push((e.route.path, e.route.surface, vec![e])),
            }
        }
        for (path, surface, entries) in paths {
            let allow = entries
                .iter()
                .map(|e| e.route.method)
                .collect::<Vec<_>>()
                .join(", ");
            let mut resource = web::resource(path);
            for e in &entries {
                resource = resource.route((e.make)());
            }
            cfg.service(resource.default_service(web::to(move || {
                let allow = allow.clone();
                async move { method_not_allowed(surface, &allow) }
            })));
        }
    }
}

fn method_not_allowed(surface: Surface, allow: &str) -> actix_web::HttpResponse {
    let mut resp = match surface {
        Surface::Api => problem_response(&Problem::new(
            ErrorCode::MethodNotAllowed,
            format!("this route answers {allow}"),
        )),
        Surface::Console | Surface::Portal => error_page(
            StatusCode::METHOD_NOT_ALLOWED,
            "Not here",
            &format!("This address answers {allow} only."),
            if surface == Surface::Portal {
                "/portal/"
            } else {
                "/"
            },
        ),
    };
    if let Ok(v) = header::HeaderValue::from_str(allow) {
        resp.headers_mut().insert(header::ALLOW, v);
    }
    resp
}

/// The routes of one path.
pub struct PathRoutes<'a> {
    routes: &'a mut Routes,
    path: &'static str,
    surface: Surface,
    nav: Option<Nav>,
}

macro_rules! writes {
    ($name:ident, $method:literal, $actix:ident) => {
        #[doc = concat!("Registers `", $method, "` with its access and read-only class.")]
        pub fn $name<F, Args>(self, access: Access, read_only: ReadOnly, handler: F) -> Self
        where
            F: Handler<Args>,
            Args: FromRequest + Demands + 'static,
            F::Output: Responder + 'static,
        {
            self.add::<F, Args>($method, Method::$actix, access, read_only, handler)
        }
    };
}

impl PathRoutes<'_> {
    /// The navigation entry of this page (its GET route): its group and label.
    pub fn nav(mut self, group: NavGroup, label: &'static str) -> Self {
        self.nav = Some(Nav { group, label });
        self
    }

    /// Registers `GET` (which reads, so works in read-only mode) with its access.
    pub fn get<F, Args>(self, access: Access, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + Demands + 'static,
        F::Output: Responder + 'static,
    {
        self.add::<F, Args>("GET", Method::GET, access, ReadOnly::Read, handler)
    }

    writes!(post, "POST", POST);
    writes!(put, "PUT", PUT);
    writes!(patch, "PATCH", PATCH);
    writes!(delete, "DELETE", DELETE);

    fn add<F, Args>(
        self,
        method: &'static str,
        actix_method: Method,
        access: Access,
        read_only: ReadOnly,
        handler: F,
    ) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + Demands + 'static,
        F::Output: Responder + 'static,
    {
        let mut demanded = Vec::new();
        Args::demands(&mut demanded);
        let nav = if method == "GET" { self.nav } else { None };
        self.routes.entries.push(Entry {
            route: Route {
                surface: self.surface,
                method,
                path: self.path,
                access,
                read_only,
                nav,
                demanded,
            },
            make: Box::new(move || {
                web::route()
                    .method(actix_method.clone())
                    .to(handler.clone())
            }),
        });
        self
    }
}

/// What is wrong with a table, one line per problem: a handler whose extractor demands
/// something other than its registration says, a route registered twice, a navigation
/// entry on something that is not a console page. Empty when the table is sound.
pub fn check(routes: &[Route]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, r) in routes.iter().enumerate() {
        let at = format!("{} {}", r.method, r.path);
        if r.access.is_staff()
            || r.access.is_customer()
            || matches!(r.access, Access::TenancyKey | Access::GatewaySigned)
        {
            if r.demanded != [r.access] {
                let demanded: Vec<String> = r.demanded.iter().map(|a| a.to_string()).collect();
                problems.push(format!(
                    "{at} is registered as needing {} but its handler's extractors demand [{}]",
                    r.access,
                    demanded.join(", ")
                ));
            }
        } else if !r.demanded.is_empty() {
            let demanded: Vec<String> = r.demanded.iter().map(|a| a.to_string()).collect();
            problems.push(format!(
                "{at} is registered as {} but its handler demands [{}]",
                r.access,
                demanded.join(", ")
            ));
        }
        // Customers only on the portal; on the portal nobody but customers and anyone.
        if r.access.is_customer() != (r.surface == Surface::Portal)
            && !(r.surface == Surface::Portal && r.access == Access::Public)
        {
            problems.push(format!(
                "{at}: {} on the {:?} surface (customer routes are portal pages, and portal pages are for customers or anyone)",
                r.access, r.surface
            ));
        }
        if r.surface == Surface::Portal && !r.path.starts_with("/portal") {
            problems.push(format!("{at}: a portal page lives under /portal"));
        }
        if r.method == "GET" && r.read_only != ReadOnly::Read {
            problems.push(format!("{at}: a GET route must be ReadOnly::Read"));
        }
        if r.method != "GET" && r.read_only == ReadOnly::Read {
            problems.push(format!(
                "{at} changes something: register it as Write or AllowedInReadOnly"
            ));
        }
        if r.nav.is_some() && (r.surface != Surface::Console || r.path.contains('{')) {
            problems.push(format!(
                "{at}: only a console page without parameters can be in the navigation"
            ));
        }
        if routes[..i]
            .iter()
            .any(|o| o.method == r.method && o.path == r.path)
        {
            problems.push(format!("{at} is registered twice"));
        }
    }
    problems
}

/// The table, indexed by path the way actix matches it: the first path whose pattern
/// matches, then the method.
struct Index {
    paths: Vec<Path>,
}

/// One registered path and its routes. `literal` is the pattern up to its first
/// dynamic segment: a path that does not start with it cannot match, so most patterns
/// are passed over without running their regex (the middlewares look a request's route
/// up on every request, heartbeats included).
struct Path {
    literal: &'static str,
    def: ResourceDef,
    routes: Vec<Route>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut paths: Vec<Path> = Vec::new();
        for r in super::routes().list() {
            match paths.iter_mut().find(|p| p.def.pattern() == Some(r.path)) {
                Some(p) => p.routes.push(r),
                None => paths.push(Path {
                    literal: r.path.split('{').next().unwrap_or(""),
                    def: ResourceDef::new(r.path),
                    routes: vec![r],
                }),
            }
        }
        Index { paths }
    })
}

/// Every registered route, in registration order.
pub fn registered() -> Vec<Route> {
    index()
        .paths
        .iter()
        .flat_map(|p| p.routes.iter().cloned())
        .collect()
}

/// The routes registered for the path a request names (the resource actix routes it to).
fn routes_at(path: &str) -> Option<&'static [Route]> {
    index()
        .paths
        .iter()
        .find(|p| path.starts_with(p.literal) && p.def.is_match(path))
        .map(|p| p.routes.as_slice())
}

/// The route a request reaches, if one is registered.
pub fn lookup(method: &str, path: &str) -> Option<&'static Route> {
    routes_at(path)?.iter().find(|r| r.method == method)
}

/// The surface of the path a request names (whatever its method).
pub fn surface_of(path: &str) -> Option<Surface> {
    routes_at(path)?.first().map(|r| r.surface)
}

/// The console or portal page a form at `path` belongs to: the path itself when it is
/// a page, else the nearest page above it (`/users/7/role` → `/users`,
/// `/licensing/licenses/abc/revoke` → `/licensing/licenses/abc`); at the top `/`, or
/// `/portal/` for a portal path.
pub fn page_of(path: &str) -> String {
    let mut p = path.trim_end_matches('/');
    while !p.is_empty() {
        if lookup("GET", p).is_some_and(|r| r.surface.is_html()) {
            return p.to_owned();
        }
        p = match p.rfind('/') {
            Some(i) => &p[..i],
            None => "",
        };
    }
    if path == "/portal" || path.starts_with("/portal/") {
        "/portal/".to_owned()
    } else {
        "/".to_owned()
    }
}

/// The console navigation: every page with an entry, in table order (`ui::chrome`
/// groups them by `NavGroup`).
pub fn navigation() -> impl Iterator<Item = &'static Route> {
    index()
        .paths
        .iter()
        .flat_map(|p| p.routes.iter())
        .filter(|r| r.nav.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every path of the table is found by lookup, at itself (each `{...}` filled in),
    /// whatever its literal start (the shortcut `routes_at` takes).
    #[test]
    fn every_route_is_found_at_its_own_path() {
        for r in registered() {
            let mut path = String::new();
            for (i, part) in r.path.split('{').enumerate() {
                match (i, part.split_once('}')) {
                    (0, _) | (_, None) => path.push_str(part),
                    (_, Some((_, rest))) => {
                        path.push_str("x1");
                        path.push_str(rest);
                    }
                }
            }
            let found = lookup(r.method, &path)
                .unwrap_or_else(|| panic!("{} {} ({path}) is not found", r.method, r.path));
            assert_eq!(found.path, r.path, "{} {path}", r.method);
        }
    }

    #[test]
    fn the_table_is_sound() {
        let problems = check(&crate::http::routes().list());
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn a_handler_that_demands_another_permission_is_caught() {
        use crate::http::auth::{Staff, need};
        async fn handler(_: Staff<need::AuditRead>) -> &'static str {
            ""
        }
        let mut t = Routes::default();
        t.api("/x")
            .get(Access::Permission(Permission::UsersManage), handler);
        t.api("/y").get(Access::Public, handler);
        t.api("/z")
            .get(Access::Permission(Permission::AuditRead), handler);
        let problems = check(&t.list());
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(
            problems[0].contains("GET /x is registered as needing the users.manage permission")
        );
        assert!(problems[1].contains("GET /y is registered as public"));
    }

    #[test]
    fn a_tenancy_route_needs_the_tenancy_extractor_and_only_it() {
        use crate::http::auth::{Staff, need};
        use crate::http::tenancy_key::Tenancy;
        async fn by_key(_: Tenancy) -> &'static str {
            ""
        }
        async fn by_staff(_: Staff<need::SettingsManage>) -> &'static str {
            ""
        }
        let mut t = Routes::default();
        t.api("/a").get(Access::TenancyKey, by_key);
        t.api("/b").get(Access::TenancyKey, by_staff);
        t.api("/c").get(Access::Public, by_key);
        t.api("/d")
            .get(Access::Permission(Permission::SettingsManage), by_key);
        let problems = check(&t.list());
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].starts_with("GET /b is registered as needing a tenancy API key"));
        assert!(problems[1].contains(
            "GET /c is registered as public but its handler demands [a tenancy API key]"
        ));
        assert!(
            problems[2]
                .starts_with("GET /d is registered as needing the settings.manage permission")
        );
    }

    #[test]
    fn a_gateway_route_needs_the_signature_extractor_and_only_it() {
        use crate::http::auth::{Staff, need};
        use crate::http::gateway_signed::GatewaySigned;
        async fn signed(_: GatewaySigned) -> &'static str {
            ""
        }
        async fn by_staff(_: Staff<need::BillingManage>) -> &'static str {
            ""
        }
        let mut t = Routes::default();
        t.api("/a")
            .post(Access::GatewaySigned, ReadOnly::AllowedInReadOnly, signed);
        t.api("/b")
            .post(Access::GatewaySigned, ReadOnly::AllowedInReadOnly, by_staff);
        t.api("/c")
            .post(Access::Public, ReadOnly::AllowedInReadOnly, signed);
        let problems = check(&t.list());
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(
            problems[0].starts_with(
                "POST /b is registered as needing a body signed with a gateway secret"
            )
        );
        assert!(problems[1].contains("POST /c is registered as public but its handler demands"));
    }

    #[test]
    fn requests_find_their_route() {
        let r = lookup("POST", "/api/v1/licenses/abc/revoke").unwrap();
        assert_eq!(r.path, "/api/v1/licenses/{id}/revoke");
        assert_eq!(r.read_only, ReadOnly::AllowedInReadOnly);
        assert!(lookup("POST", "/api/v1/licenses//revoke").is_none());
        assert!(lookup("PUT", "/api/v1/licenses").is_none());
        assert_eq!(surface_of("/licensing/licenses/x"), Some(Surface::Console));
        assert_eq!(surface_of("/api/v1/users/1"), Some(Surface::Api));
        assert_eq!(surface_of("/nowhere"), None);
        assert_eq!(page_of("/users/7/role"), "/users");
        assert_eq!(
            page_of("/licensing/licenses/abc/revoke"),
            "/licensing/licenses/abc"
        );
        assert_eq!(page_of("/licensing/signing/k/retire"), "/licensing/signing");
        assert_eq!(page_of("/enterprise/licenses"), "/enterprise");
        assert_eq!(page_of("/tokens"), "/tokens");
        assert_eq!(page_of("/logout"), "/");
        assert_eq!(surface_of("/portal/account"), Some(Surface::Portal));
        assert_eq!(page_of("/portal/account/name"), "/portal/account");
        assert_eq!(page_of("/portal/nowhere/at/all"), "/portal");
    }

    #[test]
    fn customer_routes_take_the_customer_extractors_on_the_portal_only() {
        use crate::http::auth::{Staff, need};
        use crate::http::customer_auth::{Customer, CustomerPending};
        async fn verified(_: Customer) -> &'static str {
            ""
        }
        async fn pending(_: CustomerPending) -> &'static str {
            ""
        }
        async fn staff(_: Staff<need::OrgsManage>) -> &'static str {
            ""
        }
        async fn open() -> &'static str {
            ""
        }
        let mut t = Routes::default();
        t.portal("/portal/a").get(Access::Customer, verified);
        t.portal("/portal/b")
            .get(Access::CustomerUnverified, pending);
        t.portal("/portal/c").get(Access::Public, open);
        // A pending customer's extractor on a route for verified customers, and back.
        t.portal("/portal/d").get(Access::Customer, pending);
        t.portal("/portal/e")
            .get(Access::CustomerUnverified, verified);
        // A customer extractor on a staff or public route, a staff one on the portal.
        t.page("/f")
            .get(Access::Permission(Permission::OrgsManage), verified);
        t.portal("/portal/g").get(Access::Public, verified);
        t.portal("/portal/h")
            .get(Access::Permission(Permission::OrgsManage), staff);
        // Customer access off the portal, or a portal page outside /portal.
        t.page("/i").get(Access::Customer, verified);
        t.portal("/j").get(Access::Public, open);
        let problems = check(&t.list());
        let at = |p: &str| problems.iter().filter(|x| x.starts_with(p)).count();
        assert_eq!(problems.len(), 7, "{problems:#?}");
        for (path, n) in [
            ("GET /portal/d ", 1),
            ("GET /portal/e ", 1),
            ("GET /f ", 1),
            ("GET /portal/g ", 1),
            ("GET /portal/h", 1),
            ("GET /i", 1),
            ("GET /j", 1),
        ] {
            assert_eq!(at(path), n, "{path}: {problems:#?}");
        }
    }
}
