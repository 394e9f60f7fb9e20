//! A signed token (compact JWS: three base64url segments joined by dots) kept as the
//! bytes its segments encode, a quarter smaller than its text: base64 spends four
//! characters on every three bytes. A license's key is about 660 characters, and every
//! license keeps at least one (`license_keys`).
//!
//! Packing is lossless or refused: a token is packed only when unpacking gives back
//! exactly its text, so a token in any other spelling (padding, the standard alphabet,
//! a hand-edited key) is kept as text. A column holding tokens may therefore hold
//! either form; [`read`] takes both.

use super::{Result, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rusqlite::types::{Value, ValueRef};

/// The first byte of a packed token: the layout below, so another can follow.
const FORMAT: u8 = 1;

/// The token as it is stored: packed bytes (`FORMAT`, the header's and the payload's
/// lengths as two bytes each, big-endian, then the header, the payload and the
/// signature), or its text when packing would not give it back exactly.
pub fn stored(token: &str) -> Value {
    match pack(token) {
        Some(bytes) => Value::Blob(bytes),
        None => Value::Text(token.to_owned()),
    }
}

/// A stored token's text, from either form; `column` names it in the error for bytes
/// that are not a packed token.
pub fn read(value: ValueRef<'_>, column: &'static str) -> Result<String> {
    let corrupt = |value: String| StoreError::Corrupt { column, value };
    match value {
        ValueRef::Text(t) => {
            String::from_utf8(t.to_vec()).map_err(|_| corrupt("text that is not UTF-8".into()))
        }
        ValueRef::Blob(b) => unpack(b)
            .ok_or_else(|| corrupt(format!("{} bytes that are not a packed token", b.len()))),
        other => Err(corrupt(format!("a {:?} value", other.data_type()))),
    }
}

fn pack(token: &str) -> Option<Vec<u8>> {
    let mut segments = token.split('.');
    let (header, payload, signature) = (segments.next()?, segments.next()?, segments.next()?);
    if segments.next().is_some() {
        return None;
    }
    let (header, payload, signature) = (
        B64.decode(header).ok()?,
        B64.decode(payload).ok()?,
        B64.decode(signature).ok()?,
    );
    let mut out = Vec::with_capacity(5 + header.len() + payload.len() + signature.len());
    out.push(FORMAT);
    out.extend_from_slice(&u16::try_from(header.len()).ok()?.to_be_bytes());
    out.extend_from_slice(&u16::try_from(payload.len()).ok()?.to_be_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&payload);
    out.extend_from_slice(&signature);
    (unpack(&out).as_deref() == Some(token)).then_some(out)
}

fn unpack(bytes: &[u8]) -> Option<String> {
    let (&format, rest) = bytes.split_first()?;
    if format != FORMAT || rest.len() < 4 {
        return None;
    }
    let header_len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
    let payload_len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
    let rest = &rest[4..];
    let (header, rest) = rest.split_at_checked(header_len)?;
    let (payload, signature) = rest.split_at_checked(payload_len)?;
    Some(format!(
        "{}.{}.{}",
        B64.encode(header),
        B64.encode(payload),
        B64.encode(signature)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A license key as licd signs them (the benchmark's first license).
    const KEY: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6IlVUcVgyNlZTZzdhdEZjQW1NaEpWUGwybFlEYUw5NlpRVWlOOHBrQ0Viek0iLCJ0eXAiOiJsaWNkLWxpY2Vuc2Urand0In0.eyJpc3MiOiJsaWNkOjczZjVmNDkyLTJlMmEtNDFmYS1hMmRiLTIzNmI2ODMwY2EzNSIsInN1YiI6IjIyODBkZjMyLTA1NmUtNGQ3ZC05NDEyLWM5M2U1NzA0OTVjOCIsImp0aSI6IjIyODBkZjMyLTA1NmUtNGQ3ZC05NDEyLWM5M2U1NzA0OTVjOCIsImF1ZCI6ImxpY2Q6aW5zdGFsbDppbnN0YWxsLTAiLCJpYXQiOjE3OTY0MDk3MTEsIm5iZiI6MTc5NjQwOTcxMSwiZXhwIjoxODI3OTQ1NzExLCJuYW1lIjoiYmVuY2giLCJvcmciOiJCZW5jaCBDb3JwIiwiaW50ZXJuYWxfdXNlcnMiOjEwMCwiZXh0ZXJuYWxfdXNlcnMiOjEwLCJmZWF0dXJlcyI6WyJzc28iXSwiZmxhZ3MiOltdLCJ2ZXIiOjF9.Qmy082fvsig-111apQemRKaPBcaOEvHajGihdZ7AOcNuC7attb80TkywWyGp-gMEdxTw-rD2-ANf5SA9ZuBmeg";

    fn read_back(value: &Value) -> Result<String> {
        read(ValueRef::from(value), "license_keys.license_key")
    }

    #[test]
    fn a_signed_key_is_kept_as_bytes_a_quarter_smaller_and_read_back_exactly() {
        let value = stored(KEY);
        let Value::Blob(bytes) = &value else {
            panic!("kept as {value:?}")
        };
        assert_eq!(KEY.len(), 659);
        assert_eq!(bytes.len(), 497);
        assert_eq!(read_back(&value).unwrap(), KEY);
    }

    #[test]
    fn a_token_packing_would_change_is_kept_as_text() {
        let (header, rest) = KEY.split_once('.').unwrap();
        for token in [
            format!("{header}=.{rest}"),                       // padding
            format!("{header}.{rest}.e30"),                    // four segments
            format!("{header}.e30"),                           // two
            KEY.replace('-', "+"),                             // the standard alphabet
            format!("{}.AB", &KEY[..KEY.rfind('.').unwrap()]), // trailing bits set
            "not a token".to_owned(),
            String::new(),
        ] {
            let value = stored(&token);
            assert_eq!(value, Value::Text(token.clone()), "{token}");
            assert_eq!(read_back(&value).unwrap(), token);
        }
    }

    #[test]
    fn bytes_that_are_not_a_packed_token_are_refused_by_name() {
        let Value::Blob(good) = stored(KEY) else {
            panic!()
        };
        let mut other_format = good.clone();
        other_format[0] = 2;
        let mut header_too_long = good.clone();
        header_too_long[1] = 0xff;
        for bytes in [vec![], vec![FORMAT, 0], other_format, header_too_long] {
            let err = read_back(&Value::Blob(bytes)).unwrap_err();
            assert!(
                matches!(&err, StoreError::Corrupt { column: "license_keys.license_key", value } if value.contains("not a packed token")),
                "{err:?}"
            );
        }
        assert!(read_back(&Value::Integer(7)).is_err());
    }
}
