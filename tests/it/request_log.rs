//! The request log of the real `licd serve`: at its default level (`info`) one line per
//! request, except answered heartbeats, which are at `debug` (a fleet's heartbeats
//! would outrun journald's default rate limit, which then drops licd's other lines).

use crate::harness::*;
use serde_json::json;
use std::process::Stdio;

/// The log lines of a server at `level` that answered three heartbeats, refused one
/// with a wrong secret, and answered `/healthz`.
fn log_of_a_few_requests(level: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (id, secret, fingerprint) = seed_appliances(&data, 1).remove(0);
    let log = dir.path().join("licd.log");
    let file = std::fs::File::create(&log).unwrap();
    let (mut server, base) = serve_process(&data, level, Stdio::from(file));
    let c = client();
    let beat = |secret: &str, seq: i64| {
        c.post(format!("{base}/api/v1/licenses/{id}/heartbeat"))
            .bearer_auth(secret)
            .json(&json!({"fingerprint": fingerprint, "seq": seq}))
            .send()
            .unwrap()
    };
    let mut seq = 0;
    for _ in 0..3 {
        let r = beat(&secret, seq);
        assert_eq!(r.status(), 200);
        seq = r.json::<serde_json::Value>().unwrap()["claims"]["seq"]
            .as_i64()
            .unwrap();
    }
    assert_eq!(beat("not-the-secret", seq).status().as_u16() / 100, 4);
    assert_eq!(
        c.get(format!("{base}/healthz")).send().unwrap().status(),
        200
    );
    server.kill().unwrap();
    server.wait().unwrap();
    std::fs::read_to_string(&log).unwrap()
}

fn request_lines<'a>(log: &'a str, path: &str) -> Vec<&'a str> {
    log.lines()
        .filter(|l| l.contains(" request ") && l.contains(path))
        .collect()
}

#[test]
fn answered_heartbeats_are_logged_at_debug_and_refused_ones_at_info() {
    let log = log_of_a_few_requests("info");
    let beats = request_lines(&log, "/heartbeat");
    assert_eq!(
        beats.len(),
        1,
        "only the refused heartbeat, at info:\n{log}"
    );
    assert!(
        beats[0].contains("INFO") && beats[0].contains("status=4"),
        "{log}"
    );
    assert_eq!(request_lines(&log, "path=/healthz").len(), 1, "{log}");

    let log = log_of_a_few_requests("debug");
    let beats = request_lines(&log, "/heartbeat");
    assert_eq!(beats.len(), 4, "every heartbeat at debug:\n{log}");
    assert_eq!(
        beats.iter().filter(|l| l.contains("status=200")).count(),
        3,
        "{log}"
    );
}
