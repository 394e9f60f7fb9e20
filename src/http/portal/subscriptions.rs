//! An organization's subscriptions in the portal (seed 000, "Manage Billing", "Cancel
//! your subscription", "How to increase user counts"), listed on the Billing page: each
//! with its license, users, period and state; owners cancel at the period's end, undo
//! it, and change the user counts (a preview of the prorated charge first). Members see
//! them read-only.

use super::billing::billing_page;
use super::frame::{self, Frame, Rendered};
use super::notice::PortalNotice;
use super::organizations::{acting, portal_error};
use super::purchase::usage_view;
use crate::error::ErrorCode;
use crate::http::customer_auth::Customer;
use crate::http::ui::form::see_other;
use crate::http::ui::reject::UiReject;
use crate::service::subscriptions::{self as subs, ChangePreview, SubscriptionView};
use crate::service::{ServiceError, invoices, refuse};
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A subscription as the templates read it.
pub(super) fn subscription_json(s: &SubscriptionView) -> serde_json::Value {
    let day = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.date_naive().to_string());
    json!({
        "id": s.id, "license_id": s.license_id, "install_id": s.install_id,
        "license_name": s.license_name, "internal_users": s.internal_users,
        "external_users": s.external_users, "period": s.period, "status": s.status,
        "cancel_at_period_end": s.cancel_at_period_end,
        "period_start": day(s.current_period_start), "period_end": day(s.current_period_end),
        "pending_internal_users": s.pending_internal_users,
        "pending_external_users": s.pending_external_users,
        "can_cancel": s.can_cancel, "can_undo_cancel": s.can_undo_cancel, "can_change": s.can_change,
    })
}

fn billing_with(org_id: i64, notice: PortalNotice) -> String {
    format!(
        "/portal/organizations/{org_id}/billing?notice={}",
        notice.code()
    )
}

/// Back to the Billing page with `notice`, or that page again with the refusal beside
/// the subscriptions.
async fn finish<T>(
    page: &Customer,
    org_id: i64,
    result: Result<T, ServiceError>,
    notice: PortalNotice,
) -> Result<HttpResponse, UiReject> {
    let done = billing_with(org_id, notice);
    frame::finish(result, &done, "subscriptions", None, |refused, how| {
        billing_page(page, org_id, None, refused, how)
    })
    .await
}

/// `POST .../subscriptions/{sub}/cancel`: cancel at the period's end.
pub async fn cancel(page: Customer, path: web::Path<(i64, i64)>) -> Result<HttpResponse, UiReject> {
    let (org_id, id) = path.into_inner();
    let result = page
        .run(move |cx| subs::cancel(&cx.tenant, cx.now, &acting(cx), org_id, id))
        .await;
    finish(&page, org_id, result, PortalNotice::SubscriptionCanceled).await
}

/// `POST .../subscriptions/{sub}/resume`: undo the cancellation.
pub async fn resume(page: Customer, path: web::Path<(i64, i64)>) -> Result<HttpResponse, UiReject> {
    let (org_id, id) = path.into_inner();
    let result = page
        .run(move |cx| subs::undo_cancel(&cx.tenant, cx.now, &acting(cx), org_id, id))
        .await;
    finish(&page, org_id, result, PortalNotice::SubscriptionResumed).await
}

/// The counts typed on the change page.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ChangeForm {
    #[serde(default)]
    internal_users: String,
    #[serde(default)]
    external_users: String,
}

impl ChangeForm {
    fn counts(&self) -> Result<(i64, i64), ServiceError> {
        let n = |field: &str, t: &str| {
            t.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    refuse(
                        ErrorCode::ValidationFailed,
                        format!("{field}: a whole number of users such as 25"),
                    )
                })
        };
        Ok((
            n("internal_users", &self.internal_users)?,
            n("external_users", &self.external_users)?,
        ))
    }
}

