//! `/api/v1/audit`: the audit log (audit.read), newest first, cursor-paginated.

use crate::domain::timestamp::{self, InputTime};
use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::ServiceError;
use crate::service::audit;
use crate::service::audit::Filter;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this action (e.g. `license.revoke`).
    action: Option<String>,
    /// Only this actor (e.g. `staff:admin@example.com`, `system`).
    actor: Option<String>,
    /// Only this target (e.g. `license:<id>`).
    target: Option<String>,
    /// Entries at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<InputTime>,
    /// Entries before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    until: Option<InputTime>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Entries per page, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<usize>,
}

refusals!(ListRefusals: PasswordChangeRequired, ValidationFailed);

/// Lists the audit log
///
/// Newest first, a page at a time. Each entry carries its hash in the chain
/// (`licd audit verify` checks it).
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    operation_id = "list_audit",
    tag = "audit",
    params(AuditQuery),
    responses((status = 200, description = "A page of entries", body = audit::Page), ListRefusals),
)]
pub async fn list(
    staff: Staff<need::AuditRead>,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let filter = Filter {
        action: q.action,
        actor: q.actor,
        target: q.target,
        since: timestamp::parse_opt("since", q.since.as_ref()).map_err(ServiceError::from)?,
        until: timestamp::parse_opt("until", q.until.as_ref()).map_err(ServiceError::from)?,
    };
    let page = staff
        .run(move |cx| {
            audit::list(
                &cx.tenant,
                filter,
                q.cursor.as_deref(),
                q.limit.unwrap_or(100),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
