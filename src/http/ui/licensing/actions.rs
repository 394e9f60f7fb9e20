//! Staff actions on a license (license.revoke): revoke, rebind, suspend, reinstate, set
//! the subscription, queue a directive. Each redirects back to the license's page, or
//! shows that page again with the refusal.

use super::date;
use super::detail::render_detail;
use crate::domain::lifecycle::SubscriptionStatus;
use crate::error::ErrorCode;
use crate::http::auth::{Page, need, state};
use crate::http::state::blocking;
use crate::http::ui::reject::UiReject;
use crate::http::ui::{form_error, see_other};
use crate::service::tenants::Tenant;
use crate::service::{Actor, Result, license_actions as act, refuse};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use minijinja::context;
use serde::Deserialize;

type ActPage = Page<need::LicenseRevoke>;

#[derive(Debug, Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Deserialize)]
pub struct RebindForm {
    #[serde(default)]
    fingerprint: String,
}

#[derive(Debug, Deserialize)]
pub struct SubscriptionForm {
    #[serde(default)]
    status: String,
    /// `YYYY-MM-DD`, the last paid day; blank for none.
    #[serde(default)]
    period_end: String,
}

#[derive(Debug, Deserialize)]
pub struct DirectiveForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    message: String,
}

/// Runs an action on license `id`; on success, back to its page with `notice`.
async fn apply<T, F>(
    req: HttpRequest,
    page: ActPage,
    id: String,
    notice: &str,
    action: F,
) -> std::result::Result<HttpResponse, UiReject>
where
    T: Send + 'static,
    F: FnOnce(&Tenant, DateTime<Utc>, &Actor, &str) -> Result<T> + Send + 'static,
{
    let state = state(&req)?;
    let (caller, now) = (page.caller.clone(), state.now());
    let target = id.clone();
    let result =
        blocking(move || action(&caller.tenant, now, &caller.principal.actor(), &target)).await;
    match result {
        // Only an existing license (a UUID) gets here, so the id is safe in a URL.
        Ok(_) => Ok(see_other(&format!(
            "/licensing/licenses/{id}?notice={notice}"
        ))),
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            render_detail(
                &state,
                &page,
                id,
                context! { error => message },
                None,
                status,
            )
            .await
        }
    }
}

pub async fn revoke(
    req: HttpRequest,
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let reason = form.into_inner().reason;
    apply(
        req,
        page,
        id.into_inner(),
        "license_revoked",
        move |t, now, a, id| act::revoke(t, now, a, id, &reason),
    )
    .await
}

pub async fn rebind(
    req: HttpRequest,
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<RebindForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let fingerprint = form.into_inner().fingerprint;
    apply(
        req,
        page,
        id.into_inner(),
        "license_rebound",
        move |t, now, a, id| act::rebind(t, now, a, id, &fingerprint),
    )
    .await
}

pub async fn suspend(
    req: HttpRequest,
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let reason = form.into_inner().reason;
    apply(
        req,
        page,
        id.into_inner(),
        "license_suspended",
        move |t, now, a, id| act::suspend(t, now, a, id, &reason),
    )
    .await
}

pub async fn reinstate(
    req: HttpRequest,
    page: ActPage,
    id: web::Path<String>,
) -> std::result::Result<HttpResponse, UiReject> {
    apply(
        req,
        page,
        id.into_inner(),
        "license_reinstated",
        act::reinstate,
    )
    .await
}

pub async fn subscription(
    req: HttpRequest,
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<SubscriptionForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    apply(
        req,
        page,
        id.into_inner(),
        "subscription_updated",
        move |t, now, a, id| {
            let status: SubscriptionStatus = form
                .status
                .parse()
                .map_err(|e: String| refuse(ErrorCode::ValidationFailed, format!("status: {e}")))?;
            let period_end = date("period_end", &form.period_end, true)?;
            act::set_subscription(t, now, a, id, status, period_end)
        },
    )
    .await
}

pub async fn directive(
    req: HttpRequest,
    page: ActPage,
    id: web::Path<String>,
    form: web::Form<DirectiveForm>,
) -> std::result::Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    apply(
        req,
        page,
        id.into_inner(),
        "directive_queued",
        move |t, now, a, id| act::queue_directive(t, now, a, id, &form.kind, &form.message),
    )
    .await
}
