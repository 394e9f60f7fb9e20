//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 reference, generated from the handlers'
//! `#[utoipa::path]` attributes and the request and response types' `ToSchema` derives.
//!
//! Security: each operation's `security` comes from the route table (`http::routing`):
//! the permission a staff route needs is the scope of its bearer-token and session
//! requirements, and state-changing staff routes also need the CSRF header.
//!
//! Problem codes: each handler names the codes its own use case can answer
//! (`refusals!`); the codes every route of a kind shares (authentication, CSRF,
//! read-only mode, body parsing, internal errors) are added here by rule, from the
//! route table, the method and the parameters, so no route can forget them.
//! `tests/it/openapi.rs` holds the document to the routes that really exist.

use super::api::{
    appliance, audit, auth, billing, billing_gateway, billing_summary, customers, enterprise,
    heartbeats, installations, license_actions, license_keys, licenses, licensing_settings,
    offline, organizations, provisioning_tokens, signing_keys, subscriptions, sweep, tenants, tls,
    tokens, users,
};
use super::problem::{PROBLEM_JSON, ProblemBody};
use super::routing::{self, Access, Proof, ReadOnly, Route};
use super::{health, metrics};
use crate::error::ErrorCode;
use actix_web::HttpResponse;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use utoipa::openapi::example::{Example, ExampleBuilder};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi};

/// Names a handler's own refusals (beyond those every route of its kind shares) as a
/// type for `responses(...)` in `#[utoipa::path]`.
macro_rules! refusals {
    ($(#[$doc:meta])* $name:ident: $($code:ident),* $(,)?) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
            > {
                $crate::http::openapi::problem_responses(
                    &[$($crate::error::ErrorCode::$code),*],
                    None,
                )
            }
        }
    };
}
pub(crate) use refusals;

/// Security scheme names.
pub mod scheme {
    /// `Authorization: Bearer licd_...` (an API token).
    pub const BEARER_TOKEN: &str = "bearer_token";
    /// The `licd_session` cookie from `POST /api/v1/auth/login`.
    pub const SESSION_COOKIE: &str = "session_cookie";
    /// `X-CSRF-Token`, required with the session cookie on state-changing requests.
    pub const CSRF_TOKEN: &str = "csrf_token";
    /// An appliance's activation secret (`Bearer lact_...`).
    pub const ACTIVATION_SECRET: &str = "activation_secret";
    /// An appliance's client certificate (mTLS).
    pub const CLIENT_CERTIFICATE: &str = "client_certificate";
    /// `metrics.token`.
    pub const METRICS_TOKEN: &str = "metrics_token";
    /// A tenancy API key (`tenancy.api_key_file`, `tenancy.api_key`).
    pub const TENANCY_KEY: &str = "tenancy_key";
    /// `Licd-Signature`: the payment gateway's HMAC over the body.
    pub const GATEWAY_SIGNATURE: &str = "gateway_signature";
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "licd",
        version = env!("CARGO_PKG_VERSION"),
        description = "The JSON API of licd, the on-prem licensing server. Staff calls \
            authenticate with an API token (`Authorization: Bearer licd_...`) or the session \
            cookie plus `X-CSRF-Token`; appliances with their license key, activation secret, \
            client certificate or provisioning token. Refusals are RFC 7807 \
            `application/problem+json` bodies whose `code` is stable. See docs/api.md.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        auth::login,
        auth::logout,
        auth::change_password,
        auth::me,
        users::list,
        users::create,
        users::get,
        users::update,
        users::reset_password,
        customers::list,
        customers::get,
        customers::update,
        customers::reset_password,
        customers::resend_verification,
        users::service_tokens,
        users::create_service_token,
        users::revoke_service_token,
        tokens::list,
        tokens::create,
        tokens::revoke,
        audit::list,
        audit::export,
        tls::overview,
        licenses::issue,
        licenses::list,
        licenses::get,
        license_actions::revoke,
        license_actions::rebind,
        license_actions::suspend,
        license_actions::reinstate,
        license_actions::subscription,
        license_actions::directive,
        license_keys::renew,
        license_keys::change,
        license_keys::reissue,
        offline::activate,
        offline::release,
        offline::bundle,
        offline::ingest,
        offline::list,
        organizations::move_license,
        organizations::search,
        organizations::get,
        organizations::delete,
        billing::list,
        billing::create,
        billing::get,
        billing::lines,
        billing::finalize,
        billing::payment,
        billing::void,
        billing::credit_note,
        billing::get_price_list,
        billing::put_price_list,
        subscriptions::list,
        subscriptions::accept_purchase_order,
        billing_summary::summary,
        billing_gateway::payment,
        sweep::run,
        heartbeats::list,
        appliance::activate,
        appliance::heartbeat,
        appliance::provision,
        appliance::jwks,
        licensing_settings::get,
        licensing_settings::put,
        signing_keys::list,
        signing_keys::rotate,
        signing_keys::retire,
        license_keys::reissue_all,
        provisioning_tokens::list,
        provisioning_tokens::create,
        provisioning_tokens::revoke,
        enterprise::overview,
        enterprise::install,
        enterprise::remove,
        installations::list,
        installations::get,
        installations::usage,
        tenants::list,
        tenants::create,
        tenants::get,
        tenants::domains,
        tenants::add_domain,
        tenants::remove_domain,
        tenants::recovery_key,
        tenants::rename,
        tenants::delete,
        tenants::restore,
        health::healthz,
        health::readyz,
        health::ca_pem,
        metrics::metrics,
        serve,
    ),
    components(schemas(ProblemBody, super::audit_export::Format)),
    modifiers(&SecuritySchemes, &TableSecurity, &SharedRefusals),
    tags(
        (name = "auth", description = "Signing in and out, the caller, password change"),
        (name = "users", description = "Staff accounts (users.manage)"),
        (name = "customers", description = "Customer accounts of the portal (orgs.manage)"),
        (name = "tokens", description = "The caller's own API tokens"),
        (name = "audit", description = "The audit log (audit.read)"),
        (name = "licenses", description = "Issuing licenses and staff actions on them"),
        (name = "appliance", description = "What appliances call: activate, heartbeat, \
            provision, and the public keys that verify license keys and leases"),
        (name = "licensing", description = "Licensing settings and the fleet's heartbeats"),
        (name = "signing-keys", description = "The tenant's license signing keys (signing.manage)"),
        (name = "provisioning", description = "Provisioning tokens (license.issue)"),
        (name = "installations", description = "Capacity, usage and violation stage per Install ID"),
        (name = "organizations", description = "Customer organizations, staff side (orgs.manage)"),
        (name = "billing", description = "Invoices, payments, credit notes and the price list (billing.manage)"),
        (name = "enterprise", description = "licd's own licenses (settings.manage)"),
        (name = "tenants", description = "The tenancy API: the tenants this server hosts \
            (a tenancy API key, never a staff credential; 404 while tenancy is off)"),
        (name = "system", description = "Health, readiness, the local CA, metrics and this document"),
    ),
)]
struct ApiDoc;

