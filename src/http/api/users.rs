//! `/api/v1/users`: staff accounts (users.manage).

use crate::domain::permissions::Role;
use crate::http::auth::{Staff, need, state};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::http::state::{blocking, password_work};
use crate::service::staff::{self, NewStaffInput, StaffPatch, StaffView};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type Manager = Staff<need::UsersManage>;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<StaffView>,
}

refusals!(ListRefusals: PasswordChangeRequired);

/// Lists staff accounts
#[utoipa::path(
    get,
    path = "/api/v1/users",
    operation_id = "list_users",
    tag = "users",
    responses((status = 200, description = "Every staff account", body = UserList), ListRefusals),
    security(("bearer_token" = ["users.manage"]), ("session_cookie" = ["users.manage"])),
)]
pub async fn list(staff: Manager) -> Result<HttpResponse, ApiError> {
    let tenant = staff.tenant.clone();
    let items = blocking(move || staff::list(&tenant)).await?;
    Ok(HttpResponse::Ok().json(UserList { items }))
}

refusals!(GetRefusals: PasswordChangeRequired, NotFound);

/// Shows a staff account
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    operation_id = "get_user",
    tag = "users",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 200, description = "The account", body = StaffView), GetRefusals),
    security(("bearer_token" = ["users.manage"]), ("session_cookie" = ["users.manage"])),
)]
pub async fn get(staff: Manager, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = (staff.tenant.clone(), id.into_inner());
    Ok(HttpResponse::Ok().json(blocking(move || staff::get(&tenant, id)).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateUserBody)]
pub struct CreateBody {
    #[schema(schema_with = crate::domain::fields::email)]
    email: String,
    #[serde(default)]
    #[schema(schema_with = crate::domain::fields::display_name)]
    display_name: String,
    role: Role,
    #[schema(schema_with = crate::domain::fields::initial_password)]
    password: Option<String>,
}

refusals!(CreateRefusals: PasswordChangeRequired, EmailTaken);

/// Creates a staff account
///
/// Without `password`, licd makes a one-time password (in the reply, once) that must be
/// changed at the first sign-in. `validation_failed` names the field (email, password
/// policy, display name).
#[utoipa::path(
    post,
    path = "/api/v1/users",
    operation_id = "create_user",
    tag = "users",
    request_body = CreateBody,
    responses(
        (status = 201, description = "Created; `one_time_password` when licd made one", body = staff::Created),
        CreateRefusals,
    ),
    security(("bearer_token" = ["users.manage"]), ("session_cookie" = ["users.manage"], "csrf_token" = [])),
)]
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
    let created = password_work(&state, move || {
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

/// A change to an account; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateUserBody)]
pub struct UpdateBody {
    role: Option<Role>,
    disabled: Option<bool>,
    #[schema(schema_with = crate::domain::fields::display_name)]
    display_name: Option<String>,
}

refusals!(UpdateRefusals: PasswordChangeRequired, NotFound, LastSuperAdmin);

/// Changes a staff account
///
/// Role, disabled flag and display name; disabling ends the account's sessions and
/// revokes its API tokens (enabling it again does not revive them). Works in
/// read-only mode (so an installation over its user limit can be brought back).
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    operation_id = "update_user",
    tag = "users",
    params(("id" = i64, Path, description = "The account's id")),
    request_body = UpdateBody,
    responses((status = 200, description = "The account as changed", body = StaffView), UpdateRefusals),
    security(("bearer_token" = ["users.manage"]), ("session_cookie" = ["users.manage"], "csrf_token" = [])),
)]
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

#[derive(Debug, Serialize, ToSchema)]
pub struct OneTimePassword {
    /// Shown once; must be changed at the next sign-in.
    pub one_time_password: String,
}

/// Resets a staff account's password
///
/// Replaces the password with a one-time password (in the reply, once), ends every
/// session of the account and revokes its API tokens. The one-time password works for
/// `auth.one_time_password_hours` (72 by default).
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/reset-password",
    operation_id = "reset_user_password",
    tag = "users",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 200, description = "The new one-time password", body = OneTimePassword), GetRefusals),
    security(("bearer_token" = ["users.manage"]), ("session_cookie" = ["users.manage"], "csrf_token" = [])),
)]
pub async fn reset_password(
    req: HttpRequest,
    staff: Manager,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&req)?;
    let (caller, now, id) = (staff.caller.clone(), state.now(), id.into_inner());
    let one_time_password = password_work(&state, move || {
        staff::reset_password(&caller.tenant, now, &caller.principal.actor(), id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(OneTimePassword { one_time_password }))
}
