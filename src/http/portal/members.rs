//! An organization's membership in the portal: an owner removes a member, changes a
//! role, or hands ownership to another member; the owner's invitations (invite, resend,
//! revoke). The rules (owners only, never without an owner, resend limits) are in
//! `service::organizations` and `service::invitations`.

use super::notice::PortalNotice;
use super::organizations::{acting, finish};
use crate::domain::organization::OrgRole;
use crate::http::customer_auth::Customer;
use crate::http::ui::reject::UiReject;
use crate::service::ServiceError;
use crate::service::{invitations, organizations as orgs};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub async fn remove(page: Customer, path: web::Path<(i64, i64)>) -> Result<HttpResponse, UiReject> {
    let (org_id, member) = path.into_inner();
    let result = page
        .run(move |cx| orgs::remove_member(&cx.tenant, cx.now, &acting(cx), org_id, member))
        .await;
    finish(
        &page,
        org_id,
        "members",
        json!({}),
        result,
        PortalNotice::MemberRemoved,
    )
    .await
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

pub async fn change_role(
    page: Customer,
    path: web::Path<(i64, i64)>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, UiReject> {
    let (org_id, member) = path.into_inner();
    let role = form.into_inner().role;
    let result = page
        .run(move |cx| {
            let role: OrgRole = role.parse().map_err(ServiceError::from)?;
            orgs::change_role(&cx.tenant, cx.now, &acting(cx), org_id, member, role)
        })
        .await;
    finish(
        &page,
        org_id,
        "members",
        json!({}),
        result,
        PortalNotice::RoleChanged,
    )
    .await
}

pub async fn transfer(
    page: Customer,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, UiReject> {
    let (org_id, member) = path.into_inner();
    let result = page
        .run(move |cx| orgs::transfer_ownership(&cx.tenant, cx.now, &acting(cx), org_id, member))
        .await;
    finish(
        &page,
        org_id,
        "members",
        json!({}),
        result,
        PortalNotice::OwnershipTransferred,
    )
    .await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub async fn invite(
    page: Customer,
    path: web::Path<i64>,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, UiReject> {
    let org_id = path.into_inner();
    let f = form.into_inner();
    let typed = serde_json::to_value(&f).unwrap_or_default();
    let result = page
        .run(move |cx| {
            let role: OrgRole = f.role.parse().map_err(ServiceError::from)?;
            invitations::invite(
                &cx.app,
                &cx.tenant,
                cx.now,
                &acting(cx),
                org_id,
                &f.email,
                role,
            )
        })
        .await;
    finish(
        &page,
        org_id,
        "invite",
        typed,
        result,
        PortalNotice::InvitationSent,
    )
    .await
}

pub async fn resend(page: Customer, path: web::Path<(i64, i64)>) -> Result<HttpResponse, UiReject> {
    let (org_id, id) = path.into_inner();
    let result = page
        .run(move |cx| invitations::resend(&cx.app, &cx.tenant, cx.now, &acting(cx), org_id, id))
        .await;
    finish(
        &page,
        org_id,
        "invite",
        json!({}),
        result,
        PortalNotice::InvitationResent,
    )
    .await
}

pub async fn revoke(page: Customer, path: web::Path<(i64, i64)>) -> Result<HttpResponse, UiReject> {
    let (org_id, id) = path.into_inner();
    let result = page
        .run(move |cx| invitations::revoke(&cx.tenant, cx.now, &acting(cx), org_id, id))
        .await;
    finish(
        &page,
        org_id,
        "invite",
        json!({}),
        result,
        PortalNotice::InvitationRevoked,
    )
    .await
}
