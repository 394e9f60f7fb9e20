//! `/api/v1/licenses`: issue, list, show, and staff actions.

use crate::domain::fields;
use crate::domain::license::LicenseRequest;
use crate::domain::lifecycle::{LicenseState, SubscriptionStatus};
use crate::domain::timestamp::{self, InputTime};
use crate::error::ErrorCode;
use crate::http::auth::{Staff, need, state};
use crate::http::openapi::refusals;
use crate::http::optional_json::OptionalJson;
use crate::http::problem::ApiError;
use crate::http::state::blocking;
use crate::service::licenses::Filter;
use crate::service::{ServiceError, license_actions, licenses, sweep};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

refusals!(IssueRefusals: PasswordChangeRequired);

/// Issues a license
///
/// Signs a license key (ES256 JWS, `typ=licd-license+jwt`) with the tenant's active
/// signing key. `validation_failed` names the field (name, install_id, users, features,
/// flags, dates).
#[utoipa::path(
    post,
    path = "/api/v1/licenses",
    operation_id = "issue_license",
    tag = "licenses",
    request_body = LicenseRequest,
    responses((status = 201, description = "Issued; `license_key` goes to the appliance", body = licenses::LicenseView), IssueRefusals),
    security(("bearer_token" = ["license.issue"]), ("session_cookie" = ["license.issue"], "csrf_token" = [])),
)]
pub async fn issue(
    req: HttpRequest,
    staff: Staff<need::LicenseIssue>,
    body: web::Json<LicenseRequest>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, body) = (staff.caller.clone(), state.now(), body.into_inner());
    let view =
        blocking(move || licenses::issue(&caller.tenant, now, &caller.principal.actor(), &body))
            .await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only licenses in this (effective) state.
    #[param(value_type = Option<LicenseState>)]
    state: Option<String>,
    /// Only licenses for this Install ID.
    install_id: Option<String>,
    /// Only licenses that expire before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    expiring_before: Option<InputTime>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Licenses per page, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

refusals!(ReadRefusals: PasswordChangeRequired, ValidationFailed);

