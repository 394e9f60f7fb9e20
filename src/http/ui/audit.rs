//! The audit log page (audit.read), newest first, with filters and paging.

use super::form::{Shown, View};
use super::reject::UiReject;
use crate::http::auth::{Page, need};
use crate::service::audit;
use crate::service::audit::Filter;
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

const VIEW: View = View {
    template: "audit.html",
    nav: "/audit",
};

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    cursor: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

pub async fn show(
    page: Page<need::AuditRead>,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, UiReject> {
    let filter = Filter {
        action: non_empty(&q.action),
        actor: non_empty(&q.actor),
        ..Default::default()
    };
    let (f, cursor) = (filter.clone(), non_empty(&q.cursor));
    let result = page
        .run(move |cx| audit::list(&cx.tenant, f, cursor.as_deref(), 50))
        .await?;
    let next = result.next_cursor.as_ref().map(|c| {
        let mut params = vec![("cursor", c.as_str())];
        if let Some(a) = filter.action.as_deref() {
            params.push(("action", a));
        }
        if let Some(a) = filter.actor.as_deref() {
            params.push(("actor", a));
        }
        format!(
            "/audit?{}",
            serde_urlencoded::to_string(params).unwrap_or_default()
        )
    });
    let ctx = context! {
        entries => result.items,
        next => next,
        action => filter.action,
        actor => filter.actor,
    };
    page.render(VIEW, ctx, Shown::default())
}
