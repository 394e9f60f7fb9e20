//! The limits of the fields requests carry, in one place. Validation checks against
//! these constants, and the OpenAPI schemas of the request bodies are built from them
//! (`#[schema(schema_with = fields::...)]`), so the reference promises exactly what
//! licd accepts: generated clients and fuzzers send bodies that can pass.

use super::activation::DirectiveKind;
use super::license::{FLAGS, MAX_USERS};
use super::staff::MAX_PASSWORD_LENGTH;
use utoipa::openapi::schema::{
    Array, ArrayBuilder, KnownFormat, Object, ObjectBuilder, SchemaFormat, Type,
};

/// Install ID: 1 to this many of `A-Z a-z 0-9 . _ : -`.
pub const INSTALL_ID_MAX: usize = 128;
/// Hardware fingerprint: 1 to this many printable ASCII characters.
pub const FINGERPRINT_MAX: usize = 256;
/// An appliance's hostname, as it reports it (characters).
pub const HOSTNAME_MAX: usize = 253;
/// A license's name and organization (characters).
pub const LICENSE_TEXT_MAX: usize = 200;
/// One feature name: 1 to this many of `a-z 0-9 . _ -`.
pub const FEATURE_MAX: usize = 64;
/// Features per license.
pub const FEATURES_MAX: usize = 100;
/// A staff action's reason and a directive's message (characters).
pub const REASON_MAX: usize = 500;
/// An API token's or provisioning token's name (characters).
pub const TOKEN_NAME_MAX: usize = 100;
/// A staff account's display name (characters).
pub const DISPLAY_NAME_MAX: usize = 200;
/// An email address (bytes, after trimming and lower-casing).
pub const EMAIL_MAX: usize = 254;
/// How many appliances one provisioning token may provision.
pub const MAX_USES: i64 = 1_000_000;
/// How long a provisioned license runs, in days (100 years).
pub const DURATION_DAYS_MAX: u32 = 36_600;
/// The lowest `auth.min_password_length` the configuration accepts.
pub const PASSWORD_MIN_FLOOR: usize = 8;
/// What a staff member may queue for an appliance, the harmless one first (the
/// console's select starts on it). `install_key` is licd's own, queued by a renewal.
pub const DIRECTIVE_KINDS: &[&str] = &[
    DirectiveKind::Message.as_str(),
    DirectiveKind::Lock.as_str(),
    DirectiveKind::Unlock.as_str(),
];

fn text(min: usize, max: usize, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length((min > 0).then_some(min))
        .max_length(Some(max))
        .description(Some(description))
}

pub fn install_id() -> Object {
    text(
        1,
        INSTALL_ID_MAX,
        "The installation's Install ID: 1 to 128 of A-Z a-z 0-9 . _ : -",
    )
    .pattern(Some(format!("^[A-Za-z0-9._:-]{{1,{INSTALL_ID_MAX}}}$")))
    .examples(["5b9e3f0a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"])
    .build()
}

pub fn fingerprint() -> Object {
    text(
        1,
        FINGERPRINT_MAX,
        "The hardware fingerprint: 1 to 256 printable ASCII characters, no spaces",
    )
    .pattern(Some(format!("^[!-~]{{1,{FINGERPRINT_MAX}}}$")))
    .build()
}

pub fn hostname() -> Object {
    text(
        0,
        HOSTNAME_MAX,
        "The appliance's hostname, for people (at most 253 characters)",
    )
    .build()
}

pub fn license_name() -> Object {
    text(
        1,
        LICENSE_TEXT_MAX,
        "The license's name (1 to 200 characters)",
    )
    .build()
}

pub fn provisioned_license_name() -> Object {
    text(
        1,
        LICENSE_TEXT_MAX,
        "The license name (1 to 200 characters); default: the token's name and the hostname",
    )
    .build()
}

pub fn organization() -> Object {
    text(0, LICENSE_TEXT_MAX, "The customer (at most 200 characters)").build()
}

pub fn user_count() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(0))
        .maximum(Some(MAX_USERS))
        .description(Some(
            "Users of this kind the license grants (0 to 10000000); a license grants at \
             least one internal or external user",
        ))
        .build()
}

