//! Staff users (users.manage): list, create, change role, disable/enable, reset password.

use super::form::{Done, PageQuery, Shown, View, submit};
use super::notice::Notice;
use super::reject::UiReject;
use crate::domain::permissions::Role;
use crate::error::ErrorCode;
use crate::http::auth::{Page, need};
use crate::service::staff::{self, NewStaffInput, StaffPatch};
use crate::service::{ServiceError, refuse};
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

type UsersPage = Page<need::UsersManage>;

const VIEW: View = View {
    template: "users.html",
    nav: "/users",
};

/// The new-user form as typed (shown again after a refusal).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CreateForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

fn parse_role(s: &str) -> Result<Role, ServiceError> {
    s.parse()
        .map_err(|e: String| refuse(ErrorCode::ValidationFailed, format!("role: {e}")))
}

async fn view(page: &UsersPage, shown: Shown) -> Result<HttpResponse, UiReject> {
    let users = page.run(|cx| staff::list(&cx.tenant)).await?;
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let otp_hours = page.state.app.config.auth.one_time_password_hours;
    let ctx = context! {
        users => users,
        roles => roles,
        me => page.principal.user.id,
        otp_hours => otp_hours,
        form => CreateForm::default(),
    };
    page.render(VIEW, ctx, shown)
}

pub async fn show(page: UsersPage, q: web::Query<PageQuery>) -> Result<HttpResponse, UiReject> {
    view(&page, page.shown(&q)).await
}

pub async fn create(
    page: UsersPage,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let typed = form.clone();
    let result = page
        .run_password(move |cx| {
            let input = NewStaffInput {
                email: form.email,
                display_name: form.display_name,
                role: parse_role(&form.role)?,
                password: None,
            };
            let min_len = cx.app.config.auth.min_password_length;
            staff::create(&cx.tenant, cx.now, &cx.actor, input, min_len)
        })
        .await;
    submit(
        &page,
        "create-user",
        &typed,
        result,
        |created| {
            Done::to("/users")
                .notice(Notice::UserCreated)
                .show_once("created", &created)
        },
        |shown| view(&page, shown),
    )
    .await
}

/// Applies a change to account `id`.
async fn apply(
    page: UsersPage,
    id: i64,
    patch: Result<StaffPatch, ServiceError>,
    typed: &impl Serialize,
) -> Result<HttpResponse, UiReject> {
    let result = page
        .run(move |cx| staff::update(&cx.tenant, cx.now, &cx.actor, id, patch?))
        .await;
    submit(
        &page,
        "users",
        typed,
        result,
        |_| Done::to("/users").notice(Notice::UserUpdated),
        |shown| view(&page, shown),
    )
    .await
}

pub async fn change_role(
    page: UsersPage,
    id: web::Path<i64>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, UiReject> {
    let patch = parse_role(&form.role).map(|role| StaffPatch {
        role: Some(role),
        ..Default::default()
    });
    apply(page, id.into_inner(), patch, &form.into_inner()).await
}

pub async fn disable(page: UsersPage, id: web::Path<i64>) -> Result<HttpResponse, UiReject> {
    let patch = StaffPatch {
        disabled: Some(true),
        ..Default::default()
    };
    apply(page, id.into_inner(), Ok(patch), &()).await
}

pub async fn enable(page: UsersPage, id: web::Path<i64>) -> Result<HttpResponse, UiReject> {
    let patch = StaffPatch {
        disabled: Some(false),
        ..Default::default()
    };
    apply(page, id.into_inner(), Ok(patch), &()).await
}

/// The one-time password a reset made, shown once on the users page.
#[derive(Debug, Serialize)]
struct Reset {
    email: String,
    one_time_password: String,
}

pub async fn reset_password(page: UsersPage, id: web::Path<i64>) -> Result<HttpResponse, UiReject> {
    let id = id.into_inner();
    let result = page
        .run_password(move |cx| {
            let one_time_password = staff::reset_password(&cx.tenant, cx.now, &cx.actor, id)?;
            let email = staff::get(&cx.tenant, id)?.email;
            Ok(Reset {
                email,
                one_time_password,
            })
        })
        .await;
    submit(
        &page,
        "users",
        &(),
        result,
        |reset| {
            Done::to("/users")
                .notice(Notice::PasswordReset)
                .show_once("reset", &reset)
        },
        |shown| view(&page, shown),
    )
    .await
}
