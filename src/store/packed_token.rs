//! A signed token (compact JWS: three base64url segments joined by dots) kept as the
//! bytes its segments encode, with its header and payload deflated. A license's key is
//! about 660 characters of text; base64 spends four characters on every three bytes
//! (497 bytes), and most of what is left is the claims' names and the shape every key
//! shares, which a deflate stream primed with [`DICTIONARY`] spells in a few bits
//! (about 250 bytes). Every license keeps at least one key (`license_keys`).
//!
//! A token may also be packed for a context: text its reader knows from elsewhere and
//! gives back to [`read`], such as the id of the license a key row belongs to, which
//! the key's claims name twice (`sub` and `jti`). The deflate stream is then primed
//! with the context too, and spells it in a few bytes instead of about twenty.
//!
//! Packing is lossless or refused: a token is packed only when unpacking gives back
//! exactly its text, so a token in any other spelling (padding, the standard alphabet,
//! a hand-edited key) is kept as text. A column holding tokens may therefore hold
//! any of the forms; [`read`] takes them all.

use super::{Result, StoreError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use rusqlite::types::{Value, ValueRef};

/// The first byte of a packed token, naming its layout:
/// - `PLAIN`: the header's and the payload's lengths as two bytes each, big-endian,
///   then the header, the payload and the signature (keys stored before `DEFLATED`);
/// - `DEFLATED`: the header's, the payload's and the signature's lengths as two bytes
///   each, the signature, then the header and payload as one raw deflate stream primed
///   with [`DICTIONARY`] (keys stored before `DEFLATED_FOR`);
/// - `DEFLATED_FOR`: as `DEFLATED`, the stream primed with [`DICTIONARY`] followed by
///   the token's context. It reads back only with the same context.
const PLAIN: u8 = 1;
const DEFLATED: u8 = 2;
const DEFLATED_FOR: u8 = 3;

/// What a license key's header and claims look like, without what differs from key
/// to key: the deflate stream of a `DEFLATED` or `DEFLATED_FOR` token starts with this
/// in its window. **Frozen**: every such token stored reads back only with these exact
/// bytes. A better dictionary needs a new format byte, with these two still read.
const DICTIONARY: &[u8] = br#"{"alg":"ES256","kid":"","typ":"licd-license+jwt"}{"iss":"licd:","sub":"","jti":"","aud":"licd:install:","iat":17,"nbf":17,"exp":18,"name":"","org":"","internal_users":,"external_users":0,"features":[],"flags":[],"ver":1}"#;

/// The compressor's window: 4 KiB holds the dictionary and any license key's header
/// and claims but the most unusual; a match further back is merely not found.
const WINDOW_BITS: u8 = 12;
/// The largest window a raw deflate stream may use, so a reader takes any of them.
const MAX_WINDOW_BITS: u8 = 15;

/// The token as it is stored: packed bytes (the smaller of `PLAIN` and `DEFLATED_FOR`
/// for `context` that gives it back exactly), or its text when neither does.
pub fn stored(token: &str, context: &str) -> Value {
    match pack(token, context.as_bytes()) {
        Some(bytes) => Value::Blob(bytes),
        None => Value::Text(token.to_owned()),
    }
}

/// A stored token's text, from any form; `context` is the one it was stored for, and
/// `column` names it in the error for bytes that are not a packed token.
pub fn read(value: ValueRef<'_>, column: &'static str, context: &str) -> Result<String> {
    let corrupt = |value: String| StoreError::Corrupt { column, value };
    match value {
        ValueRef::Text(t) => {
            String::from_utf8(t.to_vec()).map_err(|_| corrupt("text that is not UTF-8".into()))
        }
        ValueRef::Blob(b) => unpack(b, context.as_bytes())
            .ok_or_else(|| corrupt(format!("{} bytes that are not a packed token", b.len()))),
        other => Err(corrupt(format!("a {:?} value", other.data_type()))),
    }
}

/// A token's three segments, decoded.
struct Segments {
    header: Vec<u8>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl Segments {
    fn decode(token: &str) -> Option<Segments> {
        let mut segments = token.split('.');
        let (header, payload, signature) = (segments.next()?, segments.next()?, segments.next()?);
        if segments.next().is_some() {
            return None;
        }
        Some(Segments {
            header: B64.decode(header).ok()?,
            payload: B64.decode(payload).ok()?,
            signature: B64.decode(signature).ok()?,
        })
    }

    fn encode(&self) -> String {
        format!(
            "{}.{}.{}",
            B64.encode(&self.header),
            B64.encode(&self.payload),
            B64.encode(&self.signature)
        )
    }

    fn plain(&self) -> Option<Vec<u8>> {
        let mut out = vec![PLAIN];
        out.extend_from_slice(&len16(&self.header)?);
        out.extend_from_slice(&len16(&self.payload)?);
        out.extend_from_slice(&self.header);
        out.extend_from_slice(&self.payload);
        out.extend_from_slice(&self.signature);
        Some(out)
    }

    /// `DEFLATED_FOR` for `context`. (With an empty context these are the bytes of
    /// `DEFLATED` but for the first.)
    fn deflated(&self, context: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![DEFLATED_FOR];
        out.extend_from_slice(&len16(&self.header)?);
        out.extend_from_slice(&len16(&self.payload)?);
        out.extend_from_slice(&len16(&self.signature)?);
        out.extend_from_slice(&self.signature);
        let mut deflate = Compress::new_with_window_bits(Compression::best(), false, WINDOW_BITS);
        deflate.set_dictionary(&dictionary(context)).ok()?;
        let input = [self.header.as_slice(), self.payload.as_slice()].concat();
        // A stored block's worst case, and room for the stream's end.
        out.reserve(input.len() + input.len() / 8 + 64);
        match deflate.compress_vec(&input, &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => Some(out),
            _ => None,
        }
    }
}

/// What a deflate stream is primed with: [`DICTIONARY`], then the context (nearest,
/// so the shortest to point back to).
fn dictionary(context: &[u8]) -> Vec<u8> {
    [DICTIONARY, context].concat()
}

fn len16(bytes: &[u8]) -> Option<[u8; 2]> {
    Some(u16::try_from(bytes.len()).ok()?.to_be_bytes())
}

fn pack(token: &str, context: &[u8]) -> Option<Vec<u8>> {
    let segments = Segments::decode(token)?;
    let exact =
        |bytes: Vec<u8>| (unpack(&bytes, context).as_deref() == Some(token)).then_some(bytes);
    let plain = segments.plain().and_then(exact);
    let deflated = segments.deflated(context).and_then(exact);
    match (plain, deflated) {
        (Some(p), Some(d)) => Some(if d.len() < p.len() { d } else { p }),
        (p, d) => p.or(d),
    }
}

fn unpack(bytes: &[u8], context: &[u8]) -> Option<String> {
    let (&format, rest) = bytes.split_first()?;
    let (header_len, rest) = take_len(rest)?;
    let (payload_len, rest) = take_len(rest)?;
    let segments = match format {
        PLAIN => {
            let (header, rest) = rest.split_at_checked(header_len)?;
            let (payload, signature) = rest.split_at_checked(payload_len)?;
            Segments {
                header: header.to_vec(),
                payload: payload.to_vec(),
                signature: signature.to_vec(),
            }
        }
        DEFLATED | DEFLATED_FOR => {
            let (signature_len, rest) = take_len(rest)?;
            let (signature, stream) = rest.split_at_checked(signature_len)?;
            let primer = dictionary(if format == DEFLATED_FOR { context } else { &[] });
            let mut both = inflate(stream, &primer, header_len + payload_len)?;
            let payload = both.split_off(header_len);
            Segments {
                header: both,
                payload,
                signature: signature.to_vec(),
            }
        }
        _ => return None,
    };
    Some(segments.encode())
}

fn take_len(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let (len, rest) = bytes.split_first_chunk::<2>()?;
    Some((usize::from(u16::from_be_bytes(*len)), rest))
}

/// The stream's `len` bytes, or `None` unless it is one whole deflate stream of exactly
/// that many (never more: the output cannot grow past them).
fn inflate(stream: &[u8], primer: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut inflate = Decompress::new_with_window_bits(false, MAX_WINDOW_BITS);
    inflate.set_dictionary(primer).ok()?;
    let mut out = Vec::with_capacity(len);
    let status = inflate
        .decompress_vec(stream, &mut out, FlushDecompress::Finish)
        .ok()?;
    let whole = status == Status::StreamEnd
        && out.len() == len
        && usize::try_from(inflate.total_in()).ok()? == stream.len();
    whole.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A license key as licd signs them (the benchmark's first license).
    const KEY: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6IlVUcVgyNlZTZzdhdEZjQW1NaEpWUGwybFlEYUw5NlpRVWlOOHBrQ0Viek0iLCJ0eXAiOiJsaWNkLWxpY2Vuc2Urand0In0.eyJpc3MiOiJsaWNkOjczZjVmNDkyLTJlMmEtNDFmYS1hMmRiLTIzNmI2ODMwY2EzNSIsInN1YiI6IjIyODBkZjMyLTA1NmUtNGQ3ZC05NDEyLWM5M2U1NzA0OTVjOCIsImp0aSI6IjIyODBkZjMyLTA1NmUtNGQ3ZC05NDEyLWM5M2U1NzA0OTVjOCIsImF1ZCI6ImxpY2Q6aW5zdGFsbDppbnN0YWxsLTAiLCJpYXQiOjE3OTY0MDk3MTEsIm5iZiI6MTc5NjQwOTcxMSwiZXhwIjoxODI3OTQ1NzExLCJuYW1lIjoiYmVuY2giLCJvcmciOiJCZW5jaCBDb3JwIiwiaW50ZXJuYWxfdXNlcnMiOjEwMCwiZXh0ZXJuYWxfdXNlcnMiOjEwLCJmZWF0dXJlcyI6WyJzc28iXSwiZmxhZ3MiOltdLCJ2ZXIiOjF9.Qmy082fvsig-111apQemRKaPBcaOEvHajGihdZ7AOcNuC7attb80TkywWyGp-gMEdxTw-rD2-ANf5SA9ZuBmeg";

    /// `KEY`'s license (its `sub` and `jti`): the context a key row packs it for.
    const LICENSE: &str = "2280df32-056e-4d7d-9412-c93e570495c8";

    fn read_back(value: &Value) -> Result<String> {
        read(ValueRef::from(value), "license_keys.license_key", LICENSE)
    }

    fn blob(value: Value) -> Vec<u8> {
        match value {
            Value::Blob(bytes) => bytes,
            other => panic!("kept as {other:?}"),
        }
    }

    #[test]
    fn a_signed_key_is_kept_deflated_for_its_license_in_under_240_bytes() {
        let value = stored(KEY, LICENSE);
        let bytes = blob(value.clone());
        assert_eq!(KEY.len(), 659);
        assert_eq!(bytes[0], DEFLATED_FOR);
        assert!(bytes.len() < 240, "{} bytes", bytes.len());
        assert_eq!(read_back(&value).unwrap(), KEY);
        // The license's id in the stream's primer spares its two spellings.
        let without = blob(stored(KEY, ""));
        assert!(
            bytes.len() + 18 <= without.len(),
            "{} against {}",
            bytes.len(),
            without.len()
        );
    }

    #[test]
    fn keys_kept_in_the_earlier_layouts_read_back_exactly_for_any_context() {
        let segments = Segments::decode(KEY).unwrap();
        let plain = segments.plain().unwrap();
        assert_eq!(plain.len(), 497);
        // As licd stored keys before `DEFLATED_FOR`: its layout with no context.
        let mut deflated = segments.deflated(b"").unwrap();
        deflated[0] = DEFLATED;
        for bytes in [plain, deflated] {
            for context in [LICENSE, "", "another"] {
                let value = Value::Blob(bytes.clone());
                let text = read(ValueRef::from(&value), "license_keys.license_key", context);
                assert_eq!(text.unwrap(), KEY);
            }
        }
    }

    /// A key packed for its license reads back only for that license: the context is
    /// part of what the stream points back into (a key row's own `license_id`, which
    /// never changes).
    #[test]
    fn a_key_read_for_another_context_is_not_given_back() {
        let value = stored(KEY, LICENSE);
        let other = "2280df32-056e-4d7d-9412-000000000000";
        let text = read(ValueRef::from(&value), "license_keys.license_key", other);
        assert_ne!(text.ok().as_deref(), Some(KEY));
    }

    #[test]
    fn any_signed_token_is_deflated_when_that_is_smaller_and_always_read_back_exactly() {
        let (_, _, signature) = (KEY.split('.').next(), (), KEY.rsplit('.').next().unwrap());
        let claims = |payload: &str| {
            format!(
                "{}.{}.{signature}",
                B64.encode(br#"{"alg":"ES256","kid":"k1","typ":"licd-lease+jwt"}"#),
                B64.encode(payload)
            )
        };
        let long_name = format!(r#"{{"name":"{}","features":[]}}"#, "Werk Süd ".repeat(900));
        for token in [
            claims("{}"),
            claims(r#"{"name":"Plant 7","org":"Acme GmbH","features":["sso","audit"]}"#),
            claims(&long_name),
            // Bytes no dictionary helps with: kept plain, as deflating would grow them.
            format!(
                "{}.{}.{signature}",
                B64.encode([0x9f; 40]),
                B64.encode([7, 200, 13])
            ),
        ] {
            let value = stored(&token, LICENSE);
            let Value::Blob(bytes) = &value else {
                panic!("kept as {value:?}")
            };
            let plain = Segments::decode(&token).unwrap().plain().unwrap();
            assert!(
                bytes.len() <= plain.len(),
                "{} > {}",
                bytes.len(),
                plain.len()
            );
            assert_eq!(read_back(&value).unwrap(), token);
        }
    }

    #[test]
    fn a_deflated_key_cut_short_or_grown_is_refused() {
        let good = blob(stored(KEY, LICENSE));
        let cut = good[..good.len() - 3].to_vec();
        let mut grown = good.clone();
        grown.push(0);
        let mut claims_shorter = good.clone();
        claims_shorter[4] -= 1;
        let mut claims_longer = good.clone();
        claims_longer[4] += 1;
        for bytes in [cut, grown, claims_shorter, claims_longer] {
            assert!(read_back(&Value::Blob(bytes)).is_err());
        }
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
            let value = stored(&token, LICENSE);
            assert_eq!(value, Value::Text(token.clone()), "{token}");
            assert_eq!(read_back(&value).unwrap(), token);
        }
    }

    #[test]
    fn bytes_that_are_not_a_packed_token_are_refused_by_name() {
        let good = blob(stored(KEY, LICENSE));
        let mut other_format = good.clone();
        other_format[0] = 4;
        let mut header_too_long = good.clone();
        header_too_long[1] = 0xff;
        for bytes in [vec![], vec![PLAIN, 0], other_format, header_too_long] {
            let err = read_back(&Value::Blob(bytes)).unwrap_err();
            assert!(
                matches!(&err, StoreError::Corrupt { column: "license_keys.license_key", value } if value.contains("not a packed token")),
                "{err:?}"
            );
        }
        assert!(read_back(&Value::Integer(7)).is_err());
    }
}