pub fn features() -> Array {
    let item = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(FEATURE_MAX))
        .pattern(Some(format!("^[a-z0-9._-]{{1,{FEATURE_MAX}}}$")));
    ArrayBuilder::new()
        .items(item)
        .max_items(Some(FEATURES_MAX))
        .description(Some(
            "Feature names (at most 100, each 1 to 64 of a-z 0-9 . _ -); duplicates count once",
        ))
        .build()
}

pub fn flags() -> Array {
    let item = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(FLAGS.iter().copied()));
    ArrayBuilder::new()
        .items(item)
        .description(Some("`trial`, `non_production`"))
        .build()
}

pub fn duration_days() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(1))
        .maximum(Some(DURATION_DAYS_MAX))
        .description(Some(
            "How long each license runs from its provisioning, in days (1 to 36600)",
        ))
        .build()
}

pub fn max_uses() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
        .maximum(Some(MAX_USES))
        .description(Some("How many appliances may redeem it (1 to 1000000)"))
        .build()
}

pub fn token_name() -> Object {
    text(
        1,
        TOKEN_NAME_MAX,
        "A name to tell it apart (1 to 100 characters)",
    )
    .build()
}

pub fn provisioning_token_name() -> Object {
    text(
        1,
        TOKEN_NAME_MAX,
        "Names the token, and the licenses made from it (with the appliance's hostname); \
         1 to 100 characters",
    )
    .build()
}

pub fn revoke_reason() -> Object {
    text(1, REASON_MAX, "Why (1 to 500 characters)").build()
}

pub fn suspend_reason() -> Object {
    text(0, REASON_MAX, "Why (optional, at most 500 characters)").build()
}

pub fn directive_kind() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(DIRECTIVE_KINDS.iter().copied()))
        .examples(["message"])
        .build()
}

pub fn directive_message() -> Object {
    text(
        0,
        REASON_MAX,
        "Shown on the appliance; required for `message` (at most 500 characters)",
    )
    .build()
}

pub fn initial_password() -> Object {
    text(
        PASSWORD_MIN_FLOOR,
        MAX_PASSWORD_LENGTH,
        "Optional; without it licd makes a one-time password (in the reply, once). At least \
         `auth.min_password_length` characters (default 12, never under 8), at most 1024; \
         not the email address",
    )
    .build()
}

pub fn email() -> Object {
    text(
        1,
        EMAIL_MAX,
        "The sign-in email address (at most 254 characters)",
    )
    .build()
}

pub fn display_name() -> Object {
    text(
        0,
        DISPLAY_NAME_MAX,
        "Shown in the console (at most 200 characters)",
    )
    .build()
}

pub fn new_password() -> Object {
    text(
        PASSWORD_MIN_FLOOR,
        MAX_PASSWORD_LENGTH,
        "At least `auth.min_password_length` characters (default 12, never under 8), at \
         most 1024; not the email address",
    )
    .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::license::{check_fingerprint, check_install_id};
    use crate::domain::staff::{check_display_name, check_token_name, normalize_email};

    /// The checks that live beside their own rules refuse exactly past these limits.
    #[test]
    fn the_checks_stop_at_the_documented_limits() {
        let x = |n: usize| "x".repeat(n);
        assert!(check_install_id(&x(INSTALL_ID_MAX)).is_ok());
        assert!(check_install_id(&x(INSTALL_ID_MAX + 1)).is_err());
        assert!(check_fingerprint(&x(FINGERPRINT_MAX)).is_ok());
        assert!(check_fingerprint(&x(FINGERPRINT_MAX + 1)).is_err());
        assert!(check_display_name(&x(DISPLAY_NAME_MAX)).is_ok());
        assert!(check_display_name(&x(DISPLAY_NAME_MAX + 1)).is_err());
        assert!(check_token_name(&x(TOKEN_NAME_MAX)).is_ok());
        assert!(check_token_name(&x(TOKEN_NAME_MAX + 1)).is_err());
        assert!(check_token_name("").is_err());
        let email = |n: usize| format!("{}@example.com", x(n - "@example.com".len()));
        assert!(normalize_email(&email(EMAIL_MAX)).is_ok());
        assert!(normalize_email(&email(EMAIL_MAX + 1)).is_err());
    }
}
