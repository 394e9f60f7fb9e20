//! `/api/v1/audit`: the audit log (audit.read), newest first, cursor-paginated; and
//! `/api/v1/audit/export`: every entry a search finds, as CSV or JSON.

use crate::http::audit_export::{self, Format};
use crate::http::auth::{Staff, need};
use crate::http::openapi::refusals;
use crate::http::problem::ApiError;
use crate::service::audit::{self, Search};
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Actions that start with this (`license` finds `license.issue` and `license.revoke`).
    action: Option<String>,
    /// Actors that contain this (`admin@example.com` finds `staff:admin@example.com`;
    /// `system`, `cli`, `appliance:`).
    actor: Option<String>,
    /// Targets that start with this (`license:` every license, `license:<id>` one).
    target: Option<String>,
    /// Entries at or after this time: RFC 3339, or a date (`YYYY-MM-DD`, from its start, UTC).
    since: Option<String>,
    /// Entries before this time: RFC 3339, or a date (`YYYY-MM-DD`, to its end, UTC).
    until: Option<String>,
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
/// (`licd audit verify` checks it). Text filters are case-insensitive.
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
    let search = Search {
        action: q.action,
        actor: q.actor,
        target: q.target,
        since: q.since,
        until: q.until,
    };
    let page = staff
        .run(move |cx| {
            audit::list(
                &cx.tenant,
                search.filter()?,
                q.cursor.as_deref(),
                q.limit.unwrap_or(100),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (a header line, then one line per entry; details as JSON text) or `json`
    /// (an array of entries, as `list_audit` shows them).
    format: Format,
    /// As for `list_audit`.
    action: Option<String>,
    /// As for `list_audit`.
    actor: Option<String>,
    /// As for `list_audit`.
    target: Option<String>,
    /// As for `list_audit`.
    since: Option<String>,
    /// As for `list_audit`.
    until: Option<String>,
}

/// Exports the audit log
///
/// Every entry the search finds, newest first, as a download (`Content-Disposition:
/// attachment`). Refused with `validation_failed` when more than 100,000 entries
/// match: narrow the time range and export in parts. In CSV, a field that a
/// spreadsheet would read as a formula is prefixed with `'`.
#[utoipa::path(
    get,
    path = "/api/v1/audit/export",
    operation_id = "export_audit",
    tag = "audit",
    params(ExportQuery),
    responses(
        (status = 200, description = "The entries as a file", content(
            (Vec<audit::AuditEntry> = "application/json"),
            (String = "text/csv"),
        ), headers(("Content-Disposition" = String, description = "attachment; filename=\"licd-audit-<time>.<csv|json>\""))),
        ListRefusals,
    ),
)]
pub async fn export(
    staff: Staff<need::AuditRead>,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let search = Search {
        action: q.action,
        actor: q.actor,
        target: q.target,
        since: q.since,
        until: q.until,
    };
    let now = staff.now;
    let entries = staff
        .run(move |cx| audit::export(&cx.tenant, search.filter()?))
        .await?;
    Ok(audit_export::respond(q.format, &entries, now))
}
