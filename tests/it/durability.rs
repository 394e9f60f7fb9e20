//! An acknowledged heartbeat survives `kill -9`: the real `licd serve` process under a
//! heartbeat load from several appliances is killed outright, started again on the same
//! data directory, and every appliance's last acknowledged lease `seq` is still known
//! (a lost one would be refused as `lease_seq_ahead`, and the chain would go back).

use crate::harness::*;
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const APPLIANCES: usize = 24;

fn beat(base: &str, (id, secret, fp): &(String, String, String), seq: i64) -> Option<Value> {
    let r = client()
        .post(format!("{base}/api/v1/licenses/{id}/heartbeat"))
        .bearer_auth(secret)
        .json(&json!({"fingerprint": fp, "seq": seq, "internal_users": 3, "external_users": 1}))
        .timeout(Duration::from_secs(5))
        .send()
        .ok()?;
    (r.status() == 200).then(|| r.json().ok()).flatten()
}

#[test]
fn acknowledged_heartbeats_survive_kill_9_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let appliances = seed_appliances(&data, APPLIANCES);
    let (mut server, base) = serve_process(&data, "warn", Stdio::null());

    // Every appliance heartbeats as fast as it is answered; each records the seq of
    // the last lease it was given (what it would hold on disk).
    let acked = Arc::new(Mutex::new(vec![0i64; APPLIANCES]));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..APPLIANCES)
        .map(|k| {
            let (acked, stop, base, me) = (
                acked.clone(),
                stop.clone(),
                base.clone(),
                appliances[k].clone(),
            );
            std::thread::spawn(move || {
                let mut held = 0;
                while !stop.load(Ordering::Relaxed) {
                    match beat(&base, &me, held) {
                        Some(lease) => {
                            held = lease["claims"]["seq"].as_i64().unwrap();
                            acked.lock().unwrap()[k] = held;
                        }
                        None => break,
                    }
                }
            })
        })
        .collect();
    // Killed in the middle of the load, without warning.
    while acked.lock().unwrap().iter().sum::<i64>() < 40 * APPLIANCES as i64 {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill().unwrap();
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.iter().all(|&s| s > 1),
        "every appliance was heard: {acked:?}"
    );

    let (mut server, base) = serve_process(&data, "warn", Stdio::null());
    for (k, a) in appliances.iter().enumerate() {
        // Presenting the last acknowledged lease: licd must know it was issued.
        let r = client()
            .post(format!("{base}/api/v1/licenses/{}/heartbeat", a.0))
            .bearer_auth(&a.1)
            .json(&json!({"fingerprint": a.2, "seq": acked[k]}))
            .send()
            .unwrap();
        let status = r.status();
        let body: Value = r.json().unwrap();
        assert_eq!(status, 200, "appliance {k} acked seq {}: {body}", acked[k]);
        assert!(
            body["claims"]["seq"].as_i64().unwrap() > acked[k],
            "appliance {k}: the chain went back: {body}"
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
}
