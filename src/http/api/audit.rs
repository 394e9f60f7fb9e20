//! `/api/v1/audit`: the audit log (audit.read), newest first, cursor-paginated.

use crate::http::auth::{Staff, need};
use crate::http::problem::ApiError;
use crate::http::state::blocking;
use crate::service::audit;
use crate::store::audit::Filter;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    action: Option<String>,
    actor: Option<String>,
    target: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    cursor: Option<String>,
    limit: Option<usize>,
}

pub async fn list(
    staff: Staff<need::AuditRead>,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let filter = Filter {
        action: q.action,
        actor: q.actor,
        target: q.target,
        since: q.since,
        until: q.until,
        before_id: None,
    };
    let tenant = staff.tenant.clone();
    let page = blocking(move || {
        audit::list(
            &tenant.db,
            filter,
            q.cursor.as_deref(),
            q.limit.unwrap_or(100),
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}
