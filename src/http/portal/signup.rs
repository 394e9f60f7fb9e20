//! Sign-up (`portal.signup`): with `open`, anyone makes an account, is signed in and
//! sees only the "check your email" page until the emailed link verifies the address;
//! with `invite_only` (the default) the page says accounts come with invitations, and a
//! posted form is refused with `signup_invite_only`.

use super::frame::{self, Frame, Rendered};
use crate::config::Signup;
use crate::http::context::Open;
use crate::http::sign_in::PORTAL;
use crate::http::ui::form::see_other;
use crate::http::ui::reject::UiReject;
use crate::service::portal_auth::{self, SignUp};
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

/// The form as typed (shown again after a refusal; never the passwords).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default, skip_serializing)]
    password: String,
    #[serde(default, skip_serializing)]
    confirm_password: String,
}

fn page(
    req: &HttpRequest,
    open: &Open,
    typed: &SignupForm,
    error: Option<(String, &'static str)>,
    how: Rendered,
) -> Result<HttpResponse, UiReject> {
    let state = &open.state;
    let (csrf, fresh) = frame::csrf_for(req, state)?;
    let (error, code) = error.unzip();
    let frame = Frame {
        customer: None,
        csrf,
        notice: None,
    };
    let ctx = context! {
        open => state.app.config.portal.signup == Signup::Open,
        form => typed,
        error => error,
        code => code,
        min_password => state.app.config.auth.min_password_length,
    };
    frame::render(
        state,
        "portal_signup.html",
        frame,
        ctx,
        Rendered {
            cookie: fresh,
            ..how
        },
    )
}

pub async fn show(req: HttpRequest, open: Open) -> Result<HttpResponse, UiReject> {
    page(
        &req,
        &open,
        &SignupForm::default(),
        None,
        Rendered::default(),
    )
}

pub async fn submit(
    req: HttpRequest,
    open: Open,
    form: web::Form<SignupForm>,
) -> Result<HttpResponse, UiReject> {
    let form = form.into_inner();
    let open_signup = open.state.app.config.portal.signup == Signup::Open;
    if open_signup && form.password != form.confirm_password {
        let msg = "The password and its confirmation differ.".to_owned();
        return page(&req, &open, &form, Some((msg, "")), frame::invalid());
    }
    let address = req.peer_addr().map(|a| a.ip());
    let input = SignUp {
        email: form.email.clone(),
        display_name: form.display_name.clone(),
        password: form.password.clone(),
    };
    let result = open
        .run_password(move |cx| portal_auth::sign_up(&cx.app, &cx.tenant, cx.now, input, address))
        .await;
    match result {
        Ok(session) => {
            let mut resp = see_other("/portal/");
            PORTAL.set_signed_in(&mut resp, &open.state, open.now, session)?;
            Ok(resp)
        }
        Err(e) => {
            let (how, message, code) = frame::refusal(&e);
            page(&req, &open, &form, Some((message, code)), how)
        }
    }
}
