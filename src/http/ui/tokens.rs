//! My API tokens: create (shown once), list, revoke.

use super::{PageQuery, form_error, render_status, see_other};
use crate::error::ErrorCode;
use crate::http::auth::{Page, need, state};
use crate::http::state::{AppState, blocking};
use crate::http::ui::reject::UiReject;
use crate::service::tokens;
use crate::service::{ServiceError, refuse};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use minijinja::{Value, context};
use serde::Deserialize;

type TokensPage = Page<need::SignedIn>;

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    name: String,
    /// Days until the token expires; empty for no expiry.
    #[serde(default)]
    expires_in_days: String,
}

async fn render_tokens(
    state: &AppState,
    page: &TokensPage,
    extra: Value,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, UiReject> {
    let (caller, now) = (page.caller.clone(), state.now());
    let list =
        blocking(move || tokens::list(&caller.tenant, now, caller.principal.user.id)).await?;
    let ctx = context! { tokens => list, ..extra };
    Ok(render_status(
        state,
        page,
        "tokens.html",
        "/tokens",
        ctx,
        notice,
        status,
    )?)
}

pub async fn show(
    req: HttpRequest,
    page: TokensPage,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    render_tokens(
        &state,
        &page,
        context! {},
        q.notice.as_deref(),
        StatusCode::OK,
    )
    .await
}

fn parse_days(s: &str) -> Result<Option<i64>, ServiceError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<i64>() {
        Ok(d) if (1..=3650).contains(&d) => Ok(Some(d)),
        _ => Err(refuse(
            ErrorCode::ValidationFailed,
            "expires_in_days: a whole number of days from 1 to 3650, or empty",
        )),
    }
}

pub async fn create(
    req: HttpRequest,
    page: TokensPage,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (caller, now) = (page.caller.clone(), state.now());
    let form = form.into_inner();
    let result = blocking(move || {
        let expires_at = parse_days(&form.expires_in_days)?.map(|d| now + Duration::days(d));
        let p = &caller.principal;
        tokens::create(
            &caller.tenant,
            now,
            &p.actor(),
            p.user.id,
            &form.name,
            expires_at,
        )
    })
    .await;
    match result {
        Ok(created) => {
            render_tokens(
                &state,
                &page,
                context! { created => created },
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(e) => {
            let (status, message) = form_error(&e.problem());
            render_tokens(&state, &page, context! { error => message }, None, status).await
        }
    }
}

pub async fn revoke(
    req: HttpRequest,
    page: TokensPage,
    id: web::Path<i64>,
) -> Result<HttpResponse, UiReject> {
    let state = state(&req)?;
    let (caller, now, id) = (page.caller.clone(), state.now(), id.into_inner());
    let p = caller.principal.clone();
    blocking(move || tokens::revoke(&caller.tenant, now, &p.actor(), p.user.id, id)).await?;
    Ok(see_other("/tokens?notice=token_revoked"))
}
