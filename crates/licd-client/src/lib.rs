//! The appliance side of licd: what a vendor embeds in a product that licd licenses.
//!
//! - verify a license key offline against licd's JWKS ([`verify`]);
//! - keep the appliance's own key ([`keys::ApplianceKey`]);
//! - compute the box's fingerprint ([`fingerprint`]);
//! - activate and heartbeat (`client`, feature `http`, on by default);
//! - keep the lease chain in a state file that is written atomically and carries a MAC
//!   keyed from the appliance's own key, so silent edits are evident ([`store`]);
//! - answer one `status(now)` question with distinct states, noticing a clock that was
//!   rolled back (`status`, `clock`);
//! - read and write the files that carry licensing across an air gap (`offline`).
//!
//! The wire formats are in [`formats`]; licd builds and reads the same types. Nothing
//! here reads the clock: every function that needs the time takes `now`.

#[cfg(feature = "http")]
pub mod client;
pub mod clock;
pub mod fingerprint;
pub mod formats;
pub mod jose;
pub mod keys;
pub mod offline;
pub mod status;
pub mod store;
pub mod verify;

mod atomic_file;
