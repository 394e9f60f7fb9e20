//! Static files embedded from `assets/static`, served with a strong ETag (304 on match)
//! and a cache lifetime.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::OnceLock;

static STATIC: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/static");

struct Asset {
    body: &'static [u8],
    etag: String,
    content_type: &'static str,
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn assets() -> &'static HashMap<String, Asset> {
    static ASSETS: OnceLock<HashMap<String, Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        let mut map = HashMap::new();
        let mut stack = vec![&STATIC];
        while let Some(dir) = stack.pop() {
            stack.extend(dir.dirs());
            for f in dir.files() {
                let name = f.path().to_string_lossy().replace('\\', "/");
                let etag = format!("\"{}\"", &hex::encode(Sha256::digest(f.contents()))[..32]);
                let content_type = content_type(&name);
                map.insert(
                    name,
                    Asset {
                        body: f.contents(),
                        etag,
                        content_type,
                    },
                );
            }
        }
        map
    })
}

/// `GET /static/{path}`.
pub async fn serve(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(asset) = assets().get(path.as_str()) else {
        return super::problem::problem_response(&crate::error::Problem::new(
            crate::error::ErrorCode::NotFound,
            "no such static file",
        ));
    };
    let cache = HeaderValue::from_static("public, max-age=3600, must-revalidate");
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == asset.etag || t.trim() == "*")
        });
    let mut resp = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::ETAG, asset.etag.as_str()))
        .insert_header((header::CACHE_CONTROL, cache));
    if matches {
        return resp.finish();
    }
    resp.content_type(asset.content_type).body(asset.body)
}
