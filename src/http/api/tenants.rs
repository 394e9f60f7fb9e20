//! `/api/v1/tenants`: the tenancy API (`Access::TenancyKey`). Only a tenancy API key
//! authenticates it; with `tenancy.enabled = false` it answers 404 `tenancy_disabled`.
//! Every call is recorded in the registry's audit chain with the key's name. Rename,
//! delete (to an archive) and restore are `service::tenant_lifecycle`.

use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::http::tenancy_key::Tenancy;
use crate::service::recovery::{self, RecoveryKey, RecoveryKeyRequest};
use crate::service::tenancy::{self, NewTenant, TenantInfo};
use crate::service::tenant_domains::{self, DomainInfo, NewDomain};
use crate::service::tenant_lifecycle::{self, DeletedTenant, RestoredTenant, TenantPatch};
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

/// The tenants of this server.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantList {
    pub items: Vec<TenantInfo>,
}

/// Lists tenants
///
/// Every tenant this server hosts, oldest first; `public` is the default tenant.
#[utoipa::path(
    get,
    path = "/api/v1/tenants",
    operation_id = "list_tenants",
    tag = "tenants",
    responses((status = 200, description = "The tenants", body = TenantList)),
)]
pub async fn list(t: Tenancy) -> Result<HttpResponse, ApiError> {
    let items = t
        .run(|cx| tenancy::list(&cx.app.tenants, cx.now, &cx.actor))
        .await?;
    Ok(HttpResponse::Ok().json(TenantList { items }))
}

refusals!(CreateRefusals: SchemaNameTaken, DefaultLicenseMissing, DefaultLicenseExpired, DefaultLicenseReadOnly);

/// Creates a tenant
///
/// From the template: its own database, Install ID, signing key and files directory.
/// Needs the default tenant's own license to be valid (installed, valid now, not
/// read-only); the refusal names the check that failed. A `schema_name` must start
/// with `t_`, then one or more of `a-z`, `0-9` and `_`, at most 63 characters in all;
/// `public` and `template` are reserved.
#[utoipa::path(
    post,
    path = "/api/v1/tenants",
    operation_id = "create_tenant",
    tag = "tenants",
    request_body = NewTenant,
    responses((status = 201, description = "The new tenant, ready", body = TenantInfo), CreateRefusals),
)]
pub async fn create(t: Tenancy, body: web::Json<NewTenant>) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let tenant = t
        .run(move |cx| tenancy::create(&cx.app, cx.now, &cx.actor, input))
        .await?;
    Ok(HttpResponse::Created().json(tenant))
}

refusals!(GetRefusals: NotFound);

/// Shows a tenant
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{schema_name}",
    operation_id = "get_tenant",
    tag = "tenants",
    params(("schema_name" = String, Path, description = "The tenant's schema_name (`public` for the default tenant)")),
    responses((status = 200, description = "The tenant", body = TenantInfo), GetRefusals),
)]
pub async fn get(t: Tenancy, schema_name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let schema_name = schema_name.into_inner();
    let tenant = t
        .run(move |cx| tenancy::show(&cx.app.tenants, cx.now, &cx.actor, &schema_name))
        .await?;
    Ok(HttpResponse::Ok().json(tenant))
}

/// A tenant's domains.
#[derive(Debug, Serialize, ToSchema)]
pub struct DomainList {
    /// In the order they were added; the first is the primary domain.
    pub items: Vec<DomainInfo>,
}

/// Lists a tenant's domains
///
/// The host names routed to the tenant, in the order they were added. The first is its
/// primary domain: recovery links point there.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{schema_name}/domains",
    operation_id = "list_tenant_domains",
    tag = "tenants",
    params(("schema_name" = String, Path, description = "The tenant's schema_name (`public` for the default tenant)")),
    responses((status = 200, description = "The tenant's domains", body = DomainList), GetRefusals),
)]
pub async fn domains(t: Tenancy, schema_name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let schema_name = schema_name.into_inner();
    let items = t
        .run(move |cx| tenant_domains::list(&cx.app.tenants, cx.now, &cx.actor, &schema_name))
        .await?;
    Ok(HttpResponse::Ok().json(DomainList { items }))
}

refusals!(AddDomainRefusals: NotFound, DomainTaken);

/// Adds a domain to a tenant
///
/// Requests whose `Host` is this name (lower-cased, port and trailing dot removed) are
/// routed to the tenant at once, and the local CA's server certificate is reissued to
/// name every tenant domain (no restart). A domain belongs to one tenant
/// (`domain_taken`); the first domain a tenant gets is its primary domain. `public` may
/// have domains too.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{schema_name}/domains",
    operation_id = "add_tenant_domain",
    tag = "tenants",
    params(("schema_name" = String, Path, description = "The tenant's schema_name (`public` for the default tenant)")),
    request_body = NewDomain,
    responses((status = 201, description = "The tenant's domains now", body = DomainList), AddDomainRefusals),
)]
pub async fn add_domain(
    t: Tenancy,
    schema_name: web::Path<String>,
    body: web::Json<NewDomain>,
) -> Result<HttpResponse, ApiError> {
    let (schema_name, input) = (schema_name.into_inner(), body.into_inner());
    let items = t
        .run(move |cx| tenant_domains::add(&cx.app, cx.now, &cx.actor, &schema_name, input))
        .await?;
    Ok(HttpResponse::Created().json(DomainList { items }))
}

