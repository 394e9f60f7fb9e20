//! Organizations in the portal (seed 000): *My organizations* (the home), *Create an
//! organization*, the organization's page (its licenses with their expiry, membership,
//! pending invitations, editing it, asking for its deletion) and a license's details
//! with its key. What a member may do is decided by `service::organizations`; an
//! organization the customer does not belong to is 404 there.
//!
//! Every form on the organization page posts to a path under it and comes back to it:
//! with a notice on success, or the page again with the refusal beside the form.

use super::frame::{self, Frame, Refused, Rendered};
use super::notice::{NoticeQuery, PortalNotice};
use crate::domain::lifecycle::LicenseState;
use crate::http::customer_auth::{Customer, CustomerCaller, CustomerContext};
use crate::http::ui::form::see_other;
use crate::http::ui::reject::UiReject;
use crate::service::organizations::{self as orgs, CustomerActor, OrganizationView, PortalLicense};
use crate::service::{self, ServiceError};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, SecondsFormat, Utc};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// An error page of the portal (it links back to the portal's home).
pub(super) fn portal_error(e: ServiceError) -> UiReject {
    if e.is_internal() {
        tracing::error!(error = %e.report(), "portal page failed");
    }
    UiReject::problem(&e.problem(), "/portal/")
}

/// The customer acting.
pub(super) fn acting(cx: &CustomerContext) -> CustomerActor {
    CustomerActor::from(&cx.principal)
}

fn state_class(s: LicenseState) -> &'static str {
    match s {
        LicenseState::Active => "good",
        LicenseState::Locked | LicenseState::Suspended => "warn",
        LicenseState::Revoked | LicenseState::Expired => "bad",
        LicenseState::Issued => "",
    }
}

/// A time as the portal's templates read it (`2026-06-01T09:00:00Z`; they cut it).
pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// What the portal shows of a license (the key only on its details page).
fn license_json(l: &PortalLicense) -> serde_json::Value {
    json!({
        "id": l.id, "name": l.name, "install_id": l.install_id,
        "internal_users": l.internal_users, "external_users": l.external_users,
        "state": l.state.as_str(), "state_class": state_class(l.state),
        "not_before": ts(l.not_before), "expires_at": ts(l.expires_at),
        "license_key": l.license_key.as_deref().unwrap_or(""),
    })
}

/// `GET /portal/` for a verified customer: *My organizations*.
pub(super) fn home(
    caller: &CustomerCaller,
    notice: Option<PortalNotice>,
    error: Option<String>,
    how: Rendered,
) -> Result<HttpResponse, UiReject> {
    let mine = orgs::mine(&caller.tenant, caller.principal.customer.id).map_err(portal_error)?;
    let list: Vec<serde_json::Value> = mine
        .iter()
        .map(|(o, role)| {
            json!({"id": o.id, "name": o.name, "notification_email": o.notification_email, "role": role})
        })
        .collect();
    frame::render(
        &caller.state,
        "portal_organizations.html",
        Frame::of(caller, notice),
        context! { organizations => list, error => error },
        how,
    )
}

/// What was typed into the organization form.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct DetailsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    notification_email: String,
}

fn new_page(
    caller: &CustomerCaller,
    typed: &DetailsForm,
    error: Option<String>,
    how: Rendered,
) -> Result<HttpResponse, UiReject> {
    frame::render(
        &caller.state,
        "portal_organization_new.html",
        Frame::of(caller, None),
        context! { form => typed, error => error },
        how,
    )
}

pub async fn new(page: Customer) -> Result<HttpResponse, UiReject> {
    let typed = DetailsForm {
        notification_email: page.principal.customer.email.clone(),
        ..DetailsForm::default()
    };
    new_page(&page, &typed, None, Rendered::default())
}

pub async fn create(
    page: Customer,
    form: web::Form<DetailsForm>,
) -> Result<HttpResponse, UiReject> {
    let typed = form.into_inner();
    let f = typed.clone();
    let result = page
        .run(move |cx| {
            orgs::create(
                &cx.tenant,
                cx.now,
                &acting(cx),
                &f.name,
                &f.notification_email,
            )
        })
        .await;
    match result {
        Ok(id) => Ok(to_org(id, PortalNotice::OrganizationCreated)),
        Err(e) => {
            let (how, message, _) = frame::refusal(&e);
            new_page(&page, &typed, Some(message), how)
        }
    }
}

/// Back to the organization page with a notice.
pub(super) fn to_org(org_id: i64, notice: PortalNotice) -> HttpResponse {
    see_other(&format!(
        "/portal/organizations/{org_id}?notice={}",
        notice.code()
    ))
}

