//! Turning errors into RFC 7807 `application/problem+json` responses.

use crate::error::{ErrorCode, Problem};
use crate::service::ServiceError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error on its way to an API client.
#[derive(Debug)]
pub struct ApiError(pub Problem);

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError(Problem::new(code, detail))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        if e.is_internal() {
            tracing::error!(error = %e.report(), "request failed");
        }
        ApiError(e.problem())
    }
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        ApiError(p)
    }
}

/// An RFC 7807 problem: every refusal answers with one, as `application/problem+json`.
#[derive(Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemBody<'a> {
    /// `urn:licd:problem:` followed by `code`.
    #[serde(rename = "type")]
    #[schema(examples("urn:licd:problem:not_found"))]
    pub kind: String,
    /// A short human title for the code.
    #[schema(examples("Not found"))]
    pub title: &'a str,
    /// The HTTP status, as in the response.
    #[schema(examples(404))]
    pub status: u16,
    /// What went wrong in this instance, for people; a field's name comes first
    /// (`limit: must be between 1 and 500`).
    #[schema(examples("license 0b6f... does not exist"))]
    pub detail: &'a str,
    /// The stable code clients match on (the API contract; see each response for the
    /// codes a route can answer).
    #[schema(schema_with = code_schema)]
    pub code: &'a str,
}

/// `code`: one of the stable codes in `src/error.rs`.
fn code_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
        .build()
}

/// The response for a problem.
pub fn problem_response(p: &Problem) -> HttpResponse {
    let status =
        StatusCode::from_u16(p.code.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = ProblemBody {
        kind: format!("urn:licd:problem:{}", p.code.as_str()),
        title: p.code.title(),
        status: status.as_u16(),
        detail: &p.detail,
        code: p.code.as_str(),
    };
    let mut resp = HttpResponse::build(status);
    resp.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
    if let Some(secs) = p.retry_after {
        resp.insert_header((header::RETRY_AFTER, secs.to_string()));
    }
    if p.code == ErrorCode::RequestTimeout {
        // The rest of the body may still be on its way: this connection is done.
        resp.force_close();
    }
    if p.code == ErrorCode::Unauthenticated {
        resp.insert_header((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"licd\""),
        ));
    }
    resp.body(serde_json::to_string(&body).unwrap_or_default())
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.code.status().as_u16())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        problem_response(&self.0)
    }
}

/// A refusal in the shape the route's side answers with: an HTML page with a way back
/// for a console or portal route (`routing::Surface::is_html`), else
/// `application/problem+json`.
pub fn refusal(req: &HttpRequest, p: Problem) -> actix_web::Error {
    if super::routing::surface_of(req.path()).is_some_and(super::routing::Surface::is_html) {
        let back = super::routing::page_of(req.path());
        return super::ui::reject::UiReject::problem(&p, &back).into();
    }
    ApiError(p).into()
}

/// Whether a request came from a person's browser page rather than an API client, so
/// that errors can be answered with HTML.
pub fn wants_html(req: &HttpRequest) -> bool {
    !req.path().starts_with("/api/")
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}
