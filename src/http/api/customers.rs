//! `/api/v1/customers`: customer accounts of the portal, as staff manage them
//! (orgs.manage): list and search, show with organizations, disable and enable, email a
//! password-reset link or the verification link again.

use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::customers::{self, CustomerDetail, CustomerView};
use crate::service::portal_links::LinkSent;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type Manager = Staff<need::OrgsManage>;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Accounts whose email contains this (case-insensitive); all when absent.
    #[param(max_length = 254)]
    search: Option<String>,
    /// The most accounts returned, 1 to 500 (default 500).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerList {
    /// By email.
    pub items: Vec<CustomerView>,
}

refusals!(ListRefusals: PasswordChangeRequired, ValidationFailed);

/// Lists customer accounts
#[utoipa::path(
    get,
    path = "/api/v1/customers",
    operation_id = "list_customers",
    tag = "customers",
    params(ListQuery),
    responses((status = 200, description = "Customer accounts, by email", body = CustomerList), ListRefusals),
)]
pub async fn list(staff: Manager, q: web::Query<ListQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(customers::LIST_LIMIT);
    if !(1..=customers::LIST_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            crate::error::ErrorCode::ValidationFailed,
            format!("limit: must be 1 to {}", customers::LIST_LIMIT),
        ));
    }
    let search = q.search.unwrap_or_default();
    let items = staff
        .run(move |cx| customers::list(&cx.tenant, &search, limit))
        .await?;
    Ok(HttpResponse::Ok().json(CustomerList { items }))
}

refusals!(GetRefusals: PasswordChangeRequired, NotFound);

/// Shows a customer account
///
/// With the organizations it belongs to and its role in each.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{id}",
    operation_id = "get_customer",
    tag = "customers",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 200, description = "The account", body = CustomerDetail), GetRefusals),
)]
pub async fn get(staff: Manager, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let account = staff.run(move |cx| customers::show(&cx.tenant, id)).await?;
    Ok(HttpResponse::Ok().json(account))
}

/// A change to a customer account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateCustomerBody)]
pub struct UpdateBody {
    /// Disable (true) or enable (false) the account.
    disabled: bool,
}

/// Disables or enables a customer account
///
/// Disabling ends the account's portal sessions and its unused emailed links at once;
/// it can no longer sign in, and it is not a licensed external user. Its memberships
/// stay. Works in read-only mode (a user change).
#[utoipa::path(
    patch,
    path = "/api/v1/customers/{id}",
    operation_id = "update_customer",
    tag = "customers",
    params(("id" = i64, Path, description = "The account's id")),
    request_body = UpdateBody,
    responses((status = 200, description = "The account as changed", body = CustomerView), GetRefusals),
)]
pub async fn update(
    staff: Manager,
    id: web::Path<i64>,
    body: web::Json<UpdateBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, disabled) = (id.into_inner(), body.disabled);
    let account = staff
        .run(move |cx| customers::set_disabled(&cx.tenant, cx.now, &cx.actor, id, disabled))
        .await?;
    Ok(HttpResponse::Ok().json(account))
}

refusals!(SendRefusals: PasswordChangeRequired, NotFound, AccountDisabled);

/// Emails a customer a password-reset link
///
/// The link (single use, `portal.link_hours`) lets the customer choose a new password,
/// which ends every session of the account. The reply names the outbox message: without
/// SMTP, read its link under Administration > Outbox and hand it over.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{id}/reset-password",
    operation_id = "send_customer_password_reset",
    tag = "customers",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 200, description = "The link is in the outbox", body = LinkSent), SendRefusals),
)]
pub async fn reset_password(staff: Manager, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let sent = staff
        .run(move |cx| customers::send_password_reset(&cx.app, &cx.tenant, cx.now, &cx.actor, id))
        .await?;
    Ok(HttpResponse::Ok().json(sent))
}

refusals!(ResendRefusals: PasswordChangeRequired, NotFound, AccountDisabled, EmailAlreadyVerified);

/// Emails an unverified customer its verification link again
///
/// A new link replaces the earlier one. Refused when the address is verified already.
#[utoipa::path(
    post,
    path = "/api/v1/customers/{id}/resend-verification",
    operation_id = "resend_customer_verification",
    tag = "customers",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 200, description = "The link is in the outbox", body = LinkSent), ResendRefusals),
)]
pub async fn resend_verification(
    staff: Manager,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let sent = staff
        .run(move |cx| customers::resend_verification(&cx.app, &cx.tenant, cx.now, &cx.actor, id))
        .await?;
    Ok(HttpResponse::Ok().json(sent))
}
