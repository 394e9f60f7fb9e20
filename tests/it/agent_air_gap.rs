#![allow(clippy::disallowed_methods)] // the agent reads the real clock; so do these checks.
//! The air-gapped round trip with files and no network between the appliance and licd:
//! real `licd agent` processes with no `server_url`, the files they write carried to a
//! real licd by the test (as staff would, through the API), and licd's answers carried
//! back. Replayed, altered and foreign responses are refused; a revocation bundle locks
//! the box and an older bundle cannot undo it; offline deactivation frees the license;
//! true-up reports are ingested once each, a gap is flagged, and the installation's
//! stage is assessed from the reported usage.

use crate::agent::{Appliance, real_time_server};
use crate::harness::*;
use crate::licensing::{Api, INSTALL, activate};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::path::Path;

/// A box that never reaches licd: the agent runs without `server_url`, with licd's
/// public keys shipped to it as a file.
fn offline_box(s: &TestServer, api: &Api, license_key: &str, extra: &str) -> Appliance {
    let mut a = Appliance::new(license_key);
    let jwks = api.ok(api.get("/.well-known/jwks.json"));
    std::fs::write(a.path("jwks.json"), jwks.to_string()).unwrap();
    let _ = s;
    a.configure_offline(&format!(
        "jwks_file = \"{}\"\n{extra}",
        a.path("jwks.json").display()
    ));
    a.start();
    a.wait_state("not_activated");
    a
}

