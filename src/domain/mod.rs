//! Pure rules: no I/O, no actix, no rusqlite. Time arrives as a parameter.

pub mod activation;
pub mod audit;
pub mod billing_cycle;
pub mod customer;
pub mod dns_name;
pub mod email;
pub mod error;
pub mod fields;
pub mod forecast;
pub mod free_text;
pub mod invoice;
pub mod lease;
pub mod license;
pub mod license_notices;
pub mod lifecycle;
pub mod money;
pub mod organization;
pub mod permissions;
pub mod pricing;
pub mod proration;
pub mod revenue;
pub mod schema_name;
pub mod settings;
pub mod signing_key;
pub mod staff;
pub mod tenant_state;
pub mod throttle;
pub mod timestamp;
pub mod usage_history;
pub mod violation;
pub mod violation_outlook;

pub use error::DomainError;
