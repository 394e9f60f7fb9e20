//! The console's page and form pattern, which every page follows:
//!
//! - **load and show**: a page module has one `view(page, shown)` that loads what the
//!   page shows and renders it with `Caller::render`; `show` (GET) calls it with what
//!   the URL asks to show (`PageQuery`: a notice, a result kept for it in `Flash`).
//! - **submit**: a form handler runs its use case and hands the result to `submit`. On
//!   success the answer is a redirect (`Done`: the page, a `Notice`, and a result to show
//!   once), so a reload never submits again. On refusal the page is shown again by
//!   `view`, with the status and message of the refusal and what the user typed (the
//!   template refills the form from `form`; `failed` names the form when a page has
//!   several).
//!
//! Refusals that come before the handler (permission, read-only mode, an ended session,
//! a stale CSRF token, a form that does not parse) are HTML pages too: see
//! `ui::reject`, `middleware::csrf`, `middleware::read_only` and `http::problem::refusal`.

use super::chrome;
use super::notice::{self, Notice};
use super::reject::UiReject;
use crate::http::auth::Caller;
use crate::service::{self, ServiceError};
use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use minijinja::value::merge_maps;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;

/// A page's template and the navigation entry it belongs under.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub template: &'static str,
    /// The path of the navigation entry marked current (`/licensing` for a license).
    pub nav: &'static str,
}

/// What the URL of a page asks it to show.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default, deserialize_with = "notice::lenient")]
    pub notice: Option<Notice>,
    /// A result kept in `Flash` for this page.
    pub shown: Option<String>,
}

/// What a page shows besides its own data.
#[derive(Debug)]
pub struct Shown {
    pub status: StatusCode,
    pub notice: Option<Notice>,
    /// Why a submission was refused.
    pub error: Option<String>,
    retry_after: Option<u64>,
    /// The form that was refused, and what the user typed into it.
    failed: Option<&'static str>,
    input: Option<serde_json::Value>,
    /// A result to show once, by the name the template knows it by.
    once: Option<(&'static str, serde_json::Value)>,
}

impl Default for Shown {
    fn default() -> Self {
        Shown {
            status: StatusCode::OK,
            notice: None,
            error: None,
            retry_after: None,
            failed: None,
            input: None,
            once: None,
        }
    }
}

impl Shown {
    /// A refused submission of the form `form` (its HTML id), with what the user typed.
    pub fn refused(form: &'static str, e: &ServiceError, typed: &impl Serialize) -> Shown {
        if e.is_internal() {
            tracing::error!(error = %e, "form submission failed");
        }
        let p = e.problem();
        Shown {
            status: StatusCode::from_u16(p.code.status().as_u16())
                .unwrap_or(StatusCode::BAD_REQUEST),
            error: Some(p.detail),
            retry_after: p.retry_after,
            failed: Some(form),
            input: serde_json::to_value(typed).ok(),
            ..Shown::default()
        }
    }

    /// The same, with a message of the page's own (checks made before any use case).
    pub fn invalid(form: &'static str, message: &str, typed: &impl Serialize) -> Shown {
        Shown {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            error: Some(message.to_owned()),
            failed: Some(form),
            input: serde_json::to_value(typed).ok(),
            ..Shown::default()
        }
    }

    /// The values the template sees: `error`, `failed`, `form` (what was typed) and the
    /// result shown once.
    fn values(&self) -> Value {
        let mut map: BTreeMap<&str, Value> = BTreeMap::new();
        if let Some(e) = &self.error {
            map.insert("error", Value::from(e.as_str()));
        }
        if let Some(f) = self.failed {
            map.insert("failed", Value::from(f));
        }
        if let Some(input) = self.input.as_ref().filter(|v| !v.is_null()) {
            map.insert("form", Value::from_serialize(input));
        }
        if let Some((name, value)) = &self.once {
            map.insert(name, Value::from_serialize(value));
        }
        Value::from(map)
    }
}

/// Where a successful submission goes.
#[derive(Debug)]
pub struct Done {
    to: String,
    notice: Option<Notice>,
    once: Option<(&'static str, serde_json::Value)>,
}

impl Done {
    /// To the page at `path` (a path of this console, no query).
    pub fn to(path: impl Into<String>) -> Done {
        Done {
            to: path.into(),
            notice: None,
            once: None,
        }
    }

    pub fn notice(mut self, n: Notice) -> Done {
        self.notice = Some(n);
        self
    }

    /// A result that page shows once, as `name` (a new secret, a report).
    pub fn show_once(mut self, name: &'static str, value: &impl Serialize) -> Done {
        self.once = serde_json::to_value(value).ok().map(|v| (name, v));
        self
    }

    /// The redirect (303, so the browser follows with GET).
    fn respond(self, page: &Caller) -> service::Result<HttpResponse> {
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(n) = self.notice {
            params.push(("notice", n.code().to_owned()));
        }
        if let Some((name, value)) = self.once {
            let id = page.state.flash.put(
                (&page.tenant.schema_name, page.principal.user.id),
                page.now,
                name,
                value,
            )?;
            params.push(("shown", id));
        }
        let to = if params.is_empty() {
            self.to
        } else {
            let q = serde_urlencoded::to_string(&params).unwrap_or_default();
            format!("{}?{q}", self.to)
        };
        Ok(see_other(&to))
    }
}

/// POST-redirect-GET.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// Finishes a form submission (see the module documentation): `result` is what the use
/// case came to; `form` is the form's HTML id and `typed` what the user typed, shown
/// again by `view` on refusal.
pub async fn submit<T, Fut>(
    page: &Caller,
    form: &'static str,
    typed: &impl Serialize,
    result: service::Result<T>,
    done: impl FnOnce(T) -> Done,
    view: impl FnOnce(Shown) -> Fut,
) -> Result<HttpResponse, UiReject>
where
    Fut: Future<Output = Result<HttpResponse, UiReject>>,
{
    match result {
        Ok(v) => Ok(done(v).respond(page)?),
        Err(e) => view(Shown::refused(form, &e, typed)).await,
    }
}

impl Caller {
    /// What a page's URL asks it to show: the notice, and the result kept for it.
    pub fn shown(&self, q: &PageQuery) -> Shown {
        let once = q.shown.as_deref().and_then(|id| {
            self.state.flash.take(
                (&self.tenant.schema_name, self.principal.user.id),
                self.now,
                id,
            )
        });
        Shown {
            notice: q.notice,
            once,
            ..Shown::default()
        }
    }

    /// Renders a signed-in page: the frame (user, navigation, CSRF token, banner,
    /// notice), what `shown` holds, and the page's own values (`page`).
    pub fn render(&self, view: View, page: Value, shown: Shown) -> Result<HttpResponse, UiReject> {
        let html = self.state.templates.render(
            view.template,
            // Later maps win: the frame, then what `shown` holds, over the page's values.
            merge_maps([
                page,
                shown.values(),
                context! { chrome => chrome(self, view.nav, shown.notice) },
            ]),
        )?;
        let mut resp = HttpResponse::build(shown.status)
            .content_type("text/html; charset=utf-8")
            .body(html);
        if let Some(secs) = shown.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        Ok(resp)
    }
}
