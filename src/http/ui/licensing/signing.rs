//! Signing keys (signing.manage): list, rotate, retire.

use crate::http::auth::{Page, need, state};
use crate::http::state::{AppState, blocking};
use crate::http::ui::reject::UiReject;
use crate::http::ui::{PageQuery, form_error, render_status, see_other};
use crate::service::signing_keys;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};

type SigningPage = Page<need::SigningManage>;

async fn render_signing(
    state: &AppState,
    page: &SigningPage,
    extra: Value,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, UiReject> {
    let tenant = page.tenant.clone();
    let keys = blocking(move || signing_keys::list(&tenant)).await?;
    let ctx = context! { keys => keys, ..extra };
    Ok(render_status(
        state,
        page,
        "licensing_signing.html",
        "/licensing/signing",
        ctx,
        notice,
        status,
    )?)
}

pub async fn show(
    req: HttpRequest,
    page: SigningPage,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    render_signing(
        &state,
        &page,
        context! {},
        q.notice.as_deref(),
        StatusCode::OK,
    )
    .await
}

pub async fn rotate(req: HttpRequest, page: SigningPage) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (app, caller, now) = (state.app.clone(), page.caller.clone(), state.now());
    let result = blocking(move || {
        signing_keys::rotate(&app, &caller.tenant, now, &caller.principal.actor())
    })
    .await;
    match result {
        Ok(_) => Ok(see_other("/licensing/signing?notice=signing_rotated")),
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            render_signing(&state, &page, context! { error => message }, None, status).await
        }
    }
}

pub async fn retire(
    req: HttpRequest,
    page: SigningPage,
    kid: web::Path<String>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (app, caller, now, kid) = (
        state.app.clone(),
        page.caller.clone(),
        state.now(),
        kid.into_inner(),
    );
    let result = blocking(move || {
        signing_keys::retire(&app, &caller.tenant, now, &caller.principal.actor(), &kid)
    })
    .await;
    match result {
        Ok(()) => Ok(see_other("/licensing/signing?notice=signing_retired")),
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            render_signing(&state, &page, context! { error => message }, None, status).await
        }
    }
}
