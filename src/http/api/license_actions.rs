//! `/api/v1/licenses/{id}/...` (license.revoke): staff actions on one license: revoke,
//! rebind, suspend, reinstate, set the subscription, queue a directive.

use crate::domain::fields;
use crate::domain::lifecycle::SubscriptionStatus;
use crate::domain::timestamp::{self, InputTime};
use crate::http::auth::{Staff, need};
use crate::http::context::StaffContext;
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::{self, license_actions, licenses};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type Revoker = Staff<need::LicenseRevoke>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    #[schema(schema_with = fields::revoke_reason)]
    reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendBody {
    #[serde(default)]
    #[schema(schema_with = fields::suspend_reason)]
    reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebindBody {
    /// The new hardware's fingerprint.
    #[schema(schema_with = fields::fingerprint)]
    fingerprint: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionBody {
    status: SubscriptionStatus,
    /// End of the paid period; required with `canceled`.
    #[schema(value_type = Option<String>, format = DateTime)]
    period_end: Option<InputTime>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectiveBody {
    #[schema(schema_with = fields::directive_kind)]
    kind: String,
    #[serde(default)]
    #[schema(schema_with = fields::directive_message)]
    message: String,
}

/// The id of a queued directive.
#[derive(Debug, Serialize, ToSchema)]
pub struct DirectiveQueued {
    pub id: i64,
}

refusals!(ActionRefusals: PasswordChangeRequired, NotFound);
refusals!(StateRefusals: PasswordChangeRequired, NotFound, LicenseRevoked, LicenseExpired);
refusals!(RebindRefusals:
    PasswordChangeRequired,
    NotFound,
    LicenseRevoked,
    LicenseExpired,
    RebindSameFingerprint,
);
refusals!(ReinstateRefusals:
    PasswordChangeRequired,
    NotFound,
    LicenseRevoked,
    LicenseExpired,
    SubscriptionInvalid,
);

/// Runs an action on license `id` and answers with what it returns.
async fn act<T, F>(
    staff: Revoker,
    id: web::Path<String>,
    action: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&StaffContext, &str) -> service::Result<T> + Send + 'static,
{
    let id = id.into_inner();
    let view = staff.run(move |cx| action(cx, &id)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Revokes a license
///
/// Final: activation is denied from now on and the appliance's next heartbeat gets a
/// lock. Revoking twice changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/revoke",
    operation_id = "revoke_license",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    request_body = RevokeBody,
    responses((status = 200, description = "The license, revoked", body = licenses::LicenseView), ActionRefusals),
)]
pub async fn revoke(
    staff: Revoker,
    id: web::Path<String>,
    body: web::Json<RevokeBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    act(staff, id, move |cx, id| {
        license_actions::revoke(&cx.tenant, cx.now, &cx.actor, id, &b.reason)
    })
    .await
}

/// Moves a license to new hardware
///
/// The old appliance's next heartbeat gets a lock lease (`state: locked`,
/// `lock_reason: rebound`); the new one activates with the same license key and this
/// fingerprint. The fingerprint the license is already bound to is refused
/// (`rebind_same_fingerprint`): nothing would move.
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/rebind",
    operation_id = "rebind_license",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    request_body = RebindBody,
    responses((status = 200, description = "The license, pre-bound to the new fingerprint", body = licenses::LicenseView), RebindRefusals),
)]
pub async fn rebind(
    staff: Revoker,
    id: web::Path<String>,
    body: web::Json<RebindBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    act(staff, id, move |cx, id| {
        license_actions::rebind(&cx.tenant, cx.now, &cx.actor, id, &b.fingerprint)
    })
    .await
}

/// Suspends a license
///
/// The appliance's next heartbeat gets a lock until the license is reinstated.
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/suspend",
    operation_id = "suspend_license",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    request_body = SuspendBody,
    responses((status = 200, description = "The license, suspended", body = licenses::LicenseView), StateRefusals),
)]
pub async fn suspend(
    staff: Revoker,
    id: web::Path<String>,
    body: web::Json<SuspendBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    act(staff, id, move |cx, id| {
        license_actions::suspend(&cx.tenant, cx.now, &cx.actor, id, &b.reason)
    })
    .await
}

/// Reinstates a suspended license
///
/// Back to active (or issued, if never activated); a lapsed grace window still locks.
/// `subscription_invalid` while the subscription is not valid.
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/reinstate",
    operation_id = "reinstate_license",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    responses((status = 200, description = "The license, reinstated", body = licenses::LicenseView), ReinstateRefusals),
)]
pub async fn reinstate(staff: Revoker, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    act(staff, id, |cx, id| {
        license_actions::reinstate(&cx.tenant, cx.now, &cx.actor, id)
    })
    .await
}

/// Sets a license's subscription status
///
/// The license follows at once: suspended when the subscription is no longer valid,
/// active again when it is restored.
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/subscription",
    operation_id = "set_license_subscription",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    request_body = SubscriptionBody,
    responses((status = 200, description = "The license with its new subscription", body = licenses::LicenseView), ActionRefusals),
)]
pub async fn subscription(
    staff: Revoker,
    id: web::Path<String>,
    body: web::Json<SubscriptionBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    act(staff, id, move |cx, id| {
        let period_end = timestamp::parse_opt("period_end", b.period_end.as_ref())?;
        license_actions::set_subscription(&cx.tenant, cx.now, &cx.actor, id, b.status, period_end)
    })
    .await
}

/// Queues a directive for the appliance
///
/// It rides on every lease until the appliance acknowledges it (by confirming a lease
/// that carried it).
#[utoipa::path(
    post,
    path = "/api/v1/licenses/{id}/directives",
    operation_id = "queue_license_directive",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id")),
    request_body = DirectiveBody,
    responses((status = 200, description = "Queued", body = DirectiveQueued), ActionRefusals),
)]
pub async fn directive(
    staff: Revoker,
    id: web::Path<String>,
    body: web::Json<DirectiveBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    act(staff, id, move |cx, id| {
        license_actions::queue_directive(&cx.tenant, cx.now, &cx.actor, id, &b.kind, &b.message)
            .map(|id| DirectiveQueued { id })
    })
    .await
}
