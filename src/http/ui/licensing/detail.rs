//! One license (license.read): its key, state, binding, subscription, history,
//! activations, heartbeats and directives, and the staff actions the visitor may use.

use crate::domain::lifecycle::LicenseState;
use crate::domain::permissions::Permission;
use crate::http::auth::{Caller, Page, need, state};
use crate::http::state::{AppState, blocking};
use crate::http::ui::reject::UiReject;
use crate::http::ui::{PageQuery, render_status};
use crate::service::license_actions::DIRECTIVE_KINDS;
use crate::service::licenses;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};

/// Subscription statuses staff may set from the page.
const SUBSCRIPTION_STATUSES: &[&str] = &["active", "past_due", "canceled"];

/// Renders a license's page; a missing license is the 404 page.
pub async fn render_detail(
    state: &AppState,
    caller: &Caller,
    id: String,
    extra: Value,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, UiReject> {
    let (tenant, now) = (caller.tenant.clone(), state.now());
    let detail = blocking(move || licenses::detail(&tenant, now, &id)).await?;
    let live = !detail.license.state.is_final();
    let suspended = detail.license.state == LicenseState::Suspended;
    let can_act = caller.principal.can(Permission::LicenseRevoke);
    let ctx = context! {
        l => detail,
        can_act => can_act,
        live => live,
        suspended => suspended,
        subscription_statuses => SUBSCRIPTION_STATUSES,
        directive_kinds => DIRECTIVE_KINDS,
        ..extra
    };
    Ok(render_status(
        state,
        caller,
        "licensing_detail.html",
        "/licensing",
        ctx,
        notice,
        status,
    )?)
}

pub async fn show(
    req: HttpRequest,
    page: Page<need::LicenseRead>,
    id: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    render_detail(
        &state,
        &page,
        id.into_inner(),
        context! {},
        q.notice.as_deref(),
        StatusCode::OK,
    )
    .await
}
