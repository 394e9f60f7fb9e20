//! The dashboard: who you are, this tenant, and what happened lately.

use super::form::{PageQuery, View};
use super::reject::UiReject;
use crate::domain::permissions::Permission;
use crate::http::auth::{Page, need};
use crate::service::audit::Filter;
use crate::service::{audit, staff, tokens};
use actix_web::{HttpResponse, web};
use minijinja::context;

const VIEW: View = View {
    template: "dashboard.html",
    nav: "/",
};

pub async fn show(
    page: Page<need::SignedIn>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let (staff_count, my_tokens, recent) = page
        .run(|cx| {
            let staff_count = staff::list(&cx.tenant)?.len();
            let my_tokens = tokens::list(&cx.tenant, cx.now, cx.user_id())?
                .into_iter()
                .filter(|t| t.active)
                .count();
            let recent = if cx.principal.can(Permission::AuditRead) {
                Some(audit::list(&cx.tenant, Filter::default(), None, 10)?.items)
            } else {
                None
            };
            Ok((staff_count, my_tokens, recent))
        })
        .await?;
    let permissions: Vec<&str> = page
        .principal
        .role()
        .permissions()
        .iter()
        .map(|p| p.as_str())
        .collect();
    let ctx = context! {
        staff_count => staff_count,
        my_tokens => my_tokens,
        recent => recent,
        permissions => permissions,
    };
    page.render(VIEW, ctx, page.shown(&q))
}
