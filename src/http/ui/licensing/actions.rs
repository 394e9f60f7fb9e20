//! Staff actions on a license (license.revoke): revoke, rebind, suspend, reinstate, set
//! the subscription, queue a directive. Each redirects back to the license's page with a
//! notice, or shows that page again with the refusal and what was typed.

use super::date;
use super::detail::view;
use crate::domain::lifecycle::SubscriptionStatus;
use crate::error::ErrorCode;
use crate::http::auth::{Page, need};
use crate::http::context::StaffContext;
use crate::http::ui::form::{Done, submit};
use crate::http::ui::notice::Notice;
use crate::http::ui::reject::UiReject;
use crate::service::{Result, license_actions as act, refuse};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

type ActPage = Page<need::LicenseRevoke>;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RebindForm {
    #[serde(default)]
    fingerprint: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SubscriptionForm {
    #[serde(default)]
    status: String,
    /// `YYYY-MM-DD`, the last paid day; blank for none.
    #[serde(default)]
    period_end: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DirectiveForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    message: String,
}

/// Runs an action on license `id` from the form `form` (its HTML id); on success, back
/// to the license's page with `notice`.
async fn apply<T, F>(
    page: ActPage,
    id: String,
    form: &'static str,
    typed: &impl Serialize,
    notice: Notice,
    action: F,
) -> std::result::Result<HttpResponse, UiReject>
where
    T: Send + 'static,
    F: FnOnce(&StaffContext, &str) -> Result<T> + Send + 'static,
{
    let target = id.clone();
    let result = page.run(move |cx| action(cx, &target)).await;
    // Only an existing license (a UUID) gets to `Done`, so the id is safe in a URL.
    let to = format!("/licensing/licenses/{id}");
    submit(
        &page,
        form,
        typed,
        result,
        |_| Done::to(to).notice(notice),
        |shown| view(&page, id, shown),
    )
    .await
}

pub async fn revoke(
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let reason = form.reason.clone();
    apply(
        page,
        id.into_inner(),
        "revoke-form",
        &form,
        Notice::LicenseRevoked,
        move |cx, id| act::revoke(&cx.tenant, cx.now, &cx.actor, id, &reason),
    )
    .await
}

pub async fn rebind(
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<RebindForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let fingerprint = form.fingerprint.clone();
    apply(
        page,
        id.into_inner(),
        "rebind-form",
        &form,
        Notice::LicenseRebound,
        move |cx, id| act::rebind(&cx.tenant, cx.now, &cx.actor, id, &fingerprint),
    )
    .await
}

pub async fn suspend(
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let reason = form.reason.clone();
    apply(
        page,
        id.into_inner(),
        "suspend-form",
        &form,
        Notice::LicenseSuspended,
        move |cx, id| act::suspend(&cx.tenant, cx.now, &cx.actor, id, &reason),
    )
    .await
}

pub async fn reinstate(
    page: ActPage,
    id: web::Path<String>,
) -> std::result::Result<HttpResponse, UiReject> {
    apply(
        page,
        id.into_inner(),
        "reinstate-form",
        &(),
        Notice::LicenseReinstated,
        |cx, id| act::reinstate(&cx.tenant, cx.now, &cx.actor, id),
    )
    .await
}

pub async fn subscription(
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<SubscriptionForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let typed = form.clone();
    apply(
        page,
        id.into_inner(),
        "subscription-form",
        &typed,
        Notice::SubscriptionUpdated,
        move |cx, id| {
            let status: SubscriptionStatus = form
                .status
                .parse()
                .map_err(|e: String| refuse(ErrorCode::ValidationFailed, format!("status: {e}")))?;
            let period_end = date("period_end", &form.period_end, true)?;
            act::set_subscription(&cx.tenant, cx.now, &cx.actor, id, status, period_end)
        },
    )
    .await
}

pub async fn directive(
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<DirectiveForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let typed = form.clone();
    apply(
        page,
        id.into_inner(),
        "directive-form",
        &typed,
        Notice::DirectiveQueued,
        move |cx, id| {
            act::queue_directive(&cx.tenant, cx.now, &cx.actor, id, &form.kind, &form.message)
        },
    )
    .await
}
