//! `POST /api/v1/licenses/health/sweep` (sweep.run): the fleet health sweep, on demand.

use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::optional_json::OptionalJson;
use crate::http::problem::ApiError;
use crate::service::sweep;
use actix_web::HttpResponse;
use serde::Deserialize;
use utoipa::ToSchema;

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
)]
pub async fn run(
    staff: Staff<need::SweepRun>,
    body: OptionalJson<SweepBody>,
) -> Result<HttpResponse, ApiError> {
    let dry_run = body.0.is_some_and(|b| b.dry_run);
    let report = staff
        .run(move |cx| sweep::run_recorded(&cx.app, &cx.tenant, cx.now, &cx.actor, dry_run))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
