//! The audit log as a file: CSV or JSON, as an attachment. The API
//! (`/api/v1/audit/export`) and the console (`/audit/export`) both answer with it.

use crate::service::audit::AuditEntry;
use actix_web::HttpResponse;
use actix_web::http::header;
use serde::Deserialize;
use std::fmt::Write;
use utoipa::ToSchema;

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = AuditExportFormat)]
pub enum Format {
    Csv,
    Json,
}

/// The columns of the CSV, in order.
const COLUMNS: [&str; 7] = ["id", "at", "actor", "action", "target", "details", "hash"];

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes
/// doubled. A field a spreadsheet would read as a formula (starting with `=`, `+`, `-`,
/// `@`, tab or carriage return; an email tried at sign-in can be anything) is prefixed
/// with `'`, the usual neutraliser, so opening an export never runs what someone typed.
fn csv_field(out: &mut String, v: &str) {
    let formula = v.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = formula || v.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in v.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quote {
        out.push('"');
    }
}

/// The entries as CSV: a header line, then one line per entry (CRLF line ends), times
/// in RFC 3339, details as their JSON text.
pub fn csv(entries: &[AuditEntry]) -> String {
    let mut out = String::with_capacity(entries.len() * 200 + 64);
    out.push_str(&COLUMNS.join(","));
    out.push_str("\r\n");
    for e in entries {
        let id = e.id.to_string();
        let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let details = e.details.to_string();
        let fields = [
            id.as_str(),
            at.as_str(),
            &e.actor,
            &e.action,
            &e.target,
            &details,
            &e.hash,
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(&mut out, f);
        }
        out.push_str("\r\n");
    }
    out
}

/// The entries in `format`, as a download named after `now` (the file name carries no
/// user input).
pub fn respond(
    format: Format,
    entries: &[AuditEntry],
    now: chrono::DateTime<chrono::Utc>,
) -> HttpResponse {
    let mut name = String::from("licd-audit-");
    let _ = write!(name, "{}", now.format("%Y%m%dT%H%M%SZ"));
    let (content_type, ext, body) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv", csv(entries)),
        Format::Json => (
            "application/json",
            "json",
            serde_json::to_string(entries).unwrap_or_else(|_| "[]".to_owned()),
        ),
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{ext}\""),
        ))
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(v: &str) -> String {
        let mut s = String::new();
        csv_field(&mut s, v);
        s
    }

    #[test]
    fn fields_are_quoted_when_they_must_be_and_formulas_neutralised() {
        assert_eq!(field("license.issue"), "license.issue");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("@sum"), "\"'@sum\"");
        assert_eq!(field(""), "");
    }
}
