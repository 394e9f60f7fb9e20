//! `/portal/account`: the signed-in customer's own account: its name, and its password
//! (the current one first; the account's other sessions end). Passwords are never
//! written back into the form.

use super::frame::{self, Frame, Rendered};
use super::notice::{NoticeQuery, PortalNotice};
use crate::http::customer_auth::{Customer, CustomerCaller};
use crate::http::ui::form::see_other;
use crate::http::ui::reject::UiReject;
use crate::service::portal_auth;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct NameForm {
    #[serde(default)]
    display_name: String,
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// What a refused form shows: which form, its message, what was typed into the name.
#[derive(Default)]
struct Refused {
    form: Option<&'static str>,
    error: Option<String>,
    name: Option<String>,
}

fn view(
    caller: &CustomerCaller,
    notice: Option<PortalNotice>,
    refused: Refused,
    how: Rendered,
) -> Result<HttpResponse, UiReject> {
    let who = &caller.principal.customer;
    let name = refused.name.unwrap_or_else(|| who.display_name.clone());
    frame::render(
        &caller.state,
        "portal_account.html",
        Frame::of(caller, notice),
        context! {
            display_name => name,
            failed => refused.form,
            error => refused.error,
            min_password => caller.state.app.config.auth.min_password_length,
        },
        how,
    )
}

pub async fn show(page: Customer, q: web::Query<NoticeQuery>) -> Result<HttpResponse, UiReject> {
    view(&page, q.notice, Refused::default(), Rendered::default())
}

fn done(notice: PortalNotice) -> HttpResponse {
    see_other(&format!("/portal/account?notice={}", notice.code()))
}

pub async fn rename(page: Customer, form: web::Form<NameForm>) -> Result<HttpResponse, UiReject> {
    let name = form.into_inner().display_name;
    let typed = name.clone();
    let result = page
        .run(move |cx| portal_auth::change_display_name(&cx.tenant, cx.now, &cx.principal, &name))
        .await;
    match result {
        Ok(_) => Ok(done(PortalNotice::NameChanged)),
        Err(e) => {
            let (how, message, _) = frame::refusal(&e);
            let refused = Refused {
                form: Some("name-form"),
                error: Some(message),
                name: Some(typed),
            };
            view(&page, None, refused, how)
        }
    }
}

pub async fn change_password(
    page: Customer,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    if form.new_password != form.confirm_password {
        let refused = Refused {
            form: Some("password-form"),
            error: Some("The new password and its confirmation differ.".into()),
            name: None,
        };
        return view(&page, None, refused, frame::invalid());
    }
    let result = page
        .run_password(move |cx| {
            portal_auth::change_password(
                &cx.app,
                &cx.tenant,
                cx.now,
                &cx.principal,
                &form.current_password,
                &form.new_password,
            )
        })
        .await;
    match result {
        Ok(()) => Ok(done(PortalNotice::PasswordChanged)),
        Err(e) => {
            let (how, message, _) = frame::refusal(&e);
            let refused = Refused {
                form: Some("password-form"),
                error: Some(message),
                name: None,
            };
            view(&page, None, refused, how)
        }
    }
}
