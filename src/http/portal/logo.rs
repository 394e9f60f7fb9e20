//! `GET /portal/logo`: the vendor's logo (`portal.logo_file`), with an ETag; 404 when
//! none is configured.

use crate::error::{ErrorCode, Problem};
use crate::http::context::Open;
use crate::http::problem::refusal;
use crate::service::portal_logo;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

pub async fn serve(req: HttpRequest, open: Open) -> Result<HttpResponse, actix_web::Error> {
    let logo = open
        .run(|cx| portal_logo::load(&cx.app))
        .await
        .map_err(|e| {
            if e.is_internal() {
                tracing::error!(error = %e.report(), "the portal logo");
            }
            refusal(&req, e.problem())
        })?;
    let Some(logo) = logo else {
        return Err(refusal(
            &req,
            Problem::new(
                ErrorCode::NotFound,
                "no logo is configured (portal.logo_file)",
            ),
        ));
    };
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == logo.etag));
    let mut resp = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::ETAG, logo.etag.as_str()))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600, must-revalidate"),
        ));
    if matches {
        return Ok(resp.finish());
    }
    Ok(resp.content_type(logo.content_type).body(logo.bytes))
}
