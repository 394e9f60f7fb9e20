//! `GET /portal/`: while the address is unverified, the "check your email" page (with
//! resending the link); once verified, *My organizations* (`organizations::home`).

use super::frame::{self, Frame, Rendered};
use super::notice::{NoticeQuery, PortalNotice};
use crate::http::customer_auth::{CustomerCaller, CustomerPending};
use crate::http::ui::reject::UiReject;
use actix_web::{HttpResponse, web};
use minijinja::context;

/// Renders the home page for `caller`, with a notice or an error.
pub(super) fn view(
    caller: &CustomerCaller,
    notice: Option<PortalNotice>,
    error: Option<String>,
    how: Rendered,
) -> Result<HttpResponse, UiReject> {
    let who = &caller.principal.customer;
    if who.verified {
        return super::organizations::home(caller, notice, error, how);
    }
    let template = "portal_check_email.html";
    let hours = caller.state.app.config.portal.link_hours;
    frame::render(
        &caller.state,
        template,
        Frame::of(caller, notice),
        context! { error => error, link_hours => hours },
        how,
    )
}

pub async fn show(
    page: CustomerPending,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, UiReject> {
    view(&page, q.notice, None, Rendered::default())
}
