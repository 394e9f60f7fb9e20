//! Changing one's own password (forced after a one-time password). Passwords are never
//! written back into the form after a refusal.

use super::form::{Done, PageQuery, Shown, View, submit};
use super::notice::Notice;
use super::reject::UiReject;
use crate::http::auth::{Page, need};
use crate::service::auth;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

type PasswordPage = Page<need::PendingPasswordOk>;

const VIEW: View = View {
    template: "password.html",
    nav: "/password",
};

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    /// Absent when the account has no password yet (made by a recovery key).
    #[serde(default)]
    current_password: String,
    new_password: String,
    confirm_password: String,
}

async fn view(page: &PasswordPage, shown: Shown) -> Result<HttpResponse, UiReject> {
    let first = !page
        .run(|cx| auth::has_password(&cx.tenant, cx.principal.user.id))
        .await?;
    let ctx = context! {
        forced => page.principal.user.must_change_password,
        first_password => first,
    };
    page.render(VIEW, ctx, shown)
}

pub async fn show(page: PasswordPage, q: web::Query<PageQuery>) -> Result<HttpResponse, UiReject> {
    view(&page, page.shown(&q)).await
}

pub async fn change(
    page: PasswordPage,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    if form.new_password != form.confirm_password {
        let msg = "The new password and its confirmation differ.";
        return view(&page, Shown::invalid("password-form", msg, &())).await;
    }
    let result = page
        .run_password(move |cx| {
            let first = !auth::has_password(&cx.tenant, cx.principal.user.id)?;
            auth::change_password(
                &cx.app,
                &cx.tenant,
                cx.now,
                &cx.principal,
                &form.current_password,
                &form.new_password,
            )?;
            Ok(first)
        })
        .await;
    submit(
        &page,
        "password-form",
        &(),
        result,
        |first| {
            let said = if first {
                Notice::PasswordSet
            } else {
                Notice::PasswordChanged
            };
            Done::to("/").notice(said)
        },
        |shown| view(&page, shown),
    )
    .await
}
