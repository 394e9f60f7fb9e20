//! Enterprise > Licenses (settings.manage): this tenant's Install ID, install a license
//! key by pasting it, list and remove installed licenses, where the tenant stands.

use super::{PageQuery, form_error, render_status, see_other};
use crate::http::auth::{Page, need, state};
use crate::http::state::{AppState, blocking};
use crate::http::ui::reject::UiReject;
use crate::service::enterprise;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};
use serde::Deserialize;

type EnterprisePage = Page<need::SettingsManage>;

async fn render(
    state: &AppState,
    page: &EnterprisePage,
    extra: Value,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, UiReject> {
    let (tenant, now) = (page.tenant.clone(), state.now());
    let overview = blocking(move || enterprise::overview(&tenant, now)).await?;
    let ctx = context! { overview => overview, ..extra };
    Ok(render_status(
        state,
        page,
        "enterprise.html",
        "/enterprise",
        ctx,
        notice,
        status,
    )?)
}

pub async fn show(
    req: HttpRequest,
    page: EnterprisePage,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    render(
        &state,
        &page,
        context! {},
        q.notice.as_deref(),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct InstallForm {
    license_key: String,
}

pub async fn install(
    req: HttpRequest,
    page: EnterprisePage,
    form: web::Form<InstallForm>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (app, caller, now, key) = (
        state.app.clone(),
        page.caller.clone(),
        state.now(),
        form.into_inner().license_key,
    );
    let result = blocking(move || {
        enterprise::install(&app, &caller.tenant, now, &caller.principal.actor(), &key)
    })
    .await;
    match result {
        Ok(_) => Ok(see_other("/enterprise?notice=enterprise_installed")),
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            render(&state, &page, context! { error => message }, None, status).await
        }
    }
}

pub async fn remove(
    req: HttpRequest,
    page: EnterprisePage,
    id: web::Path<String>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (caller, now, id) = (page.caller.clone(), state.now(), id.into_inner());
    let result =
        blocking(move || enterprise::remove(&caller.tenant, now, &caller.principal.actor(), &id))
            .await;
    match result {
        Ok(_) => Ok(see_other("/enterprise?notice=enterprise_removed")),
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            render(&state, &page, context! { error => message }, None, status).await
        }
    }
}
