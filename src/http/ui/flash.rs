//! Results a console page shows once after a redirect: a new secret (token, one-time
//! password), a sweep report. The form that made one redirects (so a reload never
//! submits it again) to its page with `?shown=<id>`; the page takes the result, once.
//! Kept in memory, for the account that made it (its tenant and its id: staff ids repeat
//! across tenants), for a few minutes.

use crate::service::{Result, secrets};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::sync::{Mutex, PoisonError};

/// How long a result waits for its page.
const KEEP_MINUTES: i64 = 10;
/// The most results waiting at once (the oldest go first).
const MAX_WAITING: usize = 256;

/// The account a result is kept for: its tenant's schema_name and its staff id.
pub type Owner<'a> = (&'a str, i64);

#[derive(Debug)]
struct Waiting {
    id: String,
    tenant: String,
    owner: i64,
    made: DateTime<Utc>,
    name: &'static str,
    value: Value,
}

#[derive(Debug, Default)]
pub struct Flash {
    waiting: Mutex<Vec<Waiting>>,
}

impl Flash {
    /// Keeps `value` for `owner`; returns its id for the redirect.
    pub fn put(
        &self,
        (tenant, owner): Owner<'_>,
        now: DateTime<Utc>,
        name: &'static str,
        value: Value,
    ) -> Result<String> {
        let id = secrets::new_secret()?;
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.retain(|w| now - w.made < Duration::minutes(KEEP_MINUTES));
        if waiting.len() >= MAX_WAITING {
            waiting.remove(0);
        }
        waiting.push(Waiting {
            id: id.clone(),
            tenant: tenant.to_owned(),
            owner,
            made: now,
            name,
            value,
        });
        Ok(id)
    }

    /// The result `id` names, if `owner` made it and it is still waiting; it is then gone.
    pub fn take(
        &self,
        (tenant, owner): Owner<'_>,
        now: DateTime<Utc>,
        id: &str,
    ) -> Option<(&'static str, Value)> {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        waiting.retain(|w| now - w.made < Duration::minutes(KEEP_MINUTES));
        let i = waiting.iter().position(|w| {
            w.owner == owner && w.tenant == tenant && secrets::constant_time_eq(&w.id, id)
        })?;
        let w = waiting.remove(i);
        Some((w.name, w.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_is_shown_once_to_its_owner_while_fresh() {
        let f = Flash::default();
        let t = DateTime::parse_from_rfc3339("2026-06-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = f
            .put(("public", 1), t, "created", Value::from("s3cret"))
            .unwrap();
        assert!(f.take(("public", 2), t, &id).is_none(), "another account");
        assert!(
            f.take(("t_acme", 1), t, &id).is_none(),
            "the same staff id in another tenant"
        );
        assert_eq!(
            f.take(("public", 1), t, &id),
            Some(("created", Value::from("s3cret")))
        );
        assert!(f.take(("public", 1), t, &id).is_none(), "only once");
        let id = f
            .put(("public", 1), t, "created", Value::from("x"))
            .unwrap();
        assert!(
            f.take(("public", 1), t + Duration::minutes(KEEP_MINUTES), &id)
                .is_none()
        );
    }
}
