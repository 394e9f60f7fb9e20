//! Changing one's own password (forced after a one-time password).

use super::{PageQuery, form_error, render, render_status, see_other};
use crate::http::auth::{Page, need, state};
use crate::http::state::password_work;
use crate::http::ui::reject::UiReject;
use crate::service::auth;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

fn page_ctx(page: &Page<need::PendingPasswordOk>, error: Option<&str>) -> minijinja::Value {
    context! { forced => page.principal.user.must_change_password, error => error }
}

pub async fn show(
    req: HttpRequest,
    page: Page<need::PendingPasswordOk>,
    _q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    Ok(render(
        &state,
        &page,
        "password.html",
        "/password",
        page_ctx(&page, None),
    )?)
}

pub async fn submit(
    req: HttpRequest,
    page: Page<need::PendingPasswordOk>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let form = form.into_inner();
    if form.new_password != form.confirm_password {
        let ctx = page_ctx(&page, Some("The new password and its confirmation differ."));
        return Ok(render_status(
            &state,
            &page,
            "password.html",
            "/password",
            ctx,
            None,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        )?);
    }
    let (app, caller, now) = (state.app.clone(), page.caller.clone(), state.now());
    let result = password_work(&state, move || {
        auth::change_password(
            &app,
            &caller.tenant,
            now,
            &caller.principal,
            &form.current_password,
            &form.new_password,
        )
    })
    .await;
    match result {
        Ok(()) => Ok(see_other("/?notice=password_changed")),
        Err(e) => {
            let problem = e.problem();
            let (status, message) = form_error(&problem);
            let ctx = page_ctx(&page, Some(&message));
            let mut resp = render_status(
                &state,
                &page,
                "password.html",
                "/password",
                ctx,
                None,
                status,
            )?;
            if let Some(secs) = problem.retry_after {
                resp.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from(secs),
                );
            }
            Ok(resp)
        }
    }
}
