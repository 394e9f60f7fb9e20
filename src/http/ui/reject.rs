//! How a UI page refuses a visitor: to the login page, to the password page, or with an
//! HTML error page.

use crate::http::auth::Denied;
use crate::service::ServiceError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};

#[derive(Debug)]
pub enum UiReject {
    Redirect(String),
    Page {
        status: StatusCode,
        title: String,
        message: String,
    },
}

impl std::fmt::Display for UiReject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UiReject::Redirect(to) => write!(f, "redirect to {to}"),
            UiReject::Page { status, title, .. } => write!(f, "{status}: {title}"),
        }
    }
}

impl From<ServiceError> for UiReject {
    fn from(e: ServiceError) -> Self {
        if e.is_internal() {
            tracing::error!(error = %e.report(), "page failed");
        }
        let p = e.problem();
        UiReject::Page {
            status: StatusCode::from_u16(p.code.status().as_u16())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            title: p.code.title().to_owned(),
            message: p.detail,
        }
    }
}

impl UiReject {
    pub fn from_denied(req: &HttpRequest, d: Denied) -> Self {
        match d {
            Denied::Unauthenticated => {
                let next = req
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                UiReject::Redirect(format!("/login?{q}"))
            }
            Denied::PasswordChangeRequired => UiReject::Redirect("/password".into()),
            Denied::Forbidden(p) => UiReject::Page {
                status: StatusCode::FORBIDDEN,
                title: "Permission denied".into(),
                message: format!("Your role does not include the {p} permission this page needs."),
            },
            Denied::Failed(e) => e.into(),
        }
    }
}

/// Escapes text for HTML.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A self-contained error page (no template needed, so it works whatever failed).
pub fn error_html(status: StatusCode, title: &str, message: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{code} {title} - licd</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body class=\"bare\"><main class=\"card narrow\">\
         <h1>{title}</h1><p>{message}</p><p><a href=\"/\">Back to the dashboard</a></p></main></body></html>",
        code = status.as_u16(),
        title = escape(title),
        message = escape(message),
    )
}

impl ResponseError for UiReject {
    fn status_code(&self) -> StatusCode {
        match self {
            UiReject::Redirect(_) => StatusCode::SEE_OTHER,
            UiReject::Page { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            UiReject::Redirect(to) => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, to.as_str()))
                .finish(),
            UiReject::Page {
                status,
                title,
                message,
            } => HttpResponse::build(*status)
                .content_type("text/html; charset=utf-8")
                .body(error_html(*status, title, message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_pages_escape() {
        let html = error_html(StatusCode::FORBIDDEN, "<x>", "a & b");
        assert!(html.contains("&lt;x&gt;") && html.contains("a &amp; b"));
    }
}
