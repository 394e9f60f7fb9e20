//! The vendor's logo the portal shows beside its product name (`portal.logo_file`): a
//! PNG, SVG or JPEG of at most 256 KiB, read when asked for (replacing the file needs no
//! restart).

use super::{App, Result, ServiceError};
use sha2::{Digest, Sha256};
use std::io::Read;

/// The largest logo file served.
pub const MAX_BYTES: u64 = 256 * 1024;

/// The logo's bytes, media type and a strong ETag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub etag: String,
}

/// Whether a logo is configured (the portal's pages show it when so).
pub fn configured(app: &App) -> bool {
    app.config.portal.logo_file.is_some()
}

/// The configured logo; `None` when there is none. A file that cannot be read, or is
/// too large, is an internal error (the log names it; the page shows the name alone).
pub fn load(app: &App) -> Result<Option<Logo>> {
    let Some(path) = app.config.portal.logo_file.as_deref() else {
        return Ok(None);
    };
    let fail = |what: &str, e: std::io::Error| {
        ServiceError::internal(format!("portal.logo_file {}: {what}", path.display()), e)
    };
    let file = std::fs::File::open(path).map_err(|e| fail("cannot open", e))?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail("cannot read", e))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(ServiceError::unexpected(format!(
            "portal.logo_file {} is larger than {MAX_BYTES} bytes",
            path.display()
        )));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let content_type = match ext.as_deref() {
        Some("svg") => "image/svg+xml",
        Some("jpg" | "jpeg") => "image/jpeg",
        _ => "image/png",
    };
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
    Ok(Some(Logo {
        bytes,
        content_type,
        etag,
    }))
}
