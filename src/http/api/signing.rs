//! `/api/v1/signing-keys` (signing.manage), `/api/v1/licensing/settings`
//! (settings.manage), `/api/v1/provisioning-tokens` (license.issue).

use crate::domain::fields;
use crate::domain::settings::LicensingSettings;
use crate::domain::timestamp::{self, InputTime};
use crate::http::auth::{Staff, need, state};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::http::state::blocking;
use crate::service::provisioning::{self, Template};
use crate::service::signing_keys::SigningKeyView;
use crate::service::{licensing_settings, signing_keys};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKeyList {
    pub items: Vec<SigningKeyView>,
}

refusals!(StaffRefusals: PasswordChangeRequired);

/// Lists the signing keys
///
/// Active, rotated (still verifying) and retired keys, with how many live licenses each
/// signed.
#[utoipa::path(
    get,
    path = "/api/v1/signing-keys",
    operation_id = "list_signing_keys",
    tag = "signing-keys",
    responses((status = 200, description = "The tenant's signing keys", body = SigningKeyList), StaffRefusals),
    security(("bearer_token" = ["signing.manage"]), ("session_cookie" = ["signing.manage"])),
)]
pub async fn list_keys(staff: Staff<need::SigningManage>) -> Result<HttpResponse, ApiError> {
    let tenant = staff.tenant.clone();
    let items = blocking(move || signing_keys::list(&tenant)).await?;
    Ok(HttpResponse::Ok().json(SigningKeyList { items }))
}

/// The id of the new active key.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rotated {
    /// RFC 7638 thumbprint of the key.
    pub kid: String,
}

/// Rotates the signing key
///
/// A new active key signs from now on; older keys keep verifying until retired.
#[utoipa::path(
    post,
    path = "/api/v1/signing-keys",
    operation_id = "rotate_signing_key",
    tag = "signing-keys",
    responses((status = 201, description = "The new active key", body = Rotated), StaffRefusals),
    security(("bearer_token" = ["signing.manage"]), ("session_cookie" = ["signing.manage"], "csrf_token" = [])),
)]
pub async fn rotate(
    req: HttpRequest,
    staff: Staff<need::SigningManage>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (app, caller, now) = (state.app.clone(), staff.caller.clone(), state.now());
    let kid = blocking(move || {
        signing_keys::rotate(&app, &caller.tenant, now, &caller.principal.actor())
    })
    .await?;
    Ok(HttpResponse::Created().json(Rotated { kid }))
}

refusals!(RetireRefusals: PasswordChangeRequired, NotFound, SigningKeyInUse);

/// Retires a rotated-out signing key
///
/// License keys it signed stop verifying. The active key cannot be retired
/// (`signing_key_in_use`: rotate first). Retiring twice changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/signing-keys/{kid}/retire",
    operation_id = "retire_signing_key",
    tag = "signing-keys",
    params(("kid" = String, Path, description = "The key's id (RFC 7638 thumbprint)")),
    responses((status = 204, description = "Retired"), RetireRefusals),
    security(("bearer_token" = ["signing.manage"]), ("session_cookie" = ["signing.manage"], "csrf_token" = [])),
)]
pub async fn retire(
    req: HttpRequest,
    staff: Staff<need::SigningManage>,
    kid: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (app, caller, now, kid) = (
        state.app.clone(),
        staff.caller.clone(),
        state.now(),
        kid.into_inner(),
    );
    blocking(move || {
        signing_keys::retire(&app, &caller.tenant, now, &caller.principal.actor(), &kid)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Shows the licensing settings
#[utoipa::path(
    get,
    path = "/api/v1/licensing/settings",
    operation_id = "get_licensing_settings",
    tag = "licensing",
    responses((status = 200, description = "The tenant's licensing settings", body = LicensingSettings), StaffRefusals),
    security(("bearer_token" = ["settings.manage"]), ("session_cookie" = ["settings.manage"])),
)]
pub async fn get_settings(staff: Staff<need::SettingsManage>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(staff.tenant.settings()))
}