/// The round trip that activates an offline box: its request carried to licd, the
/// response carried back and imported.
fn activate_by_files(api: &Api, a: &mut Appliance, license_id: &str) {
    let req = a.path("req.json");
    let out = a.cli(&["offline-request", "--out", req.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let resp: Value = api.ok(upload(
        api,
        &format!("/api/v1/licenses/{license_id}/offline-activations"),
        &req,
    ));
    save(&a.path("resp.json"), &resp);
    let out = a.cli(&["offline-import", a.path("resp.json").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    a.wait_state("valid");
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Carries a file to licd: POSTs it to `path` as staff would, returns the answer file
/// (or the refusal) as the HTTP response.
fn upload(api: &Api, path: &str, file: &Path) -> reqwest::blocking::Response {
    api.post(path, read_json(file))
}

fn save(file: &Path, v: &Value) {
    std::fs::write(file, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

/// The `typ` of each token of a transfer file.
fn typs(file: &Value) -> Vec<String> {
    file["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let header = t.as_str().unwrap().split('.').next().unwrap();
            let h: Value = serde_json::from_slice(
                &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
                    .unwrap(),
            )
            .unwrap();
            h["typ"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// A transfer file with one character of its first token's payload changed.
fn altered(file: &Value) -> Value {
    let mut v = file.clone();
    let token = v["tokens"][0].as_str().unwrap().to_owned();
    let (head, rest) = token.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    v["tokens"][0] = json!(format!("{head}.{}.{sig}", flip_char(payload)));
    v
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn offline_activation_round_trip_refuses_replayed_altered_and_foreign_responses() {
    let s = real_time_server();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    let key = license["license_key"].as_str().unwrap();
    let mut a = offline_box(&s, &api, key, "");
    // Box B holds another license of the same installation.
    let license_b = api.issue(INSTALL, 365);
    let id_b = license_b["id"].as_str().unwrap();
    let b = offline_box(&s, &api, license_b["license_key"].as_str().unwrap(), "");

    // The box writes its request; the file is one token of its own kind.
    let req = a.path("req.json");
    let out = a.cli(&["offline-request", "--out", req.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(typs(&read_json(&req)), ["licd-offline-request+jwt"]);

    // Staff upload it; licd binds the license and answers.
    let answered = upload(
        &api,
        &format!("/api/v1/licenses/{id}/offline-activations"),
        &req,
    );
    assert_eq!(answered.status(), 200);
    let resp_file: Value = answered.json().unwrap();
    assert_eq!(typs(&resp_file), ["licd-offline-response+jwt"]);
    let resp = a.path("resp.json");
    save(&resp, &resp_file);
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert_eq!(
        detail["bound_fingerprint"],
        a.fingerprint.as_str(),
        "{detail}"
    );

    // The same request again: refused, not a second activation.
    let again = upload(
        &api,
        &format!("/api/v1/licenses/{id}/offline-activations"),
        &req,
    );
    assert!(again.status().is_client_error(), "{}", again.status());
    // An altered request: its signature no longer holds.
    let bad_req = a.path("req-altered.json");
    save(&bad_req, &altered(&read_json(&req)));
    let refused = upload(
        &api,
        &format!("/api/v1/licenses/{id}/offline-activations"),
        &bad_req,
    );
    assert!(refused.status().is_client_error(), "{}", refused.status());

    // Box B's response cannot be applied on box A.
    let req_b = b.path("req.json");
    assert!(
        b.cli(&["offline-request", "--out", req_b.to_str().unwrap()])
            .status
            .success()
    );
    let resp_b: Value = api.ok(upload(
        &api,
        &format!("/api/v1/licenses/{id_b}/offline-activations"),
        &req_b,
    ));
    let foreign = a.path("resp-b.json");
    save(&foreign, &resp_b);
    let out = a.cli(&["offline-import", foreign.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("another appliance"), "{}", text(&out));

    // An altered response is refused; the real one is applied once.
    let bad_resp = a.path("resp-altered.json");
    save(&bad_resp, &altered(&resp_file));
    let out = a.cli(&["offline-import", bad_resp.to_str().unwrap()]);
    assert!(!out.status.success(), "{}", text(&out));
    let out = a.cli(&["offline-import", resp.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let st = a.wait_state("valid");
    assert_eq!(st["license_id"], id);
    let until = time(&st["lease_expires_at"]);
    assert!(
        until > Utc::now() + Duration::days(80),
        "the offline lease: {st}"
    );
    let out = a.cli(&["offline-import", resp.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("already applied"), "{}", text(&out));

    // A lease file offered where a response is expected: refused by its typ.
    let mut wrong = resp_file.clone();
    let resp_token = resp_file["tokens"][0].as_str().unwrap();
    let payload = resp_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    wrong["tokens"] = json!([claims["lease"]]);
    let wrong_file = a.path("lease-as-file.json");
    save(&wrong_file, &wrong);
    let out = a.cli(&["offline-import", wrong_file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("licd-lease+jwt"), "{}", text(&out));
}

#[test]
fn revocation_bundle_locks_and_an_older_bundle_cannot_undo_it() {
    let s = real_time_server();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    let mut a = offline_box(&s, &api, license["license_key"].as_str().unwrap(), "");
    activate_by_files(&api, &mut a, id);

    // A renewal bundle, made before the revocation.
    let renewal: Value = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/bundles"),
        json!({"kind": "renewal"}),
    ));
    assert_eq!(typs(&renewal), ["licd-renewal+jwt"]);
    save(&a.path("renewal.json"), &renewal);

    let revoked = api.post(
        &format!("/api/v1/licenses/{id}/revoke"),
        json!({"reason": "contract ended"}),
    );
    assert!(revoked.status().is_success(), "{}", revoked.text().unwrap());
    let revocation: Value = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/bundles"),
        json!({"kind": "revocation"}),
    ));
    assert_eq!(typs(&revocation), ["licd-revocation+jwt"]);
    save(&a.path("revocation.json"), &revocation);
    let out = a.cli(&[
        "offline-import",
        a.path("revocation.json").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    a.wait_state("revoked");

    // The older renewal cannot bring the box back.
    let out = a.cli(&["offline-import", a.path("renewal.json").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("older"), "{}", text(&out));
    a.stop();
    a.start();
    a.wait_state("revoked");
}

#[test]
fn offline_release_frees_the_license_for_other_hardware() {
    let s = real_time_server();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    let mut a = offline_box(&s, &api, license["license_key"].as_str().unwrap(), "");
    activate_by_files(&api, &mut a, id);

    // Bound to box A: another box is refused.
    let elsewhere = activate(&s, &license, "fp-replacement");
    assert_eq!(elsewhere.status(), 409, "bound to the offline box");

    let release = a.path("release.json");
    let out = a.cli(&["release", "--out", release.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(typs(&read_json(&release)), ["licd-release+jwt"]);
    a.wait_state("not_activated");
    // An altered proof is refused and frees nothing.
    let bad = a.path("release-altered.json");
    save(&bad, &altered(&read_json(&release)));
    let refused = upload(
        &api,
        &format!("/api/v1/licenses/{id}/offline-releases"),
        &bad,
    );
    assert!(refused.status().is_client_error(), "{}", refused.status());
    let freed = upload(
        &api,
        &format!("/api/v1/licenses/{id}/offline-releases"),
        &release,
    );
    assert!(freed.status().is_success(), "{}", freed.text().unwrap());
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert!(detail["bound_fingerprint"].is_null(), "{detail}");
    // The replacement hardware activates now.
    let now_ok = activate(&s, &license, "fp-replacement");
    assert_eq!(now_ok.status(), 200);
}

#[test]
fn true_up_reports_are_ingested_once_gaps_are_flagged_and_usage_assessed() {
    let s = real_time_server();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365); // 50 internal users granted
    let id = license["id"].as_str().unwrap();
    // The product counts 64 internal users: over what the license grants.
    let usage = r#"usage_command = "echo '{\"internal_users\": 64, \"external_users\": 3}'""#;
    let mut a = offline_box(&s, &api, license["license_key"].as_str().unwrap(), usage);
    activate_by_files(&api, &mut a, id);
    let reports_path = format!("/api/v1/licenses/{id}/usage-reports");

    let report = |n: u32| {
        let f = a.path(&format!("report-{n}.json"));
        // The running agent samples usage_command each second here (a report clears
        // the peaks it carries): give it a moment to have one.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let out = a.cli(&["usage-report", "--out", f.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out));
        f
    };
    let r1 = report(1);
    assert_eq!(typs(&read_json(&r1)), ["licd-usage-report+jwt"]);
    let human = std::fs::read_to_string(format!("{}.txt", r1.display())).unwrap();
    assert!(human.contains("64"), "{human}");
    let ack1: Value = api.ok(upload(&api, &reports_path, &r1));
    assert_eq!(typs(&ack1)[0], "licd-usage-ack+jwt");
    save(&a.path("ack-1.json"), &ack1);
    let out = a.cli(&["offline-import", a.path("ack-1.json").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));

    let r2 = report(2);
    api.ok(upload(&api, &reports_path, &r2));
    // The same report again: acknowledged as a duplicate, recorded once.
    let replay: Value = api.ok(upload(&api, &reports_path, &r2));
    let ack_claims = |file: &Value| -> Value {
        let payload = file["tokens"][0]
            .as_str()
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap()
            .to_owned();
        serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(ack_claims(&replay)["outcome"], "duplicate", "{replay}");

    // Report 3 never reaches licd; report 4 does: the gap is flagged.
    let _lost = report(3);
    let r4 = report(4);
    let ack4: Value = api.ok(upload(&api, &reports_path, &r4));
    assert_eq!(ack_claims(&ack4)["missing_seqs"], json!([3]), "{ack4}");

    let listed = api.ok(api.get(&reports_path));
    let seqs: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["report_seq"].as_i64().unwrap())
        .collect();
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [1, 2, 4], "{listed}");

    // The installation is assessed from the reported peak: 64 of 50 internal users is
    // over the limit since the first reported day (the stages escalate from there).
    let inst = api.ok(api.get(&format!("/api/v1/installations/{INSTALL}")));
    assert_eq!(inst["condition"], "over_limit", "{inst}");
    assert_eq!(inst["usage"]["internal_users"], 64, "{inst}");
    assert!(!inst["violation_since"].is_null(), "{inst}");
}
