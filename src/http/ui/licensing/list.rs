//! The licenses list (license.read): filter by state and Install ID, page through; the
//! health sweep's form (`sweep`) and report live here too.

use super::non_empty;
use crate::domain::lifecycle::LicenseState;
use crate::domain::permissions::Permission;
use crate::error::ErrorCode;
use crate::http::auth::{Caller, Page, need};
use crate::http::ui::form::{Shown, View};
use crate::http::ui::notice;
use crate::http::ui::reject::UiReject;
use crate::service::licenses::Filter;
use crate::service::{licenses, refuse};
use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

const PAGE_SIZE: usize = 50;

const VIEW: View = View {
    template: "licensing_list.html",
    nav: "/licensing",
};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    install_id: Option<String>,
    cursor: Option<String>,
    #[serde(default, deserialize_with = "notice::lenient")]
    notice: Option<notice::Notice>,
    /// A sweep report kept for this page.
    shown: Option<String>,
}

/// The list page for a query, with what `shown` holds (a refusal, a sweep report).
pub async fn view(caller: &Caller, q: &ListQuery, shown: Shown) -> Result<HttpResponse, UiReject> {
    let wanted = non_empty(q.state.as_deref());
    let filter = Filter {
        state: match wanted.as_deref() {
            None => None,
            Some(s) => Some(
                s.parse::<LicenseState>()
                    .map_err(|e| refuse(ErrorCode::ValidationFailed, format!("state: {e}")))?,
            ),
        },
        install_id: non_empty(q.install_id.as_deref()),
        ..Default::default()
    };
    let (f, cursor) = (filter.clone(), non_empty(q.cursor.as_deref()));
    let (page, counts) = caller
        .run(move |cx| {
            let page = licenses::list(&cx.tenant, cx.now, f, cursor.as_deref(), PAGE_SIZE)?;
            Ok((page, licenses::counts_by_state(&cx.tenant)?))
        })
        .await?;
    let next = page.next_cursor.as_ref().map(|c| {
        let mut params = vec![("cursor", c.as_str())];
        if let Some(s) = wanted.as_deref() {
            params.push(("state", s));
        }
        if let Some(i) = filter.install_id.as_deref() {
            params.push(("install_id", i));
        }
        format!(
            "/licensing?{}",
            serde_urlencoded::to_string(params).unwrap_or_default()
        )
    });
    let states: Vec<&str> = LicenseState::ALL.iter().map(|s| s.as_str()).collect();
    let p = &caller.principal;
    let ctx = context! {
        licenses => page.items,
        next => next,
        licenses_total => counts.iter().map(|(_, n)| *n).sum::<i64>(),
        counts => counts,
        states => states,
        filtered => wanted.is_some() || filter.install_id.is_some(),
        state => wanted,
        install_id => filter.install_id,
        can_issue => p.can(Permission::LicenseIssue),
        can_sweep => p.can(Permission::SweepRun),
    };
    caller.render(VIEW, ctx, shown)
}

pub async fn show(
    page: Page<need::LicenseRead>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, UiReject> {
    let shown = page.shown(&crate::http::ui::form::PageQuery {
        notice: q.notice,
        shown: q.shown.clone(),
    });
    view(&page, &q, shown).await
}
