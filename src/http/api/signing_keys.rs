//! `/api/v1/signing-keys` (signing.manage): the tenant's license signing keys.

use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::signing_keys::{self, SigningKeyView};
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

type Manager = Staff<need::SigningManage>;

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
)]
pub async fn list(staff: Manager) -> Result<HttpResponse, ApiError> {
    let items = staff.run(|cx| signing_keys::list(&cx.tenant)).await?;
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
)]
pub async fn rotate(staff: Manager) -> Result<HttpResponse, ApiError> {
    let kid = staff
        .run(|cx| signing_keys::rotate(&cx.app, &cx.tenant, cx.now, &cx.actor))
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
)]
pub async fn retire(staff: Manager, kid: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let kid = kid.into_inner();
    staff
        .run(move |cx| signing_keys::retire(&cx.app, &cx.tenant, cx.now, &cx.actor, &kid))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
