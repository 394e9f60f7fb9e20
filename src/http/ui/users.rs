//! Staff users (users.manage): list, create (a person, or a service account whose API
//! tokens are on its own page, `service_tokens`), change role, disable/enable, reset
//! password.
//! A new account's role starts on the least-privileged one; a role change is confirmed
//! first (`ui::confirm`), naming the person and the permissions gained and lost.

use super::confirm::{Confirm, is_confirmed};
use super::form::{Done, PageQuery, Shown, View, submit};
use super::notice::Notice;
use super::reject::UiReject;
use crate::domain::permissions::Role;
use crate::domain::staff::StaffKind;
use crate::error::ErrorCode;
use crate::http::auth::{Page, need};
use crate::service::staff::{self, NewServiceAccount, NewStaffInput, StaffPatch};
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
    /// `person` (default) or `service`.
    #[serde(default)]
    kind: String,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    confirmed: String,
}

/// The role a new account starts on: the one with the fewest permissions.
fn least_privileged() -> Role {
    Role::ALL
        .into_iter()
        .min_by_key(|r| r.permissions().len())
        .unwrap_or(Role::Onboarding)
}

fn permission_list(ps: &[crate::domain::permissions::Permission]) -> String {
    ps.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
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
        form => CreateForm {
            role: least_privileged().as_str().to_owned(),
            kind: StaffKind::Person.as_str().to_owned(),
            ..CreateForm::default()
        },
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
    let kind = match form.kind.trim() {
        "" => Ok(StaffKind::Person),
        k => k.parse::<StaffKind>().map_err(ServiceError::from),
    };
    let result = page
        .run_password(move |cx| {
            let role = parse_role(&form.role)?;
            if kind? == StaffKind::Service {
                let input = NewServiceAccount {
                    email: form.email,
                    display_name: form.display_name,
                    role,
                };
                return staff::create_service(&cx.tenant, cx.now, &cx.actor, input);
            }
            let input = NewStaffInput {
                email: form.email,
                display_name: form.display_name,
                role,
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
    if !is_confirmed(&form.confirmed)
        && let Ok(role) = parse_role(&form.role)
    {
        let uid = *id;
        let user = page.run(move |cx| staff::get(&cx.tenant, uid)).await?;
        if user.role != role {
            let (old, new) = (user.role.permissions(), role.permissions());
            let gained: Vec<_> = new.iter().copied().filter(|p| !old.contains(p)).collect();
            let lost: Vec<_> = old.iter().copied().filter(|p| !new.contains(p)).collect();
            let mut consequences = Vec::new();
            if !gained.is_empty() {
                consequences.push(format!("They gain: {}.", permission_list(&gained)));
            }
            if !lost.is_empty() {
                consequences.push(format!("They lose: {}.", permission_list(&lost)));
            }
            consequences.push("It applies to their sessions and API tokens at once.".to_owned());
            let c = Confirm {
                title: format!("Change the role of {}?", user.email),
                what: format!(
                    "{} becomes {} (now {}).",
                    user.email,
                    role.as_str(),
                    user.role.as_str()
                ),
                consequences,
                yes: format!("Yes, make them {}", role.as_str()),
                action: format!("/users/{uid}/role"),
                cancel: "/users".to_owned(),
            };
            return c.ask(&page, "/users", &form.into_inner());
        }
    }
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
