//! `licd backup` while a client keeps writing, `licd backup --verify`, and `licd restore`
//! into a new data dir that a server then serves, with every acknowledged write there.
#![allow(clippy::disallowed_methods)] // Instant::now: the real `licd backup` process runs beside writers timed in real time.

use crate::harness::*;
use crate::licensing::{Api, INSTALL};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A write the server acknowledged, and when.
#[derive(Debug, Clone)]
struct Acked {
    at: Instant,
    license_id: String,
    /// The lease `seq` of the last acknowledged heartbeat (0 if none yet).
    seq: i64,
}

fn run(cmd: &mut std::process::Command) -> std::process::Output {
    cmd.output().unwrap()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_backup_under_load_restores_every_acknowledged_write() {
    let s = TestServer::start();
    let token = s.admin_token();
    let jwks_before: Value = client()
        .get(s.url("/.well-known/jwks.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    // One message per acknowledged write, so the test waits for writes, not for time.
    let (wrote, writes) = std::sync::mpsc::channel::<()>();

    // A client that keeps issuing, activating and heartbeating.
    let writer = {
        let (acked, stop, base, token) = (acked.clone(), stop.clone(), s.base.clone(), token);
        let wrote = wrote.clone();
        std::thread::spawn(move || {
            let c = client();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let license: Value = c
                    .post(format!("{base}/api/v1/licenses"))
                    .bearer_auth(&token)
                    .json(&json!({"name": format!("load {n}"), "install_id": INSTALL,
                        "internal_users": 1, "expires_at": "2030-01-01T00:00:00Z"}))
                    .send()
                    .unwrap()
                    .json()
                    .unwrap();
                let id = license["id"].as_str().unwrap().to_owned();
                acked.lock().unwrap().push(Acked {
                    at: Instant::now(),
                    license_id: id.clone(),
                    seq: 0,
                });
                let _ = wrote.send(());
                let fp = format!("fp-{n}");
                let activated: Value = c
                    .post(format!("{base}/api/v1/licenses/{id}/activate"))
                    .json(
                        &json!({"license_key": license["license_key"], "fingerprint": fp,
                        "install_id": INSTALL}),
                    )
                    .send()
                    .unwrap()
                    .json()
                    .unwrap();
                let secret = activated["activation_secret"].as_str().unwrap().to_owned();
                let mut seq = activated["claims"]["seq"].as_i64().unwrap();
                for _ in 0..3 {
                    let lease: Value = c
                        .post(format!("{base}/api/v1/licenses/{id}/heartbeat"))
                        .bearer_auth(&secret)
                        .json(&json!({"fingerprint": fp, "seq": seq}))
                        .send()
                        .unwrap()
                        .json()
                        .unwrap();
                    seq = lease["claims"]["seq"].as_i64().unwrap();
                    acked.lock().unwrap().push(Acked {
                        at: Instant::now(),
                        license_id: id.clone(),
                        seq,
                    });
                    let _ = wrote.send(());
                }
            }
        })
    };
    let await_writes = |n: usize| {
        for _ in 0..n {
            writes
                .recv_timeout(Duration::from_secs(30))
                .expect("the writer stopped writing");
        }
    };
    await_writes(20);

    let backup_dir = tempfile::tempdir().unwrap();
    let out = backup_dir.path().join("licd-backup");
    let began = Instant::now();
    let backup = run(licd()
        .args(["backup", "--data-dir", s.data_dir().to_str().unwrap()])
        .arg("--out")
        .arg(&out));
    // The backup process has ended; let the writer show it is still acknowledged.
    while writes.try_recv().is_ok() {}
    await_writes(4);
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(backup.status.success(), "{}", text(&backup));
    assert!(text(&backup).contains("store it like a private key"));
    let acked = acked.lock().unwrap().clone();
    let before: Vec<&Acked> = acked.iter().filter(|a| a.at < began).collect();
    assert!(
        acked.len() > before.len(),
        "the client kept writing during the backup"
    );
    assert!(
        before.len() > 10,
        "{} writes before the backup",
        before.len()
    );

    // Private, with a manifest, and it verifies.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&out.join("keys/kek")), 0o600);
    assert_eq!(mode(&out.join("ca/ca.key")), 0o600);
    let verify = run(licd().args(["backup", "--verify"]).arg(&out));
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(text(&verify).contains("backup is intact"));

    // Restore into a new data dir; a live one is refused.
    let restored = tempfile::tempdir().unwrap();
    let target = restored.path().join("data");
    let r = run(licd()
        .args(["restore", "--data-dir", target.to_str().unwrap()])
        .arg(&out));
    assert!(r.status.success(), "{}", text(&r));
    let again = run(licd()
        .args(["restore", "--data-dir", target.to_str().unwrap()])
        .arg(&out));
    assert!(!again.status.success());
    assert!(
        text(&again).contains("live data directory"),
        "{}",
        text(&again)
    );
    let audit = run(licd().args(["audit", "verify", "--data-dir", target.to_str().unwrap()]));
    assert!(audit.status.success(), "{}", text(&audit));

    // A server on the restored data has every write acknowledged before the backup.
    let original = s.stop();
    let holder = tempfile::TempDir::new_in(restored.path()).unwrap();
    std::fs::remove_dir(holder.path()).unwrap();
    std::fs::rename(&target, holder.path()).unwrap();
    let s2 = TestServer::start_in(holder, |_| {});
    let api = Api::new(&s2);
    let mut last_seq = std::collections::HashMap::new();
    for a in &before {
        let e = last_seq.entry(a.license_id.clone()).or_insert(0);
        *e = (*e).max(a.seq);
    }
    for (id, seq) in &last_seq {
        let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
        let got = detail["activations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["last_seq"].as_i64().unwrap())
            .max()
            .unwrap_or(0);
        assert!(
            got >= *seq,
            "license {id}: lease seq {got} < acknowledged {seq}"
        );
    }
    // The signing keys came back with the KEK that seals them.
    let jwks_after: Value = client()
        .get(s2.url("/.well-known/jwks.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(jwks_after, jwks_before);
    let issued = api.issue(INSTALL, 30);
    assert!(issued["license_key"].as_str().unwrap().contains('.'));
    drop(original);
}

#[test]
fn links_in_the_data_dir_are_refused() {
    let s = TestServer::start();
    let dir = s.stop();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("files/public")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("files/public/elsewhere")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let b = run(licd()
        .args(["backup", "--data-dir", dir.path().to_str().unwrap()])
        .arg("--out")
        .arg(out.path().join("b")));
    assert!(!b.status.success());
    assert!(
        text(&b).contains("files/public/elsewhere") && text(&b).contains("symbolic link"),
        "{}",
        text(&b)
    );
}

#[test]
fn a_changed_backup_fails_verification_naming_the_file() {
    let s = TestServer::start();
    let dir = s.stop();
    let out = tempfile::tempdir().unwrap().keep().join("b");
    let b = run(licd()
        .args(["backup", "--data-dir", dir.path().to_str().unwrap()])
        .arg("--out")
        .arg(&out));
    assert!(b.status.success(), "{}", text(&b));
    // A second backup into the same place is refused.
    let again = run(licd()
        .args(["backup", "--data-dir", dir.path().to_str().unwrap()])
        .arg("--out")
        .arg(&out));
    assert!(!again.status.success());
    assert!(text(&again).contains("not empty"), "{}", text(&again));

    let kek = out.join("keys/kek");
    let mut bytes = std::fs::read(&kek).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&kek, bytes).unwrap();
    let v = run(licd().args(["backup", "--verify"]).arg(&out));
    assert!(!v.status.success());
    assert!(
        text(&v).contains("keys/kek") && text(&v).contains("checksum"),
        "{}",
        text(&v)
    );
    let target = tempfile::tempdir().unwrap();
    let r = run(licd()
        .args(["restore", "--data-dir", target.path().to_str().unwrap()])
        .arg(&out));
    assert!(!r.status.success(), "a changed backup is not restored");
    assert!(std::fs::read_dir(target.path()).unwrap().next().is_none());
    std::fs::remove_dir_all(out.parent().unwrap()).unwrap();
}
