//! `/api/v1/licenses`: issue, list, show, and staff actions.

use crate::domain::license::LicenseRequest;
use crate::domain::lifecycle::{LicenseState, SubscriptionStatus};
use crate::error::ErrorCode;
use crate::http::auth::{Staff, need, state};
use crate::http::problem::ApiError;
use crate::http::state::blocking;
use crate::service::{license_actions, licenses, sweep};
use crate::store::licenses::Filter;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<String>,
    install_id: Option<String>,
    expiring_before: Option<DateTime<Utc>>,
    cursor: Option<String>,
    limit: Option<usize>,
}

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
        expiring_before: q.expiring_before,
        after: None,
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

pub async fn get(
    req: HttpRequest,
    staff: Staff<need::LicenseRead>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (tenant, now, id) = (staff.tenant.clone(), state.now(), id.into_inner());
    Ok(HttpResponse::Ok().json(blocking(move || licenses::detail(&tenant, now, &id)).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebindBody {
    fingerprint: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionBody {
    status: SubscriptionStatus,
    period_end: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectiveBody {
    kind: String,
    #[serde(default)]
    message: String,
}

type Revoker = Staff<need::LicenseRevoke>;

macro_rules! action {
    ($name:ident, $body:ty, |$tenant:ident, $now:ident, $actor:ident, $id:ident, $b:ident| $call:expr) => {
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

action!(revoke, ReasonBody, |t, now, actor, id, b| {
    license_actions::revoke(t, now, &actor, &id, &b.reason)
});
action!(rebind, RebindBody, |t, now, actor, id, b| {
    license_actions::rebind(t, now, &actor, &id, &b.fingerprint)
});
action!(suspend, ReasonBody, |t, now, actor, id, b| {
    license_actions::suspend(t, now, &actor, &id, &b.reason)
});
action!(subscription, SubscriptionBody, |t, now, actor, id, b| {
    license_actions::set_subscription(t, now, &actor, &id, b.status, b.period_end)
});
action!(directive, DirectiveBody, |t, now, actor, id, b| {
    license_actions::queue_directive(t, now, &actor, &id, &b.kind, &b.message)
        .map(|id| json!({ "id": id }))
});

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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepBody {
    #[serde(default)]
    dry_run: bool,
}

/// `POST /api/v1/licenses/health/sweep` (sweep.run). The body is optional.
pub async fn run_sweep(
    req: HttpRequest,
    staff: Staff<need::SweepRun>,
    body: Option<web::Json<SweepBody>>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now) = (staff.caller.clone(), state.now());
    let dry_run = body.map(|b| b.dry_run).unwrap_or(false);
    let report =
        blocking(move || sweep::run(&caller.tenant, now, &caller.principal.actor(), dry_run))
            .await?;
    Ok(HttpResponse::Ok().json(report))
}

pub async fn heartbeats(staff: Staff<need::LicenseRead>) -> Result<HttpResponse, ApiError> {
    let tenant = staff.tenant.clone();
    Ok(HttpResponse::Ok()
        .json(blocking(move || licenses::heartbeats_overview(&tenant, 200)).await?))
}