/// The document (built once).
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        document().to_pretty_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "the OpenAPI document does not serialize");
            String::from("{}")
        })
    })
}

/// The OpenAPI document for this API
///
/// No authentication needed: it describes routes, not data.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi_document",
    tag = "system",
    responses(
        (status = 200, description = "This document (OpenAPI 3.1)", body = Object,
            content_type = "application/json"),
    ),
)]
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document_json())
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let bearer = |format: &str, description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format(format)
                    .description(Some(description))
                    .build(),
            )
        };
        let schemes = [
            (
                scheme::BEARER_TOKEN,
                bearer(
                    "licd_...",
                    "A staff API token (Settings > API tokens, `POST /api/v1/tokens`, or \
                     `licd admin token create`). Scopes name the permission the route needs; \
                     the token acts with its owner's role.",
                ),
            ),
            (
                scheme::SESSION_COOKIE,
                SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                    "licd_session",
                    "The session cookie `POST /api/v1/auth/login` sets; named \
                     `__Host-licd_session` when served over HTTPS (TLS on, or an https \
                     `server.public_url`). State-changing requests made with it also need \
                     `X-CSRF-Token`.",
                ))),
            ),
            (
                scheme::CSRF_TOKEN,
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "X-CSRF-Token",
                    "The `csrf_token` from the login reply; needed with the session cookie on \
                     every request that is not GET.",
                ))),
            ),
            (
                scheme::ACTIVATION_SECRET,
                bearer(
                    "lact_...",
                    "The activation secret from `POST /api/v1/licenses/{id}/activate` (or \
                     provisioning); authenticates heartbeats when appliance mTLS is not \
                     `required`.",
                ),
            ),
            (
                scheme::CLIENT_CERTIFICATE,
                SecurityScheme::MutualTls {
                    description: Some(
                        "The client certificate the local CA issued at activation for the CSR \
                         sent (appliance mTLS, `tls.appliance_mtls`)."
                            .into(),
                    ),
                    deprecated: None,
                    extensions: None,
                },
            ),
            (
                scheme::METRICS_TOKEN,
                bearer(
                    "token",
                    "`metrics.token` from the configuration. Without one, /metrics answers \
                     loopback clients only.",
                ),
            ),
            (
                scheme::TENANCY_KEY,
                bearer(
                    "key",
                    "A tenancy API key (`tenancy.api_key_file` or `tenancy.api_key`), for the \
                     tenancy API only; staff sessions and API tokens do not work there. Calls \
                     are audited in the registry's chain with the key's name.",
                ),
            ),
            (
                scheme::GATEWAY_SIGNATURE,
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "Licd-Signature",
                    "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>` with a \
                     secret of `billing.gateway_secret_file`, for the payment gateway's route \
                     only; staff credentials do not work there. `t` must be within \
                     `billing.replay_window_secs` of licd's clock.",
                ))),
            ),
        ];
        let components = doc.components.get_or_insert_with(Default::default);
        for (name, s) in schemes {
            components.add_security_scheme(name, s);
        }
    }
}