/// Removes a domain from a tenant
///
/// Requests for this host name stop reaching the tenant at once (they then go where
/// `tenancy.unknown_hosts` sends unknown hosts), and the server certificate is reissued
/// without it.
#[utoipa::path(
    delete,
    path = "/api/v1/tenants/{schema_name}/domains/{domain}",
    operation_id = "remove_tenant_domain",
    tag = "tenants",
    params(
        ("schema_name" = String, Path, description = "The tenant's schema_name (`public` for the default tenant)"),
        ("domain" = String, Path, description = "One of the tenant's domains"),
    ),
    responses((status = 204, description = "Removed"), GetRefusals),
)]
pub async fn remove_domain(
    t: Tenancy,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (schema_name, domain) = path.into_inner();
    t.run(move |cx| tenant_domains::remove(&cx.app, cx.now, &cx.actor, &schema_name, &domain))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

refusals!(RecoveryRefusals: NotFound, TenantHasNoDomain);

/// Issues a recovery key
///
/// A one-time link on the tenant's primary domain (its first domain) that signs in as
/// the staff account with `email`, creating it as `super_admin` (choosing its password
/// first) when there is none; a disabled account is not enabled by it. Opening the link
/// shows a confirmation page; only the POST from that page uses it up. Valid for
/// `lifetime` (default `1h`, at most `7d`). Anyone holding the link can sign in: hand it
/// over like a password. The secret is stored only as its SHA-256.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{schema_name}/recovery-key",
    operation_id = "create_recovery_key",
    tag = "tenants",
    params(("schema_name" = String, Path, description = "The tenant's schema_name (`public` for the default tenant)")),
    request_body = RecoveryKeyRequest,
    responses((status = 201, description = "The one-time link, shown this once", body = RecoveryKey), RecoveryRefusals),
)]
pub async fn recovery_key(
    t: Tenancy,
    schema_name: web::Path<String>,
    body: web::Json<RecoveryKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let (schema_name, input) = (schema_name.into_inner(), body.into_inner());
    let key = t
        .run(move |cx| recovery::issue(&cx.app, cx.now, &cx.actor, &schema_name, input))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(key))
}

refusals!(RenameRefusals: NotFound, TenantNotReady);

/// Renames a tenant
///
/// Its console shows the new name from its next page on.
#[utoipa::path(
    patch,
    path = "/api/v1/tenants/{schema_name}",
    operation_id = "rename_tenant",
    tag = "tenants",
    params(("schema_name" = String, Path, description = "The tenant's schema_name (`public` for the default tenant)")),
    request_body = TenantPatch,
    responses((status = 200, description = "The renamed tenant", body = TenantInfo), RenameRefusals),
)]
pub async fn rename(
    t: Tenancy,
    schema_name: web::Path<String>,
    body: web::Json<TenantPatch>,
) -> Result<HttpResponse, ApiError> {
    let (schema_name, patch) = (schema_name.into_inner(), body.into_inner());
    let tenant = t
        .run(move |cx| tenant_lifecycle::rename(&cx.app, cx.now, &cx.actor, &schema_name, patch))
        .await?;
    Ok(HttpResponse::Ok().json(tenant))
}

refusals!(DeleteRefusals: NotFound, DefaultTenantUndeletable, TenantNotReady);

/// Deletes a tenant (to an archive)
///
/// Stops routing to it (its domains become unknown hosts and free for other tenants),
/// lets requests in flight finish, closes its database, and moves its database and
/// files to `deleted/<schema_name>-<time>/` in the data directory with a manifest of
/// checksums. Nothing is dropped: `POST .../restore` brings it back; `licd tenant purge`
/// removes old archives. Its schema_name and Install ID stay taken until purged.
/// `public` can never be deleted (`409 default_tenant_undeletable`).
#[utoipa::path(
    delete,
    path = "/api/v1/tenants/{schema_name}",
    operation_id = "delete_tenant",
    tag = "tenants",
    params(("schema_name" = String, Path, description = "The tenant's schema_name")),
    responses((status = 200, description = "The tenant is deleted; where its archive is", body = DeletedTenant), DeleteRefusals),
)]
pub async fn delete(t: Tenancy, schema_name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let schema_name = schema_name.into_inner();
    let deleted = t
        .run(move |cx| tenant_lifecycle::delete(&cx.app, cx.now, &cx.actor, &schema_name))
        .await?;
    Ok(HttpResponse::Ok().json(deleted))
}

refusals!(RestoreRefusals: NotFound, TenantNotDeleted, TenantArchiveInvalid);

/// Restores a deleted tenant
///
/// Checks its archive against the manifest's checksums, moves its database and files
/// back, routes its domains again and serves it. Domains another tenant took
/// meanwhile stay with that tenant and are listed in `domains_not_restored`.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{schema_name}/restore",
    operation_id = "restore_tenant",
    tag = "tenants",
    params(("schema_name" = String, Path, description = "The deleted tenant's schema_name")),
    responses((status = 200, description = "The tenant is ready again", body = RestoredTenant), RestoreRefusals),
)]
pub async fn restore(t: Tenancy, schema_name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let schema_name = schema_name.into_inner();
    let restored = t
        .run(move |cx| tenant_lifecycle::restore(&cx.app, cx.now, &cx.actor, &schema_name))
        .await?;
    Ok(HttpResponse::Ok().json(restored))
}
