//! The appliance side of [licd](https://github.com/licd): what a vendor embeds in a
//! product that licd licenses.
//!
//! - verify a license key offline against licd's JWKS;
//! - activate and heartbeat (feature `http`, on by default);
//! - keep the lease chain in a state file that is written atomically and carries a MAC
//!   keyed from the appliance's own key, so silent edits are evident;
//! - answer one [`status`] question with distinct states, noticing a clock that was
//!   rolled back;
//! - read and write the files that carry licensing across an air gap.
//!
//! The wire formats are in [`formats`]; licd builds and reads the same types.

pub mod formats;