/// Renders the organization page.
pub(super) async fn org_page(
    page: &Customer,
    org_id: i64,
    notice: Option<PortalNotice>,
    refused: Refused,
    how: Rendered,
) -> Result<HttpResponse, UiReject> {
    let me = page.principal.customer.id;
    let view: OrganizationView = page
        .run(move |cx| orgs::view(&cx.tenant, me, org_id))
        .await
        .map_err(portal_error)?;
    let now = page.now;
    let org = &view.org;
    let members: Vec<serde_json::Value> = view
        .members
        .iter()
        .map(|m| {
            json!({"customer_id": m.customer_id, "email": m.email, "display_name": m.display_name,
                   "role": m.role, "since": ts(m.since), "disabled": m.disabled})
        })
        .collect();
    let invitations: Vec<serde_json::Value> = view
        .invitations
        .iter()
        .map(|i| {
            // `customer:<email>` or `staff:<email>`: people read the address.
            let by = i.invited_by.split_once(':').map_or(i.invited_by.as_str(), |(_, who)| who);
            json!({"id": i.id, "email": i.email, "role": i.role, "invited_by": by,
                   "sent_at": ts(i.sent_at), "expires_at": ts(i.expires_at), "expired": i.expires_at <= now})
        })
        .collect();
    let licenses: Vec<serde_json::Value> = view.licenses.iter().map(license_json).collect();
    let page_values: Value = context! {
        org => json!({
            "id": org.id, "name": org.name, "notification_email": org.notification_email,
            "deletion_requested_at": org.deletion_requested_at.map(ts),
        }),
        owner => view.role.manages(),
        me => me,
        members => members,
        invitations => invitations,
        licenses => licenses,
        failed => refused.form,
        error => refused.error,
        form => refused.typed,
    };
    frame::render(
        &page.state,
        "portal_organization.html",
        Frame::of(page, notice),
        page_values,
        how,
    )
}

pub async fn show(
    page: Customer,
    path: web::Path<i64>,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, UiReject> {
    org_page(
        &page,
        path.into_inner(),
        q.notice,
        Refused::default(),
        Rendered::default(),
    )
    .await
}

/// Finishes a form of the organization page: to the page with `notice`, or the page
/// again with the refusal beside `form`.
pub(super) async fn finish<T>(
    page: &Customer,
    org_id: i64,
    form: &'static str,
    typed: serde_json::Value,
    result: service::Result<T>,
    notice: PortalNotice,
) -> Result<HttpResponse, UiReject> {
    let done = format!("/portal/organizations/{org_id}?notice={}", notice.code());
    frame::finish(result, &done, form, Some(typed), |refused, how| {
        org_page(page, org_id, None, refused, how)
    })
    .await
}

/// Runs a use case for a form of the organization page and finishes it (`finish`).
pub(super) async fn act<T, F>(
    page: &Customer,
    org_id: i64,
    form: &'static str,
    typed: serde_json::Value,
    notice: PortalNotice,
    f: F,
) -> Result<HttpResponse, UiReject>
where
    F: FnOnce(&CustomerContext) -> service::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let result = page.run(f).await;
    finish(page, org_id, form, typed, result, notice).await
}

pub async fn edit(
    page: Customer,
    path: web::Path<i64>,
    form: web::Form<DetailsForm>,
) -> Result<HttpResponse, UiReject> {
    let org_id = path.into_inner();
    let f = form.into_inner();
    let typed = serde_json::to_value(&f).unwrap_or_default();
    act(
        &page,
        org_id,
        "edit",
        typed,
        PortalNotice::OrganizationSaved,
        move |cx| {
            let by = acting(cx);
            orgs::edit(
                &cx.tenant,
                cx.now,
                &by,
                org_id,
                &f.name,
                &f.notification_email,
            )
        },
    )
    .await
}

pub async fn leave(page: Customer, path: web::Path<i64>) -> Result<HttpResponse, UiReject> {
    let org_id = path.into_inner();
    let result = page
        .run(move |cx| orgs::leave(&cx.tenant, cx.now, &acting(cx), org_id))
        .await;
    match result {
        Ok(()) => Ok(see_other(&format!(
            "/portal/?notice={}",
            PortalNotice::LeftOrganization.code()
        ))),
        Err(e) => {
            let (how, message, _) = frame::refusal(&e);
            let refused = Refused {
                form: Some("members"),
                error: Some(message),
                typed: None,
            };
            org_page(&page, org_id, None, refused, how).await
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct DeletionForm {
    #[serde(default)]
    reason: String,
}

pub async fn request_deletion(
    page: Customer,
    path: web::Path<i64>,
    form: web::Form<DeletionForm>,
) -> Result<HttpResponse, UiReject> {
    let org_id = path.into_inner();
    let f = form.into_inner();
    let typed = serde_json::to_value(&f).unwrap_or_default();
    act(
        &page,
        org_id,
        "deletion",
        typed,
        PortalNotice::DeletionRequested,
        move |cx| {
            let by = acting(cx);
            orgs::request_deletion(&cx.app, &cx.tenant, cx.now, &by, org_id, &f.reason)
        },
    )
    .await
}

/// `GET /portal/organizations/{id}/licenses/{license}`: the license with its key.
pub async fn license(
    page: Customer,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, UiReject> {
    let (org_id, license_id) = path.into_inner();
    let me = page.principal.customer.id;
    let (org, l) = page
        .run(move |cx| orgs::license(&cx.tenant, me, org_id, &license_id))
        .await
        .map_err(portal_error)?;
    frame::render(
        &page.state,
        "portal_license.html",
        Frame::of(&page, None),
        context! {
            org => json!({"id": org.id, "name": org.name}),
            license => license_json(&l),
        },
        Rendered::default(),
    )
}