/// The registered route an operation documents (`Public` if none: the coverage test in
/// `tests/it/openapi.rs` fails for such an operation anyway).
fn route_of(method: &str, path: &str) -> Route {
    routing::registered()
        .into_iter()
        .find(|r| r.method == method && r.path == path)
        .unwrap_or(Route {
            surface: routing::Surface::Api,
            method: "GET",
            path: "",
            access: Access::Public,
            read_only: ReadOnly::Read,
            nav: None,
            demanded: Vec::new(),
        })
}

/// An operation's security requirements, from what its route needs (any one suffices).
pub fn security(access: Access, method: &str) -> Option<Vec<SecurityRequirement>> {
    let none: [&str; 0] = [];
    match access {
        // Customer routes are portal pages, not part of the API.
        Access::Public
        | Access::Appliance(Proof::LicenseKey | Proof::ProvisioningToken)
        | Access::Customer
        | Access::CustomerUnverified => None,
        Access::MetricsToken => Some(vec![
            SecurityRequirement::new(scheme::METRICS_TOKEN, none),
            SecurityRequirement::default(),
        ]),
        Access::TenancyKey => Some(vec![SecurityRequirement::new(scheme::TENANCY_KEY, none)]),
        Access::GatewaySigned => Some(vec![SecurityRequirement::new(
            scheme::GATEWAY_SIGNATURE,
            none,
        )]),
        Access::Appliance(Proof::ActivationSecret) => Some(vec![
            SecurityRequirement::new(scheme::ACTIVATION_SECRET, none),
            SecurityRequirement::new(scheme::CLIENT_CERTIFICATE, none),
        ]),
        Access::PendingPasswordOk | Access::SignedIn | Access::Permission(_) => {
            let scopes: Vec<&str> = access
                .permission()
                .map(|p| p.as_str())
                .into_iter()
                .collect();
            let mut session = SecurityRequirement::new(scheme::SESSION_COOKIE, scopes.clone());
            if method != "GET" {
                session = session.add(scheme::CSRF_TOKEN, none);
            }
            Some(vec![
                SecurityRequirement::new(scheme::BEARER_TOKEN, scopes),
                session,
            ])
        }
    }
}

/// Writes each operation's `security` from the route table.
struct TableSecurity;

impl Modify for TableSecurity {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, op) in operations(item) {
                op.security = security(route_of(method, path).access, method);
            }
        }
    }
}

/// Adds the refusals every route of a kind can answer to the handler's own, and writes
/// each status's response with the full list of codes.
struct SharedRefusals;

impl Modify for SharedRefusals {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        // One example body per code, which the responses refer to: the whole table.
        let components = doc.components.get_or_insert_with(Default::default);
        for c in ErrorCode::ALL {
            let body = serde_json::json!({
                "type": format!("urn:licd:problem:{}", c.as_str()),
                "title": c.title(),
                "status": c.status(),
                "detail": c.title(),
                "code": c.as_str(),
            });
            let example = ExampleBuilder::new()
                .summary(c.title())
                .value(Some(body))
                .build();
            components
                .examples
                .insert(c.as_str().to_owned(), RefOr::T(example));
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, op) in operations(item) {
                let own = take_problem_codes(op);
                let route = route_of(method, path);
                let shared = shared_codes(&route, op);
                let permission = route.access.permission().map(|p| p.as_str());
                let codes: Vec<ErrorCode> = ErrorCode::ALL
                    .iter()
                    .copied()
                    .filter(|c| own.contains(c) || shared.contains(c))
                    .collect();
                op.responses
                    .responses
                    .extend(problem_responses(&codes, permission));
            }
        }
    }
}

