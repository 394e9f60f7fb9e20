//! An appliance that embeds licd-client instead of running `licd agent`: one
//! activation, then a heartbeat loop that keeps the lease store and asks `status`.
//!
//! ```text
//! cargo run -p licd-client --example appliance -- https://licd.example:8443 ca.pem license.key /var/lib/acme
//! ```

use chrono::{DateTime, Utc};
use licd_client::client::{ActivateRequest, Client};
use licd_client::clock::MonotonicSample;
use licd_client::fingerprint::Fingerprint;
use licd_client::keys::{ApplianceKey, public_keys};
use licd_client::status::{Policy, status};
use licd_client::store::{Activation, LeaseStore, Mode};
use licd_client::verify::verify_license;
use std::path::Path;
use std::time::{Duration, Instant};

/// The one place the clock is read.
#[allow(clippy::disallowed_methods)]
fn clocks() -> (DateTime<Utc>, Instant) {
    (Utc::now(), Instant::now())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, ca_file, key_file, state_dir] = args.as_slice() else {
        return Err("usage: appliance SERVER_URL CA_FILE LICENSE_KEY_FILE STATE_DIR".into());
    };
    let (started_wall, started) = clocks();
    let state_dir = Path::new(state_dir);
    let key = ApplianceKey::load_or_generate(&state_dir.join("appliance-key.pem"))?;
    let mut store = LeaseStore::open(&state_dir.join("lease-store.json"), &key)?;
    let fingerprint = Fingerprint::from_machine_id("acme-appliance")?;
    let licd = Client::new(
        url,
        Some(&std::fs::read_to_string(ca_file)?),
        Duration::from_secs(30),
    )?;
    let keys = public_keys(&licd.jwks()?);
    let license_key = std::fs::read_to_string(key_file)?;
    let license = verify_license(&license_key, &keys, None, started_wall)?;
    let install_id = license.install_id().unwrap_or_default().to_owned();

    if store.state().activation_secret.is_none() {
        let activated = licd.activate(
            &license.jti,
            &ActivateRequest {
                license_key: license_key.clone(),
                fingerprint: fingerprint.to_string(),
                install_id: install_id.clone(),
                hostname: None,
                csr: None,
            },
        )?;
        store.begin_activation(
            Activation {
                license_id: license.jti.clone(),
                install_id,
                fingerprint: fingerprint.to_string(),
                activation_secret: Some(activated.activation_secret),
                mode: Mode::Online,
            },
            started_wall,
        );
        store.accept_lease(&activated.lease.lease, &keys, started_wall)?;
        store.install_license(&license_key, &keys, started_wall)?;
        store.record_contact(started_wall);
        store.save(started_wall)?;
    }

    let policy = Policy::default();
    loop {
        let (now, _) = clocks();
        let secret = store.state().activation_secret.clone().unwrap_or_default();
        let seq = store.state().chain_head().seq;
        match licd.heartbeat(&license.jti, &secret, fingerprint.as_str(), seq, None) {
            Ok(reply) => match store.accept_lease(&reply.lease, &keys, now) {
                Ok(_) => store.record_contact(now),
                Err(e) => eprintln!("lease refused: {e}"),
            },
            // Out of touch: the status moves to grace on its own.
            Err(e) => eprintln!("heartbeat: {e}"),
        }
        let sample = MonotonicSample {
            wall_at_start: started_wall,
            mono_elapsed: started.elapsed(),
        };
        let rollback = policy.clock.check(now, store.state(), Some(sample));
        if let Some(r) = &rollback {
            store.record_rollback(r, now);
        }
        store.save(now)?;
        let answer = status(store.state(), now, &policy, rollback);
        println!("{}", serde_json::to_string(&answer)?);
        std::thread::sleep(Duration::from_secs(3600));
    }
}
