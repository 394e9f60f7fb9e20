//! Staff users (users.manage): list, create, change role, disable/enable, reset password.

use super::{PageQuery, form_error, render_status, see_other};
use crate::domain::permissions::Role;
use crate::error::ErrorCode;
use crate::http::auth::{Page, need, state};
use crate::http::state::{AppState, blocking, password_work};
use crate::http::ui::reject::UiReject;
use crate::service::staff::{self, NewStaffInput, StaffPatch};
use crate::service::{ServiceError, refuse};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};
use serde::Deserialize;

type UsersPage = Page<need::UsersManage>;

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    email: String,
    #[serde(default)]
    display_name: String,
    role: String,
}

#[derive(Debug, Deserialize)]
pub struct RoleForm {
    role: String,
}

fn parse_role(s: &str) -> Result<Role, ServiceError> {
    s.parse()
        .map_err(|e: String| refuse(ErrorCode::ValidationFailed, format!("role: {e}")))
}

/// Renders the users page with an optional outcome to show.
async fn render_users(
    state: &AppState,
    page: &UsersPage,
    extra: Value,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, UiReject> {
    let tenant = page.tenant.clone();
    let users = blocking(move || staff::list(&tenant)).await?;
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let otp_hours = state.app.config.auth.one_time_password_hours;
    let ctx = context! { users => users, roles => roles, me => page.principal.user.id, otp_hours => otp_hours, ..extra };
    Ok(render_status(
        state,
        page,
        "users.html",
        "/users",
        ctx,
        notice,
        status,
    )?)
}

pub async fn show(
    req: HttpRequest,
    page: UsersPage,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    render_users(
        &state,
        &page,
        context! {},
        q.notice.as_deref(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(
    req: HttpRequest,
    page: UsersPage,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (caller, now, min_len) = (
        page.caller.clone(),
        state.now(),
        state.app.config.auth.min_password_length,
    );
    let form = form.into_inner();
    let result = password_work(&state, move || {
        let input = NewStaffInput {
            email: form.email,
            display_name: form.display_name,
            role: parse_role(&form.role)?,
            password: None,
        };
        staff::create(
            &caller.tenant,
            now,
            &caller.principal.actor(),
            input,
            min_len,
        )
    })
    .await;
    match result {
        Ok(created) => {
            let extra = context! { created => created };
            render_users(&state, &page, extra, None, StatusCode::CREATED).await
        }
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            render_users(&state, &page, context! { error => message }, None, status).await
        }
    }
}

/// Applies a change and answers with a redirect, or the page with the refusal.
async fn apply(
    req: HttpRequest,
    page: UsersPage,
    id: i64,
    patch: Result<StaffPatch, ServiceError>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (caller, now) = (page.caller.clone(), state.now());
    let result =
        blocking(move || staff::update(&caller.tenant, now, &caller.principal.actor(), id, patch?))
            .await;
    match result {
        Ok(_) => Ok(see_other("/users?notice=user_updated")),
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            render_users(&state, &page, context! { error => message }, None, status).await
        }
    }
}

pub async fn change_role(
    req: HttpRequest,
    page: UsersPage,
    id: web::Path<i64>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, UiReject> {
    let patch = parse_role(&form.role).map(|role| StaffPatch {
        role: Some(role),
        ..Default::default()
    });
    apply(req, page, id.into_inner(), patch).await
}

pub async fn disable(
    req: HttpRequest,
    page: UsersPage,
    id: web::Path<i64>,
) -> Result<HttpResponse, UiReject> {
    apply(
        req,
        page,
        id.into_inner(),
        Ok(StaffPatch {
            disabled: Some(true),
            ..Default::default()
        }),
    )
    .await
}

pub async fn enable(
    req: HttpRequest,
    page: UsersPage,
    id: web::Path<i64>,
) -> Result<HttpResponse, UiReject> {
    apply(
        req,
        page,
        id.into_inner(),
        Ok(StaffPatch {
            disabled: Some(false),
            ..Default::default()
        }),
    )
    .await
}

pub async fn reset_password(
    req: HttpRequest,
    page: UsersPage,
    id: web::Path<i64>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (caller, now, id) = (page.caller.clone(), state.now(), id.into_inner());
    let result = password_work(&state, move || {
        let password = staff::reset_password(&caller.tenant, now, &caller.principal.actor(), id)?;
        Ok((staff::get(&caller.tenant, id)?, password))
    })
    .await;
    match result {
        Ok((user, password)) => {
            let extra = context! { reset => context! { email => user.email, one_time_password => password } };
            render_users(&state, &page, extra, None, StatusCode::OK).await
        }
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            render_users(&state, &page, context! { error => message }, None, status).await
        }
    }
}