/// The operations of a path item with their method.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("GET", item.get.as_mut()),
        ("POST", item.post.as_mut()),
        ("PUT", item.put.as_mut()),
        ("PATCH", item.patch.as_mut()),
        ("DELETE", item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
}

/// Removes the problem responses `refusals!` put in and returns their codes.
fn take_problem_codes(op: &mut Operation) -> Vec<ErrorCode> {
    let mut codes = Vec::new();
    op.responses.responses.retain(|_, r| {
        let RefOr::T(r) = r else { return true };
        let Some(RefOr::T(content)) = r.content.get(PROBLEM_JSON) else {
            return true;
        };
        codes.extend(
            content
                .examples
                .keys()
                .filter_map(|k| ErrorCode::ALL.iter().find(|c| c.as_str() == k)),
        );
        false
    });
    codes
}

/// The refusals a route shares with every route of its kind.
fn shared_codes(route: &Route, op: &Operation) -> Vec<ErrorCode> {
    use ErrorCode::*;
    let mut codes = vec![Internal];
    let writes = route.method != "GET";
    if route.access.is_staff() {
        codes.push(Unauthenticated);
        if route.access.permission().is_some() {
            codes.push(Forbidden);
        }
        if writes && route.read_only == ReadOnly::Write {
            codes.push(LicenseReadOnly);
        }
        if writes {
            codes.push(CsrfFailed);
        }
    }
    if route.access == Access::TenancyKey {
        codes.extend([TenancyDisabled, TenancyKeyInvalid]);
    }
    if route.access == Access::GatewaySigned {
        codes.extend([GatewayDisabled, SignatureInvalid, SignatureExpired]);
    }
    if op.request_body.is_some() {
        codes.extend([
            MalformedJson,
            UnsupportedMediaType,
            PayloadTooLarge,
            RequestTimeout,
            ValidationFailed,
        ]);
    }
    let params = op.parameters.iter().flatten().filter_map(|p| match p {
        RefOr::T(p) => Some(p),
        RefOr::Ref(_) => None,
    });
    for p in params {
        match p.parameter_in {
            ParameterIn::Query => codes.push(BadRequest),
            // A path segment that does not parse (`/users/abc`) names nothing.
            ParameterIn::Path if is_integer(p.schema.as_ref()) => codes.push(NotFound),
            _ => {}
        }
    }
    codes
}

fn is_integer(schema: Option<&RefOr<Schema>>) -> bool {
    matches!(schema, Some(RefOr::T(Schema::Object(o)))
        if o.schema_type == SchemaType::Type(Type::Integer))
}

/// One `application/problem+json` response per status, listing its codes (and the
/// permission behind `forbidden`), with an example body per code.
pub fn problem_responses(
    codes: &[ErrorCode],
    permission: Option<&str>,
) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for c in codes {
        let list = by_status.entry(c.status().as_u16()).or_default();
        if !list.contains(c) {
            list.push(*c);
        }
    }
    by_status
        .into_iter()
        .map(|(status, codes)| {
            let mut description = String::from("Refused; `code` is one of:\n");
            for c in &codes {
                description.push_str(&format!("\n- `{}`: {}", c.as_str(), c.title()));
                if let (ErrorCode::Forbidden, Some(p)) = (c, permission) {
                    description.push_str(&format!(" (this route needs `{p}`)"));
                }
            }
            let examples = codes.iter().map(|c| {
                let example = Ref::new(format!("#/components/examples/{}", c.as_str()));
                (c.as_str(), RefOr::<Example>::Ref(example))
            });
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .examples_from_iter(examples)
                .build();
            let mut response = ResponseBuilder::new()
                .description(description)
                .content(PROBLEM_JSON, content);
            if codes.contains(&ErrorCode::TooManyAttempts)
                || codes.contains(&ErrorCode::PasswordCheckBusy)
            {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                        .description(Some("Seconds until a retry may succeed"))
                        .build(),
                );
            }
            if codes.contains(&ErrorCode::Unauthenticated) {
                response = response.header(
                    "WWW-Authenticate",
                    HeaderBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .description(Some("`Bearer realm=\"licd\"` with `unauthenticated`"))
                        .build(),
                );
            }
            (status.to_string(), RefOr::T(response.build()))
        })
        .collect()
}
