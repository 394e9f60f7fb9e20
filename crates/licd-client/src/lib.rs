//! The appliance side of licd: what a vendor embeds in a product that licd licenses
//! (or what `licd agent` runs for it).
//!
//! | module | what |
//! |---|---|
//! | [`verify`] | verify a license key (and a lease) offline against licd's JWKS |
//! | [`keys`] | licd's public keys; the appliance's own key ([`keys::ApplianceKey`]) |
//! | [`fingerprint`] | the box's fingerprint: an HMAC of the machine id, or explicit |
//! | `client` | activate and heartbeat over HTTPS (feature `http`, on by default) |
//! | [`store`] | the lease chain and everything else to remember, in a MAC-protected file written atomically |
//! | [`clock`] | notice a clock set back (three signals, a documented tolerance) |
//! | [`status`] | one answer: `valid`, `grace`, `locked`, `expired`, `revoked`, `not_activated`, `clock_rollback` |
//! | [`offline`] | the files that carry licensing across an air gap |
//! | [`formats`] | the wire formats, shared with licd |
//! | [`jose`] | compact JWS, ES256 only |
//!
//! Nothing here reads the clock: every function that needs the time takes `now`, so the
//! application reads it in one place (and tests choose it). Nothing panics on bad input
//! or a failing network: every failure is an error value whose message names the
//! problem, and whose `kind()` is a stable short name.
//!
//! # Online: activate, heartbeat, ask
//!
//! ```no_run
//! # #[cfg(feature = "http")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use licd_client::{client::{ActivateRequest, Client}, fingerprint::Fingerprint};
//! use licd_client::keys::{ApplianceKey, public_keys};
//! use licd_client::status::{status, Policy};
//! use licd_client::store::{Activation, LeaseStore, Mode};
//! use std::{path::Path, time::Duration};
//!
//! # let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
//! let key = ApplianceKey::load_or_generate(Path::new("/var/lib/acme/appliance-key.pem"))?;
//! let mut store = LeaseStore::open(Path::new("/var/lib/acme/lease-store.json"), &key)?;
//! let fingerprint = Fingerprint::from_machine_id("acme-appliance")?;
//! let ca = std::fs::read_to_string("/etc/acme/licd-ca.pem")?;
//! let licd = Client::new("https://licd.example:8443", Some(&ca), Duration::from_secs(30))?;
//! let keys = public_keys(&licd.jwks()?);
//! let license_key = std::fs::read_to_string("/etc/acme/license.key")?;
//! let license = licd_client::verify::verify_license(&license_key, &keys, None, now)?;
//! let install_id = license.install_id().unwrap_or_default().to_owned();
//!
//! let activated = licd.activate(&license.jti, &ActivateRequest {
//!     license_key: license_key.clone(),
//!     fingerprint: fingerprint.to_string(),
//!     install_id: install_id.clone(),
//!     hostname: None,
//!     csr: None,
//! })?;
//! store.begin_activation(Activation {
//!     license_id: license.jti.clone(),
//!     install_id,
//!     fingerprint: fingerprint.to_string(),
//!     activation_secret: Some(activated.activation_secret.clone()),
//!     mode: Mode::Online,
//! }, now);
//! store.accept_lease(&activated.lease.lease, &keys, now)?; // verified, chained
//! store.install_license(&license_key, &keys, now)?;
//! store.record_contact(now);
//! store.save(now)?;
//!
//! // Later, every heartbeat interval:
//! let seq = store.state().chain_head().seq;
//! match licd.heartbeat(&license.jti, &activated.activation_secret, fingerprint.as_str(), seq, None) {
//!     Ok(reply) => { store.accept_lease(&reply.lease, &keys, now)?; store.record_contact(now); }
//!     Err(e) if e.is_out_of_touch() => { /* grace: the status counts down on its own */ }
//!     Err(e) => eprintln!("licd refused: {e}"),
//! }
//! store.save(now)?;
//! let policy = Policy::default();
//! let rollback = policy.clock.check(now, store.state(), None);
//! let answer = status(store.state(), now, &policy, rollback);
//! if !answer.state.may_run() {
//!     eprintln!("not licensed: {}", answer.state.name());
//! }
//! # Ok(()) }
//! # #[cfg(not(feature = "http"))]
//! # fn main() {}
//! ```
//!
//! The `appliance` example in the repository is the same as a whole program, with the
//! monotonic clock sample; the `verify_key` example verifies a key from the command line.
//!
//! # Lease chain rules
//!
//! [`store::LeaseStore::accept_lease`] accepts a lease only if it verifies (typ, ES256,
//! this Install ID and fingerprint, the activation's license), is signed no earlier than
//! the lease held, and extends the chain: a higher seq, and when it is seq + 1, `prev` =
//! the held lease's [`jose::chain_hash`]. licd chains each lease from the last one it
//! issued, so a heartbeat answer lost on the way (or a renewal file never carried)
//! leaves a gap, which is accepted: the leases in between were licd's, and a replayed
//! or older lease is still refused by its seq and `iat`. A new activation's first lease
//! (seq 1, `prev` `""`) starts a new chain.
//! `lock`, `unlock` and `message` directives are applied by the store, once each (by
//! id); `install_key` is the caller's: verify the key, keep it, then
//! [`store::LeaseStore::install_license`].
//!
//! # What the tamper evidence promises
//!
//! The lease store's MAC is keyed from the appliance key, which lives on the same box.
//! Editing the state file with a text editor, copying it from another box or restoring
//! an old one is detected ([`store::StoreError::Tampered`], or a chain/clock signal);
//! someone who extracts the key can forge a file. Keys on customer hardware can be
//! extracted: this makes tampering evident, not impossible. The signatures of licd's
//! artefacts (license keys, leases, bundles) cannot be forged without licd's key.
//!
//! # Air gap
//!
//! See [`offline`]: `offline_request` -> (staff, licd) -> `import`; renewal and
//! revocation bundles and usage-report acknowledgements come back through `import`
//! too; `release` writes the proof that frees the license; `usage_report` writes the
//! chained true-up report and a copy for people; `read_file` and `write_file` carry
//! them to and from disk. Each of these saves the store itself; an import is all or
//! nothing.
//!
//! # Errors
//!
//! Every error type has a `kind()` with a stable short name ([`verify::VerifyError`],
//! [`store::StoreError`], [`offline::OfflineError`], `client::ClientError`), and a
//! message for people. `ClientError::is_out_of_touch` tells "licd could not be reached
//! or answered nonsense" (stay in grace, retry) from "licd refused" (its problem
//! `code`).

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
