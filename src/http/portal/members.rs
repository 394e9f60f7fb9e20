//! An organization's membership in the portal: an owner removes a member, changes a
//! role, or hands ownership to another member; the owner's invitations (invite, resend,
//! revoke). The rules (owners only, never without an owner, resend limits) are in
//! `service::organizations` and `service::invitations`.

use super::notice::PortalNotice;
use super::organizations::{act, acting};
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
    act(
        &page,
        org_id,
        "members",
        json!({}),
        PortalNotice::MemberRemoved,
        move |cx| orgs::remove_member(&cx.tenant, cx.now, &acting(cx), org_id, member),
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
    act(
        &page,
        org_id,
        "members",
        json!({}),
        PortalNotice::RoleChanged,
        move |cx| {
            let role: OrgRole = role.parse().map_err(ServiceError::from)?;
            orgs::change_role(&cx.tenant, cx.now, &acting(cx), org_id, member, role)
        },
    )
    .await
}

pub async fn transfer(
    page: Customer,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, UiReject> {
    let (org_id, member) = path.into_inner();
    let notice = PortalNotice::OwnershipTransferred;
    act(&page, org_id, "members", json!({}), notice, move |cx| {
        orgs::transfer_ownership(&cx.tenant, cx.now, &acting(cx), org_id, member)
    })
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
    act(
        &page,
        org_id,
        "invite",
        typed,
        PortalNotice::InvitationSent,
        move |cx| {
            let role: OrgRole = f.role.parse().map_err(ServiceError::from)?;
            let by = acting(cx);
            invitations::invite(&cx.app, &cx.tenant, cx.now, &by, org_id, &f.email, role)
        },
    )
    .await
}

pub async fn resend(page: Customer, path: web::Path<(i64, i64)>) -> Result<HttpResponse, UiReject> {
    let (org_id, id) = path.into_inner();
    act(
        &page,
        org_id,
        "invite",
        json!({}),
        PortalNotice::InvitationResent,
        move |cx| invitations::resend(&cx.app, &cx.tenant, cx.now, &acting(cx), org_id, id),
    )
    .await
}

pub async fn revoke(page: Customer, path: web::Path<(i64, i64)>) -> Result<HttpResponse, UiReject> {
    let (org_id, id) = path.into_inner();
    act(
        &page,
        org_id,
        "invite",
        json!({}),
        PortalNotice::InvitationRevoked,
        move |cx| invitations::revoke(&cx.tenant, cx.now, &acting(cx), org_id, id),
    )
    .await
}
