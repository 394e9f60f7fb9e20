//! Pure rules: no I/O, no actix, no rusqlite. Time arrives as a parameter.

pub mod audit;
pub mod error;
pub mod fields;
pub mod lease;
pub mod license;
pub mod lifecycle;
pub mod permissions;
pub mod settings;
pub mod staff;
pub mod throttle;
pub mod violation;

pub use error::DomainError;
