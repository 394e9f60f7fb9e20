//! Managing staff accounts: create, change role or name, disable/enable, reset password.

use super::tenant::Tenant;
use super::{Actor, Result, ServiceError, StaffIdentity, audit, refuse, secrets};
use crate::domain::permissions::{Permission, Role};
use crate::domain::staff::{self, StaffKind};
use crate::error::ErrorCode;
use crate::store::staff::{self as store, NewStaff, StaffRow};
use crate::store::{WriteTx, sessions, tokens};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

/// A staff account as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, ToSchema)]
pub struct StaffView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// `person` (signs in) or `service` (API tokens only; not a licensed user).
    pub kind: StaffKind,
    pub disabled: bool,
    pub must_change_password: bool,
    pub permissions: Vec<Permission>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&StaffRow> for StaffView {
    fn from(u: &StaffRow) -> Self {
        StaffView {
            id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            role: u.role,
            kind: u.kind,
            disabled: u.disabled_at.is_some(),
            must_change_password: u.must_change_password,
            permissions: u.role.permissions(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

impl From<&StaffIdentity> for StaffView {
    /// The signed-in account (always enabled: disabled accounts are never signed in).
    fn from(u: &StaffIdentity) -> Self {
        StaffView {
            id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            role: u.role,
            kind: u.kind,
            disabled: false,
            must_change_password: u.must_change_password,
            permissions: u.role.permissions(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

pub fn list(tenant: &Tenant) -> Result<Vec<StaffView>> {
    Ok(tenant
        .db
        .read(store::list)?
        .iter()
        .map(StaffView::from)
        .collect())
}

pub fn get(tenant: &Tenant, id: i64) -> Result<StaffView> {
    tenant
        .db
        .read(|tx| store::find_by_id(tx, id))?
        .as_ref()
        .map(StaffView::from)
        .ok_or_else(|| not_found(id))
}

/// The id of the account with this email (command line).
pub fn id_by_email(tenant: &Tenant, email: &str) -> Result<i64> {
    let email = staff::normalize_email(email)?;
    tenant
        .db
        .read(|tx| store::find_by_email(tx, &email))?
        .map(|u| u.id)
        .ok_or_else(|| {
            refuse(
                ErrorCode::NotFound,
                format!("no staff account has the email {email}"),
            )
        })
}

/// The refusal for a password action on a service account.
pub fn no_password(email: &str) -> ServiceError {
    refuse(
        ErrorCode::ServiceAccountNoPassword,
        format!(
            "{email} is a service account: it has no password and never signs in; it calls the API with tokens made for it (Staff users > Tokens)"
        ),
    )
}

fn not_found(id: i64) -> ServiceError {
    refuse(
        ErrorCode::NotFound,
        format!("staff user {id} does not exist"),
    )
}

#[derive(Debug, Clone)]
pub struct NewStaffInput {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// `None`: licd generates a one-time password the user must change at first login.
    pub password: Option<String>,
}

/// A new service account: it calls the API with tokens staff make for it
/// (`create_token`), has no password and never signs in; its role is its tokens'.
#[derive(Debug, Clone)]
pub struct NewServiceAccount {
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = CreatedStaff)]
pub struct Created {
    pub user: StaffView,
    /// Shown once when licd generated the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_password: Option<String>,
}

/// Creates a person's account.
pub fn create(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    input: NewStaffInput,
    min_password_length: usize,
) -> Result<Created> {
    let email = staff::normalize_email(&input.email)?;
    let display_name = staff::check_display_name(&input.display_name)?;
    let (password, generated) = match input.password {
        Some(p) => {
            staff::check_password(&p, &email, min_password_length)?;
            (p, false)
        }
        None => (secrets::one_time_password()?, true),
    };
    let hash = secrets::hash_password(&password)?;
    let new = NewStaff {
        email: &email,
        display_name: &display_name,
        role: input.role,
        password_hash: &hash,
        must_change_password: generated,
        kind: StaffKind::Person,
    };
    let row = insert(tenant, now, actor, &new)?;
    Ok(Created {
        user: StaffView::from(&row),
        one_time_password: generated.then_some(password),
    })
}

/// Creates a service account (no password: nothing verifies against its empty hash).
pub fn create_service(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    input: NewServiceAccount,
) -> Result<Created> {
    let email = staff::normalize_email(&input.email)?;
    let display_name = staff::check_display_name(&input.display_name)?;
    let new = NewStaff {
        email: &email,
        display_name: &display_name,
        role: input.role,
        password_hash: "",
        must_change_password: false,
        kind: StaffKind::Service,
    };
    let row = insert(tenant, now, actor, &new)?;
    Ok(Created {
        user: StaffView::from(&row),
        one_time_password: None,
    })
}

/// Writes a new account with its audit entry, then re-assesses the tenant's own license
/// (a person is an internal user).
fn insert(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    new: &NewStaff<'_>,
) -> Result<StaffRow> {
    let row = tenant.db.write(|tx| {
        let email = new.email;
        if store::find_by_email(tx, email)?.is_some() {
            return Err(refuse(
                ErrorCode::EmailTaken,
                format!("a staff account with the email {email} exists"),
            ));
        }
        let id = store::insert(tx, new, now)?;
        audit::record(
            tx,
            now,
            actor,
            "user.create",
            &format!("user:{id}"),
            json!({"email": email, "role": new.role, "kind": new.kind,
                   "one_time_password": new.must_change_password}),
        )?;
        store::find_by_id(tx, id)?.ok_or_else(|| not_found(id))
    })?;
    super::enterprise::refresh(tenant, now, actor)?;
    Ok(row)
}

/// A change to an account; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct StaffPatch {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub display_name: Option<String>,
}

/// Refuses a change that would leave no enabled super_admin (a person: service
/// accounts administer nothing from the console).
fn guard_last_super_admin(tx: &WriteTx<'_>, user: &StaffRow) -> Result<()> {
    if user.role == Role::SuperAdmin
        && user.kind == StaffKind::Person
        && user.disabled_at.is_none()
        && store::count_enabled_super_admins(tx)? <= 1
    {
        return Err(refuse(
            ErrorCode::LastSuperAdmin,
            "this is the last enabled super_admin; make another one first",
        ));
    }
    Ok(())
}

pub fn update(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
    patch: StaffPatch,
) -> Result<StaffView> {
    let display_name = patch
        .display_name
        .as_deref()
        .map(staff::check_display_name)
        .transpose()?;
    let row = tenant.db.write(|tx| {
        let user = store::find_by_id(tx, id)?.ok_or_else(|| not_found(id))?;
        let target = format!("user:{id}");
        if let Some(role) = patch.role.filter(|r| *r != user.role) {
            guard_last_super_admin(tx, &user)?;
            store::set_role(tx, id, role, now)?;
            audit::record(
                tx,
                now,
                actor,
                "user.role_change",
                &target,
                json!({"from": user.role, "to": role}),
            )?;
        }
        match patch.disabled {
            Some(true) if user.disabled_at.is_none() => {
                guard_last_super_admin(tx, &user)?;
                store::set_disabled(tx, id, true, now)?;
                let ended = sessions::delete_for_user(tx, id, None)?;
                // Revoked for good: enabling the account again does not revive them.
                let revoked = tokens::revoke_all_for_user(tx, id, now)?;
                audit::record(
                    tx,
                    now,
                    actor,
                    "user.disable",
                    &target,
                    json!({"sessions_ended": ended, "tokens_revoked": revoked}),
                )?;
            }
            Some(false) if user.disabled_at.is_some() => {
                store::set_disabled(tx, id, false, now)?;
                audit::record(tx, now, actor, "user.enable", &target, json!({}))?;
            }
            _ => {}
        }
        if let Some(name) = display_name.as_deref().filter(|n| *n != user.display_name) {
            store::set_display_name(tx, id, name, now)?;
            audit::record(
                tx,
                now,
                actor,
                "user.rename",
                &target,
                json!({"display_name": name}),
            )?;
        }
        store::find_by_id(tx, id)?.ok_or_else(|| not_found(id))
    })?;
    super::enterprise::refresh(tenant, now, actor)?;
    Ok(StaffView::from(&row))
}

/// Replaces the password with a one-time password (returned once) that must be changed
/// at the next login; every session of the account ends and every API token of it is
/// revoked (whoever knew the old password may have made one).
pub fn reset_password(
    tenant: &Tenant,
    now: DateTime<Utc>,
    actor: &Actor,
    id: i64,
) -> Result<String> {
    let user = tenant
        .db
        .read(|tx| store::find_by_id(tx, id))?
        .ok_or_else(|| not_found(id))?;
    if !user.kind.signs_in() {
        return Err(no_password(&user.email));
    }
    let password = secrets::one_time_password()?;
    let hash = secrets::hash_password(&password)?;
    tenant.db.write(|tx| {
        store::find_by_id(tx, id)?.ok_or_else(|| not_found(id))?;
        store::set_password(tx, id, &hash, true, now)?;
        let ended = sessions::delete_for_user(tx, id, None)?;
        let revoked = tokens::revoke_all_for_user(tx, id, now)?;
        audit::record(
            tx,
            now,
            actor,
            "user.password_reset",
            &format!("user:{id}"),
            json!({"sessions_ended": ended, "tokens_revoked": revoked}),
        )
    })?;
    Ok(password)
}
