//! `/api/v1/provisioning-tokens` (license.issue): tokens an appliance redeems at first
//! boot for a license made from the token's template.

use crate::domain::fields;
use crate::domain::timestamp::{self, InputTime};
use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::provisioning::{self, Template};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type Issuer = Staff<need::LicenseIssue>;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProvisioningTokenList {
    pub items: Vec<provisioning::TokenView>,
}

refusals!(StaffRefusals: PasswordChangeRequired);
refusals!(CreateRefusals: PasswordChangeRequired, UnknownOrganization);

/// Lists provisioning tokens
#[utoipa::path(
    get,
    path = "/api/v1/provisioning-tokens",
    operation_id = "list_provisioning_tokens",
    tag = "provisioning",
    responses((status = 200, description = "The tenant's provisioning tokens", body = ProvisioningTokenList), StaffRefusals),
)]
pub async fn list(staff: Issuer) -> Result<HttpResponse, ApiError> {
    let items = staff
        .run(|cx| provisioning::list(&cx.tenant, cx.now))
        .await?;
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
/// A template's `organization_id` must name an existing organization.
#[utoipa::path(
    post,
    path = "/api/v1/provisioning-tokens",
    operation_id = "create_provisioning_token",
    tag = "provisioning",
    request_body = ProvisioningBody,
    responses((status = 201, description = "Created; `secret` is shown this once", body = provisioning::CreatedToken), CreateRefusals),
)]
pub async fn create(
    staff: Issuer,
    body: web::Json<ProvisioningBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let created = staff
        .run(move |cx| {
            let expires_at = timestamp::parse_opt("expires_at", b.expires_at.as_ref())?;
            provisioning::create(
                &cx.tenant, cx.now, &cx.actor, &b.name, b.template, b.max_uses, expires_at,
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
)]
pub async fn revoke(staff: Issuer, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let token = staff
        .run(move |cx| provisioning::revoke(&cx.tenant, cx.now, &cx.actor, id))
        .await?;
    Ok(HttpResponse::Ok().json(token))
}
