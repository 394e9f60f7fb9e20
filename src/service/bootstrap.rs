//! The first super_admin of a tenant.

use super::tenant::Tenant;
use super::{Actor, Result, audit, secrets};
use crate::domain::permissions::Role;
use crate::domain::staff;
use crate::store::staff::{self as store, NewStaff};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Where the first account's email and password come from.
#[derive(Debug, Clone, Default)]
pub struct AdminSeed {
    pub email: Option<String>,
    /// A chosen password; `None` generates a one-time password that must be changed.
    pub password: Option<String>,
}

pub const DEFAULT_ADMIN_EMAIL: &str = "admin@localhost";

/// What bootstrapping created, for the console.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub email: String,
    /// Set when licd generated the password; printed once, never stored in clear.
    pub one_time_password: Option<String>,
}

/// Creates the first super_admin if the tenant has no staff yet; `None` if it has.
pub fn ensure_first_admin(
    tenant: &Tenant,
    now: DateTime<Utc>,
    seed: &AdminSeed,
    min_password_length: usize,
) -> Result<Option<Bootstrapped>> {
    let email = staff::normalize_email(seed.email.as_deref().unwrap_or(DEFAULT_ADMIN_EMAIL))?;
    let (password, generated) = match &seed.password {
        Some(p) => {
            staff::check_password(p, &email, min_password_length)?;
            (p.clone(), false)
        }
        None => (secrets::one_time_password()?, true),
    };
    // Hash before taking the write lock: argon2 is slow on purpose.
    let hash = secrets::hash_password(&password)?;
    tenant.db.write(|tx| {
        if store::count(tx)? > 0 {
            return Ok(None);
        }
        let id = store::insert(
            tx,
            &NewStaff {
                email: &email,
                display_name: "Administrator",
                role: Role::SuperAdmin,
                password_hash: &hash,
                must_change_password: generated,
                kind: crate::domain::staff::StaffKind::Person,
            },
            now,
        )?;
        audit::record(
            tx,
            now,
            &Actor::System,
            "user.create",
            &format!("user:{id}"),
            json!({"email": email, "role": "super_admin", "bootstrap": true, "one_time_password": generated}),
        )?;
        Ok(Some(Bootstrapped {
            email: email.clone(),
            one_time_password: generated.then(|| password.clone()),
        }))
    })
}
