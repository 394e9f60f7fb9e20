//! How the console refuses a visitor: to the login (or password) page, or with an HTML
//! error page that says what happened and links back. Never the API's problem+json.

use super::notice::Notice;
use crate::error::Problem;
use crate::http::auth::{Denied, Presented, presented};
use crate::http::routing::page_of;
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
        /// Where the page's one link goes: the page the form was on, the login page, or
        /// the dashboard.
        back: String,
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
        UiReject::problem(&e.problem(), "/")
    }
}

impl UiReject {
    /// An error page for a problem, with a link to `back`.
    pub fn problem(p: &Problem, back: &str) -> Self {
        UiReject::Page {
            status: StatusCode::from_u16(p.code.status().as_u16())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            title: p.code.title().to_owned(),
            message: p.detail.clone(),
            back: back.to_owned(),
        }
    }

    /// A refused form post: the page says nothing was changed and links back to the page
    /// the form was on.
    pub fn form_refused(req: &HttpRequest, title: &str, message: &str) -> Self {
        UiReject::Page {
            status: StatusCode::FORBIDDEN,
            title: title.to_owned(),
            message: format!("{message} Nothing was changed."),
            back: page_of(req.path()),
        }
    }

    pub fn from_denied(req: &HttpRequest, d: Denied) -> Self {
        match d {
            Denied::Unauthenticated => UiReject::Redirect(sign_in_again(req)),
            Denied::PasswordChangeRequired => UiReject::Redirect("/password".into()),
            Denied::Forbidden(p) => UiReject::Page {
                status: StatusCode::FORBIDDEN,
                title: "Permission denied".into(),
                message: format!("Your role does not include the {p} permission this page needs."),
                back: "/".into(),
            },
            Denied::Failed(e) => e.into(),
        }
    }
}

/// The login page, coming back afterwards to the page the visitor was on (for a form
/// post, the page the form is on: the form's own address only takes posts), and saying
/// the session ended when the request came with one that no longer works.
pub fn sign_in_again(req: &HttpRequest) -> String {
    let next = if req.method() == actix_web::http::Method::GET {
        req.uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into())
    } else {
        page_of(req.path())
    };
    let mut params = vec![("next", next.as_str())];
    if matches!(presented(req), Presented::SessionCookie(_)) {
        params.push(("notice", Notice::SessionEnded.code()));
    }
    let q = serde_urlencoded::to_string(params).unwrap_or_default();
    format!("/login?{q}")
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

/// The words on the link back.
fn back_label(back: &str) -> &'static str {
    if back.starts_with("/login") || back.starts_with("/portal/login") {
        "Sign in again"
    } else if back == "/" {
        "Back to the dashboard"
    } else if back == "/portal/" {
        "Back to the portal"
    } else {
        "Back to the page"
    }
}

/// A self-contained error page (no template needed, so it works whatever failed): a
/// title, a message and one link back.
pub fn error_html(status: StatusCode, title: &str, message: &str, back: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{code} {title} - licd</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body class=\"bare\"><main class=\"card narrow\">\
         <h1 id=\"error-title\">{title}</h1><p id=\"error-message\">{message}</p>\
         <p><a id=\"error-back\" href=\"{href}\">{label}</a></p></main></body></html>",
        code = status.as_u16(),
        title = escape(title),
        message = escape(message),
        href = escape(back),
        label = back_label(back),
    )
}

/// The error page as a response.
pub fn error_page(status: StatusCode, title: &str, message: &str, back: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(error_html(status, title, message, back))
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
                back,
            } => error_page(*status, title, message, back),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_pages_escape() {
        let html = error_html(StatusCode::FORBIDDEN, "<x>", "a & b", "/a?b=\"c\"");
        assert!(html.contains("&lt;x&gt;") && html.contains("a &amp; b"));
        assert!(html.contains("href=\"/a?b=&quot;c&quot;\""));
    }
}
