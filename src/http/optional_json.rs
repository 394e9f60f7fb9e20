//! A JSON body that may be left out. actix's `Option<Json<T>>` turns *any* extraction
//! error into `None`, so a body with a typo (`{"dry_rn": true}`) or that is not JSON at
//! all would be taken for no body. Here only a request without a body is `None`; a body
//! that is there must parse, and its errors go through the usual JSON error handler.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

/// No `Content-Length` and no `Transfer-Encoding`, or `Content-Length: 0`: no body.
fn has_body(req: &HttpRequest) -> bool {
    let headers = req.headers();
    match headers.get(header::CONTENT_LENGTH) {
        Some(len) => len.to_str().map_or(true, |l| l.trim() != "0"),
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !has_body(req) {
            return Box::pin(async { Ok(OptionalJson(None)) });
        }
        let body = web::Json::<T>::from_request(req, payload);
        Box::pin(async move { Ok(OptionalJson(Some(body.await?.into_inner()))) })
    }
}
