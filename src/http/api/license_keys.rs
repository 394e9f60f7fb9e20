//! `/api/v1/licenses/{id}/renew|change|reissue` (license.issue): a new signed key for
//! the same license, queued to its appliance; and
//! `/api/v1/signing-keys/{kid}/reissue` (license.issue): every live license a signing
//! key signed, reissued under the active key.

use crate::domain::fields;
use crate::domain::license::Amendment;
use crate::domain::timestamp::InputTime;
use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::license_keys::{self, ReissuedAll};
use crate::service::licenses::LicenseView;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

type Issuer = Staff<need::LicenseIssue>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewBody {
    /// The new expiry: in the future and later than the current one.
    #[schema(value_type = String, format = DateTime)]
    expires_at: InputTime,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    /// A new name; absent keeps it.
    #[serde(default)]
    #[schema(schema_with = fields::license_name)]
    name: Option<String>,
    /// New internal user count; absent keeps it.
    #[serde(default)]
    #[schema(schema_with = fields::user_count)]
    internal_users: Option<u32>,
    /// New external user count; absent keeps it.
    #[serde(default)]
    #[schema(schema_with = fields::user_count)]
    external_users: Option<u32>,
    /// The new feature list (replaces the old one); absent keeps it.
    #[serde(default)]
    #[schema(schema_with = fields::features)]
    features: Option<Vec<String>>,
}

refusals!(RekeyRefusals:
    PasswordChangeRequired,
    NotFound,
    LicenseRevoked,
    LicenseExpired,
);

/// Renews a license
///
/// Signs a new key for the same license id with the later expiry, under the active
/// signing key. The old key stops being the current one (the license's `keys` keep it);
/// the bound appliance gets the new key in an `install_key` directive on its next
/// lease. An expiry that is not later than the current one is refused
/// (`validation_failed`); a revoked or expired license gets no new key.
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/renew",
    operation_id = "renew_license",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    request_body = RenewBody,
    responses((status = 200, description = "The license with its new key", body = LicenseView), RekeyRefusals),
)]
pub async fn renew(
    staff: Issuer,
    id: web::Path<String>,
    body: web::Json<RenewBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.into_inner());
    let view = staff
        .run(move |cx| {
            let expires_at = b.expires_at.parse("expires_at")?;
            license_keys::renew(&cx.tenant, cx.now, &cx.actor, &id, expires_at)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Changes a license's grant
///
/// New user counts, features or name, under the same rules as issuing; the same
/// license id gets a new key saying so, queued to the bound appliance like a renewal.
/// A body that changes nothing is refused (`validation_failed`).
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/change",
    operation_id = "change_license",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    request_body = ChangeBody,
    responses((status = 200, description = "The license with its new key", body = LicenseView), RekeyRefusals),
)]
pub async fn change(
    staff: Issuer,
    id: web::Path<String>,
    body: web::Json<ChangeBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.into_inner());
    let amendment = Amendment {
        name: b.name,
        internal_users: b.internal_users,
        external_users: b.external_users,
        features: b.features,
        expires_at: None,
    };
    let view = staff
        .run(move |cx| license_keys::change(&cx.tenant, cx.now, &cx.actor, &id, &amendment))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Reissues a license
///
/// The same grant signed by the active signing key (after a rotation, so the old key
/// can be retired), queued to the bound appliance like a renewal.
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/reissue",
    operation_id = "reissue_license",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    responses((status = 200, description = "The license with its new key", body = LicenseView), RekeyRefusals),
)]
pub async fn reissue(staff: Issuer, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let view = staff
        .run(move |cx| license_keys::reissue(&cx.tenant, cx.now, &cx.actor, &id))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

refusals!(ReissueAllRefusals: PasswordChangeRequired, NotFound, ValidationFailed);

/// Reissues every live license a signing key signed
///
/// Each live (not revoked or expired) license signed by `kid` gets a new key signed by
/// the active key and an `install_key` directive for its appliance, in one
/// transaction; audited as `signing_key.reissue_all` and once per license. Then the
/// key can be retired without stopping them. The active key's own licenses are refused
/// (`validation_failed`).
#[utoipa::path(
    post,
    path = "/api/v1/signing-keys/{kid}/reissue",
    operation_id = "reissue_signing_key_licenses",
    tag = "signing-keys",
    params(("kid" = String, Path, description = "The key's id (RFC 7638 thumbprint)")),
    responses((status = 200, description = "The licenses reissued", body = ReissuedAll), ReissueAllRefusals),
)]
pub async fn reissue_all(staff: Issuer, kid: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let kid = kid.into_inner();
    let done = staff
        .run(move |cx| license_keys::reissue_signed_by(&cx.tenant, cx.now, &cx.actor, &kid))
        .await?;
    Ok(HttpResponse::Ok().json(done))
}
