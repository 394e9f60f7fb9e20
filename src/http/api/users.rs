//! `/api/v1/users`: staff accounts (users.manage).

use crate::domain::permissions::Role;
use crate::domain::staff::StaffKind;
use crate::domain::timestamp::{self, InputTime};
use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::staff::{self, NewServiceAccount, NewStaffInput, StaffPatch, StaffView};
use crate::service::tokens::{self, TokenView};
use actix_web::{HttpResponse, web};
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
)]
pub async fn list(staff: Manager) -> Result<HttpResponse, ApiError> {
    let items = staff.run(|cx| staff::list(&cx.tenant)).await?;
    Ok(HttpResponse::Ok().json(UserList { items }))
}

refusals!(GetRefusals: PasswordChangeRequired, NotFound);
refusals!(ResetRefusals: PasswordChangeRequired, NotFound, ServiceAccountNoPassword);

/// Shows a staff account
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    operation_id = "get_user",
    tag = "users",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 200, description = "The account", body = StaffView), GetRefusals),
)]
pub async fn get(staff: Manager, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let user = staff.run(move |cx| staff::get(&cx.tenant, id)).await?;
    Ok(HttpResponse::Ok().json(user))
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
    /// `person` (default) or `service`: a service account has no password (send none),
    /// never signs in and is not a licensed user; staff make API tokens for it
    /// (`POST /api/v1/users/{id}/tokens`), which act with its role.
    #[serde(default)]
    kind: StaffKind,
}

refusals!(CreateRefusals: PasswordChangeRequired, EmailTaken);

/// Creates a staff account
///
/// Without `password`, licd makes a one-time password (in the reply, once) that must be
/// changed at the first sign-in. With `"kind": "service"`, a service account (no
/// password). `validation_failed` names the field (email, password policy, display
/// name).
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
)]
pub async fn create(staff: Manager, body: web::Json<CreateBody>) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    if b.kind == StaffKind::Service {
        if b.password.is_some() {
            return Err(ApiError::new(
                crate::error::ErrorCode::ValidationFailed,
                "password: a service account has no password (it uses API tokens)",
            ));
        }
        let input = NewServiceAccount {
            email: b.email,
            display_name: b.display_name,
            role: b.role,
        };
        let created = staff
            .run(move |cx| staff::create_service(&cx.tenant, cx.now, &cx.actor, input))
            .await?;
        return Ok(HttpResponse::Created().json(created));
    }
    let input = NewStaffInput {
        email: b.email,
        display_name: b.display_name,
        role: b.role,
        password: b.password,
    };
    let created = staff
        .run_password(move |cx| {
            let min_len = cx.app.config.auth.min_password_length;
            staff::create(&cx.tenant, cx.now, &cx.actor, input, min_len)
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
)]
pub async fn update(
    staff: Manager,
    id: web::Path<i64>,
    body: web::Json<UpdateBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.into_inner());
    let patch = StaffPatch {
        role: b.role,
        disabled: b.disabled,
        display_name: b.display_name,
    };
    let user = staff
        .run(move |cx| staff::update(&cx.tenant, cx.now, &cx.actor, id, patch))
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
/// `auth.one_time_password_hours` (72 by default). A service account has no password
/// (`service_account_no_password`).
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/reset-password",
    operation_id = "reset_user_password",
    tag = "users",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 200, description = "The new one-time password", body = OneTimePassword), ResetRefusals),
)]
pub async fn reset_password(staff: Manager, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let one_time_password = staff
        .run_password(move |cx| staff::reset_password(&cx.tenant, cx.now, &cx.actor, id))
        .await?;
    Ok(HttpResponse::Ok().json(OneTimePassword { one_time_password }))
}

refusals!(ServiceTokenRefusals: PasswordChangeRequired, NotFound, NotAServiceAccount);
refusals!(NewServiceTokenRefusals:
    PasswordChangeRequired,
    NotFound,
    NotAServiceAccount,
    AccountDisabled,
);

/// Lists a service account's API tokens
///
/// Revoked and expired ones too (`active` tells); secrets are never shown again.
/// A person's tokens are theirs alone (`not_a_service_account`).
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/tokens",
    operation_id = "list_service_tokens",
    tag = "users",
    params(("id" = i64, Path, description = "The service account's id")),
    responses((status = 200, description = "The account and its tokens", body = tokens::ServiceTokens), ServiceTokenRefusals),
)]
pub async fn service_tokens(staff: Manager, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let list = staff
        .run(move |cx| tokens::list_for_service(&cx.tenant, cx.now, id))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateServiceTokenBody)]
pub struct ServiceTokenBody {
    #[schema(schema_with = crate::domain::fields::token_name)]
    name: String,
    /// RFC 3339; absent for a token that does not expire.
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<InputTime>,
}

/// Creates an API token for a service account
///
/// The secret (`licd_...`) is in the reply, once; the token acts with the account's
/// role. Disabling the account revokes its tokens.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/tokens",
    operation_id = "create_service_token",
    tag = "users",
    params(("id" = i64, Path, description = "The service account's id")),
    request_body = ServiceTokenBody,
    responses(
        (status = 201, description = "Created; `secret` is shown this once", body = tokens::CreatedToken),
        NewServiceTokenRefusals,
    ),
)]
pub async fn create_service_token(
    staff: Manager,
    id: web::Path<i64>,
    body: web::Json<ServiceTokenBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, b) = (id.into_inner(), body.into_inner());
    let created = staff
        .run(move |cx| {
            let expires_at = timestamp::parse_opt("expires_at", b.expires_at.as_ref())?;
            tokens::create_for_service(&cx.tenant, cx.now, &cx.actor, id, &b.name, expires_at)
        })
        .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Revokes a service account's API token
///
/// Revoking twice is harmless; a token of another account is `not_found`.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/tokens/{token_id}",
    operation_id = "revoke_service_token",
    tag = "users",
    params(
        ("id" = i64, Path, description = "The service account's id"),
        ("token_id" = i64, Path, description = "The token's id"),
    ),
    responses((status = 200, description = "The token, revoked", body = TokenView), ServiceTokenRefusals),
)]
pub async fn revoke_service_token(
    staff: Manager,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (id, token_id) = path.into_inner();
    let token = staff
        .run(move |cx| tokens::revoke_for_service(&cx.tenant, cx.now, &cx.actor, id, token_id))
        .await?;
    Ok(HttpResponse::Ok().json(token))
}
