//! `/api/v1/enterprise` (settings.manage): licd's own licenses.

use crate::http::auth::{Staff, need, state};
use crate::http::problem::ApiError;
use crate::http::state::blocking;
use crate::service::enterprise;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

type Manager = Staff<need::SettingsManage>;

pub async fn overview(req: HttpRequest, staff: Manager) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (tenant, now) = (staff.tenant.clone(), state.now());
    Ok(HttpResponse::Ok().json(blocking(move || enterprise::overview(&tenant, now)).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallBody {
    license_key: String,
}

pub async fn install(
    req: HttpRequest,
    staff: Manager,
    body: web::Json<InstallBody>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (app, caller, now, b) = (
        state.app.clone(),
        staff.caller.clone(),
        state.now(),
        body.into_inner(),
    );
    let o = blocking(move || {
        enterprise::install(
            &app,
            &caller.tenant,
            now,
            &caller.principal.actor(),
            &b.license_key,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(o))
}

pub async fn remove(
    req: HttpRequest,
    staff: Manager,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, id) = (staff.caller.clone(), state.now(), id.into_inner());
    let o =
        blocking(move || enterprise::remove(&caller.tenant, now, &caller.principal.actor(), &id))
            .await?;
    Ok(HttpResponse::Ok().json(o))
}