/// Replaces the licensing settings
///
/// Absent fields take their defaults. `validation_failed` names a field out of range
/// (the heartbeat interval must also be at most half the grace window).
#[utoipa::path(
    put,
    path = "/api/v1/licensing/settings",
    operation_id = "put_licensing_settings",
    tag = "licensing",
    request_body = LicensingSettings,
    responses((status = 200, description = "The settings as saved", body = LicensingSettings), StaffRefusals),
    security(("bearer_token" = ["settings.manage"]), ("session_cookie" = ["settings.manage"], "csrf_token" = [])),
)]
pub async fn put_settings(
    req: HttpRequest,
    staff: Staff<need::SettingsManage>,
    body: web::Json<LicensingSettings>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, body) = (staff.caller.clone(), state.now(), body.into_inner());
    let s = blocking(move || {
        licensing_settings::update(&caller.tenant, now, &caller.principal.actor(), body)
    })
    .await?;
    Ok(HttpResponse::Ok().json(s))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProvisioningTokenList {
    pub items: Vec<provisioning::TokenView>,
}

/// Lists provisioning tokens
#[utoipa::path(
    get,
    path = "/api/v1/provisioning-tokens",
    operation_id = "list_provisioning_tokens",
    tag = "provisioning",
    responses((status = 200, description = "The tenant's provisioning tokens", body = ProvisioningTokenList), StaffRefusals),
    security(("bearer_token" = ["license.issue"]), ("session_cookie" = ["license.issue"])),
)]
pub async fn list_provisioning(
    req: HttpRequest,
    staff: Staff<need::LicenseIssue>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (tenant, now) = (staff.tenant.clone(), state.now());
    let items = blocking(move || provisioning::list(&tenant, now)).await?;
    Ok(HttpResponse::Ok().json(ProvisioningTokenList { items }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningBody {
    #[schema(schema_with = fields::provisioning_token_name)]
    name: String,
    template: Template,
    #[schema(schema_with = fields::max_uses)]
    max_uses: i64,
    /// Absent: the token does not expire.
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<InputTime>,
}

/// Creates a provisioning token
///
/// An appliance redeems it at first boot (`POST /api/v1/provision`) for a license made
/// from the template, already activated. The secret (`lprov_...`) is in the reply, once.
#[utoipa::path(
    post,
    path = "/api/v1/provisioning-tokens",
    operation_id = "create_provisioning_token",
    tag = "provisioning",
    request_body = ProvisioningBody,
    responses((status = 201, description = "Created; `secret` is shown this once", body = provisioning::CreatedToken), StaffRefusals),
    security(("bearer_token" = ["license.issue"]), ("session_cookie" = ["license.issue"], "csrf_token" = [])),
)]
pub async fn create_provisioning(
    req: HttpRequest,
    staff: Staff<need::LicenseIssue>,
    body: web::Json<ProvisioningBody>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, b) = (staff.caller.clone(), state.now(), body.into_inner());
    let created = blocking(move || {
        let expires_at = timestamp::parse_opt("expires_at", b.expires_at.as_ref())?;
        provisioning::create(
            &caller.tenant,
            now,
            &caller.principal.actor(),
            &b.name,
            b.template,
            b.max_uses,
            expires_at,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

refusals!(RevokeRefusals: PasswordChangeRequired, NotFound);

/// Revokes a provisioning token
///
/// Licenses already made from it stay. Revoking twice changes nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/provisioning-tokens/{id}",
    operation_id = "revoke_provisioning_token",
    tag = "provisioning",
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 200, description = "The token, revoked", body = provisioning::TokenView), RevokeRefusals),
    security(("bearer_token" = ["license.issue"]), ("session_cookie" = ["license.issue"], "csrf_token" = [])),
)]
pub async fn revoke_provisioning(
    req: HttpRequest,
    staff: Staff<need::LicenseIssue>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, id) = (staff.caller.clone(), state.now(), id.into_inner());
    let token =
        blocking(move || provisioning::revoke(&caller.tenant, now, &caller.principal.actor(), id))
            .await?;
    Ok(HttpResponse::Ok().json(token))
}