fn preview_json(p: &ChangePreview) -> serde_json::Value {
    let quote = p.quote.as_ref().map(|q| {
        let cur = q.currency.as_str();
        json!({
            "lines": q.lines.iter().map(|l| json!({"description": l.description,
                "amount": invoices::show(cur, l.amount_minor), "tax": invoices::show(cur, l.tax_minor)}))
                .collect::<Vec<_>>(),
            "subtotal": invoices::show(cur, q.subtotal_minor),
            "tax": invoices::show(cur, q.tax_minor),
            "total": invoices::show(cur, q.total_minor),
        })
    });
    json!({
        "kind": p.kind, "internal_users": p.internal_users, "external_users": p.external_users,
        "quote": quote, "days_remaining": p.days_remaining, "days_total": p.days_total,
        "effective": p.effective.to_string(),
    })
}

/// The change page: the subscription, the form, and (when counts are given) the
/// preview of what the change costs, with *Confirm*.
async fn change_page(
    page: &Customer,
    (org_id, id): (i64, i64),
    typed: &ChangeForm,
    error: Option<String>,
    how: Rendered,
) -> Result<HttpResponse, UiReject> {
    let me = page.principal.customer.id;
    let list = page
        .run(move |cx| subs::of_organization(&cx.tenant, cx.now, me, org_id))
        .await
        .map_err(portal_error)?;
    let s = list
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| portal_error(refuse(ErrorCode::NotFound, "no such subscription")))?;
    let mut error = error;
    let mut preview = None;
    if error.is_none() && !typed.internal_users.trim().is_empty() {
        let t = typed.clone();
        let result = page
            .run(move |cx| {
                let (i, e) = t.counts()?;
                subs::preview_change(&cx.tenant, cx.now, &acting(cx), org_id, id, i, e)
            })
            .await;
        match result {
            Ok(p) => preview = Some(preview_json(&p)),
            Err(e) => error = Some(frame::refusal(&e).1),
        }
    }
    let install_id = s.install_id.clone();
    let usage = page
        .run(move |cx| subs::usage_of(&cx.tenant, cx.now, me, org_id, &install_id))
        .await
        .ok()
        .flatten()
        .map(|f| usage_view(&f));
    frame::render(
        &page.state,
        "portal_change.html",
        Frame::of(page, None),
        context! {
            org => json!({"id": org_id}),
            subscription => subscription_json(&s),
            form => typed, error => error, preview => preview, usage => usage,
        },
        how,
    )
}

/// `GET .../subscriptions/{sub}/change[?internal_users=&external_users=]`.
pub async fn change_form(
    page: Customer,
    path: web::Path<(i64, i64)>,
    q: web::Query<ChangeForm>,
) -> Result<HttpResponse, UiReject> {
    change_page(
        &page,
        path.into_inner(),
        &q.into_inner(),
        None,
        Rendered::default(),
    )
    .await
}

/// `POST .../subscriptions/{sub}/change`: *Confirm*.
pub async fn change(
    page: Customer,
    path: web::Path<(i64, i64)>,
    form: web::Form<ChangeForm>,
) -> Result<HttpResponse, UiReject> {
    let (org_id, id) = path.into_inner();
    let typed = form.into_inner();
    let t = typed.clone();
    let result = page
        .run(move |cx| {
            let (i, e) = t.counts()?;
            subs::change_users(&cx.app, &cx.tenant, cx.now, &acting(cx), org_id, id, i, e)
        })
        .await;
    match result {
        Ok(c) if c.invoice_id.is_some() => Ok(see_other(&billing_with(
            org_id,
            PortalNotice::UpgradeInvoiced,
        ))),
        Ok(_) => Ok(see_other(&billing_with(
            org_id,
            PortalNotice::DecreaseScheduled,
        ))),
        Err(e) => {
            let (how, message, _) = frame::refusal(&e);
            change_page(&page, (org_id, id), &typed, Some(message), how).await
        }
    }
}
