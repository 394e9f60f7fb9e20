//! The dashboard: who you are, this tenant, and what happened lately.

use super::{PageQuery, render_status};
use crate::domain::permissions::Permission;
use crate::http::auth::{Page, need, state};
use crate::http::state::blocking;
use crate::http::ui::reject::UiReject;
use crate::service::audit::Filter;
use crate::service::{audit, staff, tokens};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;

pub async fn show(
    req: HttpRequest,
    page: Page<need::SignedIn>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let caller = page.caller.clone();
    let now = state.now();
    let (staff_count, my_tokens, recent) = blocking(move || {
        let staff_count = staff::list(&caller.tenant)?.len();
        let my_tokens = tokens::list(&caller.tenant, now, caller.principal.user.id)?
            .into_iter()
            .filter(|t| t.active)
            .count();
        let recent = if caller.principal.can(Permission::AuditRead) {
            Some(audit::list(&caller.tenant, Filter::default(), None, 10)?.items)
        } else {
            None
        };
        Ok((staff_count, my_tokens, recent))
    })
    .await?;
    let permissions: Vec<&str> = page
        .principal
        .role()
        .permissions()
        .iter()
        .map(|p| p.as_str())
        .collect();
    let ctx = context! {
        staff_count => staff_count,
        my_tokens => my_tokens,
        recent => recent,
        permissions => permissions,
    };
    Ok(render_status(
        &state,
        &page,
        "dashboard.html",
        "/",
        ctx,
        q.notice.as_deref(),
        StatusCode::OK,
    )?)
}
