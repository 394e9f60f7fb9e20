//! The portal's own frame (`portal_base.html`): the vendor's product name and logo
//! (`[portal]`), who is signed in, the CSRF token for its forms and a notice. Pages
//! render through `render`, which puts all of that under `portal` beside the page's
//! own values.

use super::notice::PortalNotice;
use crate::http::customer_auth::{CustomerCaller, portal_csrf_basis};
use crate::http::sign_in::{Refusal, cookie_error, prelogin_cookie};
use crate::http::state::AppState;
use crate::http::ui::reject::UiReject;
use crate::service::{ServiceError, portal_logo, secrets};
use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use minijinja::value::merge_maps;
use minijinja::{Value, context};

/// What the frame shows besides the page.
#[derive(Debug, Default)]
pub struct Frame<'a> {
    /// The signed-in customer, if any.
    pub customer: Option<&'a CustomerCaller>,
    /// The token the page's forms carry.
    pub csrf: String,
    pub notice: Option<PortalNotice>,
}

impl<'a> Frame<'a> {
    /// The frame of a signed-in customer's page.
    pub fn of(caller: &'a CustomerCaller, notice: Option<PortalNotice>) -> Frame<'a> {
        Frame {
            customer: Some(caller),
            csrf: caller.csrf.clone(),
            notice,
        }
    }
}

/// A rendered page, before it becomes a response.
pub struct Rendered {
    pub status: StatusCode,
    pub retry_after: Option<u64>,
    /// A pre-login cookie to set (the visitor had no CSRF basis yet).
    pub cookie: Option<Cookie<'static>>,
}

impl Default for Rendered {
    fn default() -> Self {
        Rendered {
            status: StatusCode::OK,
            retry_after: None,
            cookie: None,
        }
    }
}

/// Renders `template` with the frame under `portal` and the page's values.
pub fn render(
    state: &AppState,
    template: &str,
    frame: Frame<'_>,
    page: Value,
    how: Rendered,
) -> Result<HttpResponse, UiReject> {
    let portal = &state.app.config.portal;
    let customer = frame.customer.map(|c| {
        let who = &c.principal.customer;
        context! { email => who.email, display_name => who.display_name, verified => who.verified }
    });
    let html = state.templates.render(
        template,
        merge_maps([
            page,
            context! {
                portal => context! {
                    product => portal.product_name,
                    logo => portal_logo::configured(&state.app),
                    customer => customer,
                    csrf => frame.csrf,
                    notice => frame.notice.map(PortalNotice::text),
                },
            },
        ]),
    )?;
    let mut resp = HttpResponse::build(how.status)
        .content_type("text/html; charset=utf-8")
        .body(html);
    if let Some(secs) = how.retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    if let Some(c) = &how.cookie {
        resp.add_cookie(c).map_err(cookie_error)?;
    }
    Ok(resp)
}

/// The CSRF token for a portal form, and the pre-login cookie to set when the visitor
/// has no CSRF basis yet (neither a portal session nor a pre-login cookie).
pub fn csrf_for(
    req: &HttpRequest,
    state: &AppState,
) -> Result<(String, Option<Cookie<'static>>), UiReject> {
    if let Some(basis) = portal_csrf_basis(req) {
        return Ok((secrets::csrf_token(&basis), None));
    }
    let secret = secrets::new_secret()?;
    let csrf = secrets::csrf_token(&secret);
    Ok((csrf, Some(prelogin_cookie(state, secret))))
}

/// How a refused submission is shown: the status of its problem, its message and any
/// `Retry-After`. Internal causes go to the log.
pub fn refusal(e: &ServiceError) -> (Rendered, String, &'static str) {
    let r = Refusal::of(e);
    let how = Rendered {
        status: r.status,
        retry_after: r.retry_after,
        cookie: None,
    };
    (how, r.message, r.code)
}

/// A check of the page's own (before any use case) that failed.
pub fn invalid() -> Rendered {
    Rendered {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        ..Rendered::default()
    }
}

/// A refused form of a portal page: which form (its id), why, and what was typed.
#[derive(Debug, Default)]
pub struct Refused {
    pub form: Option<&'static str>,
    pub error: Option<String>,
    pub typed: Option<serde_json::Value>,
}

/// Finishes a portal form: on success a redirect to `done`; refused, the page again
/// (`again`) with the refusal beside `form` and what was typed, under the refusal's
/// status.
pub async fn finish<T, F, Fut>(
    result: crate::service::Result<T>,
    done: &str,
    form: &'static str,
    typed: Option<serde_json::Value>,
    again: F,
) -> Result<HttpResponse, UiReject>
where
    F: FnOnce(Refused, Rendered) -> Fut,
    Fut: std::future::Future<Output = Result<HttpResponse, UiReject>>,
{
    match result {
        Ok(_) => Ok(crate::http::ui::form::see_other(done)),
        Err(e) => {
            let (how, message, _) = refusal(&e);
            let refused = Refused {
                form: Some(form),
                error: Some(message),
                typed,
            };
            again(refused, how).await
        }
    }
}
