//! Signed request bodies: how the vendor's own payment gateway proves that a payment
//! confirmation (`POST /api/v1/billing/payments`) comes from it. Stripe's documented
//! scheme, learnt from its public documentation:
//!
//! `Licd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
//!
//! The timestamp is inside the MAC, so an old request cannot be given a new time; a
//! request whose `t` is further than the replay window from licd's clock is refused
//! (`Stale`); a request seen before within the window is caught by its idempotency key
//! in the ledger. Several `v1=` entries may be sent, and several secrets configured,
//! so a secret can be rotated without downtime: any configured secret matching any
//! `v1` passes. MACs are compared in constant time (`ring::hmac::verify`).

use chrono::{DateTime, Utc};
use ring::hmac;

/// The header the signature travels in.
pub const HEADER: &str = "licd-signature";

/// A gateway secret, ready to sign and verify.
pub struct BodyKey(hmac::Key);

impl std::fmt::Debug for BodyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BodyKey(..)")
    }
}

impl BodyKey {
    pub fn new(secret: &[u8]) -> BodyKey {
        BodyKey(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }
}

fn message(t: i64, body: &[u8]) -> Vec<u8> {
    let mut m = format!("{t}.").into_bytes();
    m.extend_from_slice(body);
    m
}

/// The header value for `body` signed at `at` (what a gateway sends; tests use it).
pub fn sign(key: &BodyKey, at: DateTime<Utc>, body: &[u8]) -> String {
    let t = at.timestamp();
    let mac = hmac::sign(&key.0, &message(t, body));
    format!("t={t},v1={}", hex::encode(mac.as_ref()))
}

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No header, or not `t=...,v1=...`.
    Malformed,
    /// No configured secret makes any of its MACs.
    Mismatch,
    /// `t` is outside the replay window around `now`.
    Stale,
}

impl Refused {
    pub fn says(self) -> &'static str {
        match self {
            Refused::Malformed => {
                "the Licd-Signature header is missing or is not t=<unix seconds>,v1=<hex HMAC-SHA256>"
            }
            Refused::Mismatch => "the signature does not match the body with any configured secret",
            Refused::Stale => "the signature's timestamp is outside the replay window",
        }
    }
}

/// Checks `header` against `body` with any of `keys`, at `now`, allowing `window_secs`
/// of difference between the signature's time and licd's. Returns the signature's time.
pub fn verify(
    keys: &[BodyKey],
    header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
    window_secs: i64,
) -> Result<i64, Refused> {
    let header = header.ok_or(Refused::Malformed)?;
    let mut t: Option<i64> = None;
    let mut macs: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.parse().map_err(|_| Refused::Malformed)?),
            Some(("v1", v)) => macs.push(hex::decode(v).map_err(|_| Refused::Malformed)?),
            // Other schemes (a future v2) are ignored, as Stripe's clients do.
            Some(_) => {}
            None => return Err(Refused::Malformed),
        }
    }
    let t = t.ok_or(Refused::Malformed)?;
    if macs.is_empty() {
        return Err(Refused::Malformed);
    }
    let signed = message(t, body);
    let matches = keys
        .iter()
        .any(|k| macs.iter().any(|m| hmac::verify(&k.0, &signed, m).is_ok()));
    if !matches {
        return Err(Refused::Mismatch);
    }
    if (now.timestamp() - t).abs() > window_secs {
        return Err(Refused::Stale);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap()
    }

    #[test]
    fn a_signed_body_verifies_and_any_change_does_not() {
        let key = BodyKey::new(b"gateway-secret-0123456789abcdef");
        let body = br#"{"invoice":"INV-2026-000001","amount":1000}"#;
        let h = sign(&key, now(), body);
        assert!(h.starts_with(&format!("t={},v1=", now().timestamp())));
        let keys = [key];
        assert_eq!(
            verify(&keys, Some(&h), body, now(), 300),
            Ok(now().timestamp())
        );
        let changed = br#"{"invoice":"INV-2026-000001","amount":9000}"#;
        assert_eq!(
            verify(&keys, Some(&h), changed, now(), 300),
            Err(Refused::Mismatch)
        );
        // A new time on an old MAC does not verify either.
        let moved = h.replacen(
            &now().timestamp().to_string(),
            &(now().timestamp() + 60).to_string(),
            1,
        );
        assert_eq!(
            verify(&keys, Some(&moved), body, now(), 300),
            Err(Refused::Mismatch)
        );
    }

    #[test]
    fn old_and_future_signatures_are_stale() {
        let key = BodyKey::new(b"s");
        let old = sign(&key, now() - Duration::seconds(301), b"x");
        let future = sign(&key, now() + Duration::seconds(301), b"x");
        let edge = sign(&key, now() - Duration::seconds(300), b"x");
        let keys = [key];
        assert_eq!(
            verify(&keys, Some(&old), b"x", now(), 300),
            Err(Refused::Stale)
        );
        assert_eq!(
            verify(&keys, Some(&future), b"x", now(), 300),
            Err(Refused::Stale)
        );
        assert!(verify(&keys, Some(&edge), b"x", now(), 300).is_ok());
    }

    #[test]
    fn a_rotated_secret_and_several_macs_work() {
        let old = BodyKey::new(b"old");
        let new = BodyKey::new(b"new");
        let h_old = sign(&old, now(), b"x");
        let h_new = sign(&new, now(), b"x");
        let both = format!("{h_new},{}", h_old.split(',').nth(1).unwrap());
        assert!(verify(&[new], Some(&h_old), b"x", now(), 300).is_err());
        let keys = [BodyKey::new(b"new"), BodyKey::new(b"old")];
        for h in [&h_old, &h_new, &both] {
            assert!(verify(&keys, Some(h), b"x", now(), 300).is_ok(), "{h}");
        }
    }

    #[test]
    fn malformed_headers_are_named() {
        let keys = [BodyKey::new(b"s")];
        for h in [
            None,
            Some(""),
            Some("t=1"),
            Some("v1=00"),
            Some("t=x,v1=00"),
            Some("t=1,v1=zz"),
            Some("nonsense"),
        ] {
            assert_eq!(
                verify(&keys, h, b"x", now(), 300),
                Err(Refused::Malformed),
                "{h:?}"
            );
        }
    }
}