/// Lists licenses
///
/// Newest first, a page at a time; `state` is the effective state now.
#[utoipa::path(
    get,
    path = "/api/v1/licenses",
    operation_id = "list_licenses",
    tag = "licenses",
    params(ListQuery),
    responses((status = 200, description = "A page of licenses", body = licenses::Page), ReadRefusals),
    security(("bearer_token" = ["license.read"]), ("session_cookie" = ["license.read"])),
)]
pub async fn list(
    req: HttpRequest,
    staff: Staff<need::LicenseRead>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let q = q.into_inner();
    let license_state = q
        .state
        .as_deref()
        .map(str::parse::<LicenseState>)
        .transpose()
        .map_err(|e| ApiError::new(ErrorCode::ValidationFailed, format!("state: {e}")))?;
    let filter = Filter {
        state: license_state,
        install_id: q.install_id,
        expiring_before: timestamp::parse_opt("expiring_before", q.expiring_before.as_ref())
            .map_err(ServiceError::from)?,
    };
    let (tenant, now) = (staff.tenant.clone(), state.now());
    let page = blocking(move || {
        licenses::list(
            &tenant,
            now,
            filter,
            q.cursor.as_deref(),
            q.limit.unwrap_or(100),
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

refusals!(GetRefusals: PasswordChangeRequired, NotFound);

/// Shows a license
///
/// With its state history, current activations, recent heartbeats (50) and directives.
#[utoipa::path(
    get,
    path = "/api/v1/licenses/{id}",
    operation_id = "get_license",
    tag = "licenses",
    params(("id" = String, Path, description = "The license id (the key's `jti`)")),
    responses((status = 200, description = "The license and its records", body = licenses::LicenseDetail), GetRefusals),
    security(("bearer_token" = ["license.read"]), ("session_cookie" = ["license.read"])),
)]
pub async fn get(
    req: HttpRequest,
    staff: Staff<need::LicenseRead>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (tenant, now, id) = (staff.tenant.clone(), state.now(), id.into_inner());
    Ok(HttpResponse::Ok().json(blocking(move || licenses::detail(&tenant, now, &id)).await?))
}

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

type Revoker = Staff<need::LicenseRevoke>;

macro_rules! action {
    ($(#[$meta:meta])* $name:ident, $body:ty, |$tenant:ident, $now:ident, $actor:ident, $id:ident, $b:ident| $call:expr) => {
        $(#[$meta])*
        pub async fn $name(
            req: HttpRequest,
            staff: Revoker,
            id: web::Path<String>,
            body: web::Json<$body>,
        ) -> Result<HttpResponse, ApiError> {
            let state = state(&req)?;
            let (caller, $now, $id, $b) = (
                staff.caller.clone(),
                state.now(),
                id.into_inner(),
                body.into_inner(),
            );
            let view = blocking(move || {
                let ($tenant, $actor) = (&caller.tenant, caller.principal.actor());
                $call
            })
            .await?;
            Ok(HttpResponse::Ok().json(view))
        }
    };
}

action!(
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
        security(("bearer_token" = ["license.revoke"]), ("session_cookie" = ["license.revoke"], "csrf_token" = [])),
    )]
    revoke, RevokeBody, |t, now, actor, id, b| {
    license_actions::revoke(t, now, &actor, &id, &b.reason)
});
action!(
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
        security(("bearer_token" = ["license.revoke"]), ("session_cookie" = ["license.revoke"], "csrf_token" = [])),
    )]
    rebind, RebindBody, |t, now, actor, id, b| {
    license_actions::rebind(t, now, &actor, &id, &b.fingerprint)
});
action!(
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
        security(("bearer_token" = ["license.revoke"]), ("session_cookie" = ["license.revoke"], "csrf_token" = [])),
    )]
    suspend, SuspendBody, |t, now, actor, id, b| {
    license_actions::suspend(t, now, &actor, &id, &b.reason)
});
action!(
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
        security(("bearer_token" = ["license.revoke"]), ("session_cookie" = ["license.revoke"], "csrf_token" = [])),
    )]
    subscription, SubscriptionBody, |t, now, actor, id, b| {
    let period_end = timestamp::parse_opt("period_end", b.period_end.as_ref())?;
    license_actions::set_subscription(t, now, &actor, &id, b.status, period_end)
});
action!(
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
        security(("bearer_token" = ["license.revoke"]), ("session_cookie" = ["license.revoke"], "csrf_token" = [])),
    )]
    directive, DirectiveBody, |t, now, actor, id, b| {
    license_actions::queue_directive(t, now, &actor, &id, &b.kind, &b.message)
        .map(|id| DirectiveQueued { id })
});

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
    security(("bearer_token" = ["license.revoke"]), ("session_cookie" = ["license.revoke"], "csrf_token" = [])),
)]
pub async fn reinstate(
    req: HttpRequest,
    staff: Revoker,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, id) = (staff.caller.clone(), state.now(), id.into_inner());
    let view = blocking(move || {
        license_actions::reinstate(&caller.tenant, now, &caller.principal.actor(), &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SweepBody {
    /// Report what would change without changing it.
    #[serde(default)]
    dry_run: bool,
}

refusals!(SweepRefusals: PasswordChangeRequired);

/// Runs the fleet health sweep
///
/// Applies what time alone changes (expiry, lapsed grace, subscription) and re-assesses
/// the installations it touched; the scheduler runs it too. The body is optional; one
/// that is sent must be valid (`{"dry_rn": true}` is refused, not run for real).
#[utoipa::path(
    post,
    path = "/api/v1/licenses/health/sweep",
    operation_id = "run_sweep",
    tag = "licenses",
    request_body(content = Option<SweepBody>, description = "Optional; `{}` or no body runs for real"),
    responses((status = 200, description = "What the sweep did (or would do)", body = sweep::SweepReport), SweepRefusals),
    security(("bearer_token" = ["sweep.run"]), ("session_cookie" = ["sweep.run"], "csrf_token" = [])),
)]
pub async fn run_sweep(
    req: HttpRequest,
    staff: Staff<need::SweepRun>,
    body: OptionalJson<SweepBody>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, app) = (staff.caller.clone(), state.now(), state.app.clone());
    let dry_run = body.0.is_some_and(|b| b.dry_run);
    let report = blocking(move || {
        sweep::run_recorded(
            &app,
            &caller.tenant,
            now,
            &caller.principal.actor(),
            dry_run,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

refusals!(HeartbeatsRefusals: PasswordChangeRequired);

/// Shows recent heartbeats across the fleet
///
/// The last 200 heartbeats and the directives still waiting to be acknowledged.
#[utoipa::path(
    get,
    path = "/api/v1/licensing/heartbeats",
    operation_id = "list_heartbeats",
    tag = "licensing",
    responses((status = 200, description = "Recent heartbeats and pending directives", body = licenses::HeartbeatsOverview), HeartbeatsRefusals),
    security(("bearer_token" = ["license.read"]), ("session_cookie" = ["license.read"])),
)]
pub async fn heartbeats(staff: Staff<need::LicenseRead>) -> Result<HttpResponse, ApiError> {
    let tenant = staff.tenant.clone();
    Ok(HttpResponse::Ok()
        .json(blocking(move || licenses::heartbeats_overview(&tenant, 200)).await?))
}
