//! Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a
//! client that signed in to an account gets a cookie signed by licd and bound to that
//! account. A later sign-in to the same account that presents it is throttled per
//! device, not per account, so strangers who lock the account do not lock out its
//! owner's known browser.
//!
//! Value: `v1.<issued unix seconds>.<nonce>.<mac>`, the MAC an HMAC-SHA256 over the
//! account, the time and the nonce with a key derived from `keys/kek` (so it survives
//! restarts and is in the backup with the KEK). Nothing is stored per cookie; the nonce
//! names the device for its own failure counter.

use super::error::Result;
use super::secrets::random_bytes;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ring::hmac;

/// How long a device cookie is honoured after the sign-in that issued it.
pub const LIFETIME_DAYS: i64 = 90;

/// How far in the future an issue time may lie (clocks of several licd hosts restored
/// from one backup disagree a little).
const FUTURE_SKEW_SECS: i64 = 300;

const VERSION: &str = "v1";

/// The key that signs device cookies.
pub struct DeviceKey(hmac::Key);

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKey(..)")
    }
}

fn message(account: &str, issued: i64, nonce: &str) -> Vec<u8> {
    format!("licd-device-{VERSION}\n{account}\n{issued}\n{nonce}").into_bytes()
}

impl DeviceKey {
    pub fn new(secret: &[u8]) -> DeviceKey {
        DeviceKey(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// A new cookie value for a client that just signed in to `account`.
    pub fn issue(&self, account: &str, now: DateTime<Utc>) -> Result<String> {
        let nonce = URL_SAFE_NO_PAD.encode(random_bytes::<16>()?);
        let issued = now.timestamp();
        let mac = hmac::sign(&self.0, &message(account, issued, &nonce));
        Ok(format!(
            "{VERSION}.{issued}.{nonce}.{}",
            URL_SAFE_NO_PAD.encode(mac.as_ref())
        ))
    }

    /// The device's id (the cookie's nonce) when `cookie` is a device cookie licd issued
    /// for `account` and it has not expired; `None` for anything else.
    pub fn verify(&self, cookie: &str, account: &str, now: DateTime<Utc>) -> Option<String> {
        let mut parts = cookie.split('.');
        let (version, issued, nonce, mac) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if version != VERSION || parts.next().is_some() || nonce.is_empty() {
            return None;
        }
        let issued: i64 = issued.parse().ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        // Constant-time comparison inside ring.
        hmac::verify(&self.0, &message(account, issued, nonce), &mac).ok()?;
        let age = now.timestamp().checked_sub(issued)?;
        (-FUTURE_SKEW_SECS..=LIFETIME_DAYS * 86_400)
            .contains(&age)
            .then(|| nonce.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn a_cookie_verifies_for_its_account_until_it_expires() {
        let key = DeviceKey::new(b"0123456789abcdef0123456789abcdef");
        let cookie = key.issue("public/a@example.com", t0()).unwrap();
        let id = key.verify(&cookie, "public/a@example.com", t0()).unwrap();
        assert_eq!(cookie.split('.').nth(2), Some(id.as_str()));
        let later = t0() + Duration::days(LIFETIME_DAYS);
        assert!(key.verify(&cookie, "public/a@example.com", later).is_some());
        let expired = later + Duration::seconds(1);
        assert!(
            key.verify(&cookie, "public/a@example.com", expired)
                .is_none()
        );
        let before = t0() - Duration::hours(1);
        assert!(
            key.verify(&cookie, "public/a@example.com", before)
                .is_none()
        );
    }

    #[test]
    fn other_accounts_keys_and_edits_do_not_verify() {
        let key = DeviceKey::new(b"0123456789abcdef0123456789abcdef");
        let cookie = key.issue("public/a@example.com", t0()).unwrap();
        assert!(key.verify(&cookie, "public/b@example.com", t0()).is_none());
        assert!(key.verify(&cookie, "other/a@example.com", t0()).is_none());
        let other_key = DeviceKey::new(b"another key, another licd install");
        assert!(
            other_key
                .verify(&cookie, "public/a@example.com", t0())
                .is_none()
        );
        let parts: Vec<&str> = cookie.split('.').collect();
        let later_issue = format!("v1.{}.{}.{}", t0().timestamp() + 60, parts[2], parts[3]);
        let other_nonce = format!("v1.{}.AAAAAAAAAAAAAAAAAAAAAA.{}", parts[1], parts[3]);
        let extra = format!("{cookie}.extra");
        let version = cookie.replacen("v1", "v2", 1);
        for bad in [
            later_issue.as_str(),
            other_nonce.as_str(),
            "",
            "v1",
            "v1.x.y.z",
            extra.as_str(),
            version.as_str(),
        ] {
            assert!(
                key.verify(bad, "public/a@example.com", t0()).is_none(),
                "{bad}"
            );
        }
    }
}
