//! `/api/v1/tokens`: the caller's own API tokens.

use crate::http::auth::{Staff, need, state};
use crate::http::problem::ApiError;
use crate::http::state::blocking;
use crate::service::tokens;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

type Owner = Staff<need::SignedIn>;

pub async fn list(req: HttpRequest, staff: Owner) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now) = (staff.caller.clone(), state.now());
    let items =
        blocking(move || tokens::list(&caller.tenant, now, caller.principal.user.id)).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    /// RFC 3339; absent for a token that does not expire.
    expires_at: Option<DateTime<Utc>>,
}

pub async fn create(
    req: HttpRequest,
    staff: Owner,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, b) = (staff.caller.clone(), state.now(), body.into_inner());
    let created = blocking(move || {
        let p = &caller.principal;
        tokens::create(
            &caller.tenant,
            now,
            &p.actor(),
            p.user.id,
            &b.name,
            b.expires_at,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

pub async fn revoke(
    req: HttpRequest,
    staff: Owner,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, id) = (staff.caller.clone(), state.now(), id.into_inner());
    let token = blocking(move || {
        let p = &caller.principal;
        tokens::revoke(&caller.tenant, now, &p.actor(), p.user.id, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(token))
}
