//! `/api/v1/installations` (license.read): capacity, usage, stage and timeline per
//! Install ID.

use crate::http::auth::{Staff, need, state};
use crate::http::problem::ApiError;
use crate::http::state::blocking;
use crate::service::installations;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    cursor: Option<String>,
    limit: Option<usize>,
}

pub async fn list(
    req: HttpRequest,
    staff: Staff<need::LicenseRead>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (tenant, now, q) = (staff.tenant.clone(), state.now(), q.into_inner());
    let page = blocking(move || {
        installations::list(&tenant, now, q.cursor.as_deref(), q.limit.unwrap_or(100))
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
    Ok(HttpResponse::Ok().json(blocking(move || installations::detail(&tenant, now, &id)).await?))
}
