//! `/api/v1/users`: staff accounts (users.manage).

use crate::domain::permissions::Role;
use crate::http::auth::{Staff, need, state};
use crate::http::problem::ApiError;
use crate::http::state::blocking;
use crate::service::staff::{self, NewStaffInput, StaffPatch};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

type Manager = Staff<need::UsersManage>;

pub async fn list(staff: Manager) -> Result<HttpResponse, ApiError> {
    let tenant = staff.tenant.clone();
    let users = blocking(move || staff::list(&tenant)).await?;
    Ok(HttpResponse::Ok().json(json!({ "items": users })))
}

pub async fn get(staff: Manager, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = (staff.tenant.clone(), id.into_inner());
    Ok(HttpResponse::Ok().json(blocking(move || staff::get(&tenant, id)).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    email: String,
    #[serde(default)]
    display_name: String,
    role: Role,
    /// Optional; without it licd makes a one-time password (in the reply, once).
    password: Option<String>,
}

pub async fn create(
    req: HttpRequest,
    staff: Manager,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, min_len, b) = (
        staff.caller.clone(),
        state.now(),
        state.app.config.auth.min_password_length,
        body.into_inner(),
    );
    let input = NewStaffInput {
        email: b.email,
        display_name: b.display_name,
        role: b.role,
        password: b.password,
    };
    let created = blocking(move || {
        staff::create(
            &caller.tenant,
            now,
            &caller.principal.actor(),
            input,
            min_len,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    role: Option<Role>,
    disabled: Option<bool>,
    display_name: Option<String>,
}

pub async fn update(
    req: HttpRequest,
    staff: Manager,
    id: web::Path<i64>,
    body: web::Json<UpdateBody>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, id, b) = (
        staff.caller.clone(),
        state.now(),
        id.into_inner(),
        body.into_inner(),
    );
    let patch = StaffPatch {
        role: b.role,
        disabled: b.disabled,
        display_name: b.display_name,
    };
    let user =
        blocking(move || staff::update(&caller.tenant, now, &caller.principal.actor(), id, patch))
            .await?;
    Ok(HttpResponse::Ok().json(user))
}

pub async fn reset_password(
    req: HttpRequest,
    staff: Manager,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, id) = (staff.caller.clone(), state.now(), id.into_inner());
    let password =
        blocking(move || staff::reset_password(&caller.tenant, now, &caller.principal.actor(), id))
            .await?;
    Ok(HttpResponse::Ok().json(json!({ "one_time_password": password })))
}
