//! The licenses list (license.read): filter by state and Install ID, page through, and
//! run the fleet health sweep (sweep.run).

use super::non_empty;
use crate::domain::lifecycle::LicenseState;
use crate::domain::permissions::Permission;
use crate::error::ErrorCode;
use crate::http::auth::{Caller, Page, need, state};
use crate::http::state::{AppState, blocking};
use crate::http::ui::reject::UiReject;
use crate::http::ui::{form_error, render_status};
use crate::service::licenses::Filter;
use crate::service::{licenses, refuse, sweep};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::{Value, context};
use serde::Deserialize;

const PAGE_SIZE: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    install_id: Option<String>,
    cursor: Option<String>,
    notice: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SweepForm {
    #[serde(default)]
    dry_run: Option<String>,
}

/// The list page for a query, with anything extra (an error, a sweep report) to show.
async fn render_list(
    state: &AppState,
    caller: &Caller,
    q: &ListQuery,
    extra: Value,
    status: StatusCode,
) -> Result<HttpResponse, UiReject> {
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
    let (tenant, now, cursor) = (
        caller.tenant.clone(),
        state.now(),
        non_empty(q.cursor.as_deref()),
    );
    let f = filter.clone();
    let (page, counts) = blocking(move || {
        let page = licenses::list(&tenant, now, f, cursor.as_deref(), PAGE_SIZE)?;
        Ok((page, licenses::counts_by_state(&tenant)?))
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
        counts => counts,
        states => states,
        filtered => wanted.is_some() || filter.install_id.is_some(),
        state => wanted,
        install_id => filter.install_id,
        can_issue => p.can(Permission::LicenseIssue),
        can_sweep => p.can(Permission::SweepRun),
        ..extra
    };
    Ok(render_status(
        state,
        caller,
        "licensing_list.html",
        "/licensing",
        ctx,
        q.notice.as_deref(),
        status,
    )?)
}

pub async fn show(
    req: HttpRequest,
    page: Page<need::LicenseRead>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    render_list(&state, &page, &q, context! {}, StatusCode::OK).await
}

/// Runs the health sweep now (or only shows what it would do) and shows the report.
pub async fn sweep(
    req: HttpRequest,
    page: Page<need::SweepRun>,
    form: web::Form<SweepForm>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (caller, now, app) = (page.caller.clone(), state.now(), state.app.clone());
    let dry_run = form.dry_run.is_some();
    let result = blocking(move || {
        sweep::run_recorded(
            &app,
            &caller.tenant,
            now,
            &caller.principal.actor(),
            dry_run,
        )
    })
    .await;
    let q = ListQuery::default();
    match result {
        Ok(report) => {
            let extra = context! { report => report };
            render_list(&state, &page, &q, extra, StatusCode::OK).await
        }
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            render_list(&state, &page, &q, context! { error => message }, status).await
        }
    }
}
