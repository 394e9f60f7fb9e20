//! Directives belong to one activation, and a lease to a superseded or revoked
//! activation tells the truth on its own (issue 10, items A and B): after a rebind the
//! old box gets its lock and nothing else, never acknowledges the new box's directives,
//! and its lease neither says `active` nor extends the offline grace.

use crate::harness::*;
use crate::licensing::{Api, INSTALL, activate, directive_kinds, heartbeat, lease_of};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

fn messages(lease: &Value) -> Vec<String> {
    lease["directives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_owned())
        .collect()
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// The exact scenario of the issue: BOX-A holds seq 5, the license moves to BOX-B,
/// BOX-B activates, staff queue a message; BOX-A's heartbeats must neither carry nor
/// acknowledge it, and BOX-B gets it until BOX-B itself confirms it.
#[test]
fn after_a_rebind_the_old_box_gets_its_lock_and_nothing_else() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let a = api.ok(activate(&s, &license, "BOX-A"));
    let a_secret = a["activation_secret"].as_str().unwrap().to_owned();
    for seq in 1..5 {
        let hb = api.ok(heartbeat(&s, &id, &a_secret, "BOX-A", seq));
        assert_eq!(lease_of(&hb)["seq"], seq + 1);
    }
    // BOX-A holds seq 5. The license moves to BOX-B, which activates (its lease seq 1).
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/rebind"),
        json!({"fingerprint": "BOX-B"}),
    ));
    let b = api.ok(activate(&s, &license, "BOX-B"));
    assert_eq!(lease_of(&b)["seq"], 1);
    let b_secret = b["activation_secret"].as_str().unwrap().to_owned();
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/directives"),
        json!({"kind": "message", "message": "hello B"}),
    ));

    // BOX-A reports seq 5: its lease carries its lock, not "hello B".
    let a6 = lease_of(&api.ok(heartbeat(&s, &id, &a_secret, "BOX-A", 5)));
    assert_eq!(directive_kinds(&a6), vec!["lock"], "{a6}");
    // BOX-A confirms that lease (seq 6): that acknowledges nothing of BOX-B's.
    let a7 = lease_of(&api.ok(heartbeat(&s, &id, &a_secret, "BOX-A", 6)));
    assert_eq!(directive_kinds(&a7), vec!["lock"], "{a7}");

    // BOX-B reports seq 1 and gets the message in lease 2.
    let b2 = lease_of(&api.ok(heartbeat(&s, &id, &b_secret, "BOX-B", 1)));
    assert_eq!(b2["seq"], 2);
    assert_eq!(messages(&b2), vec!["hello B"], "{b2}");
    // BOX-B's answer is lost; BOX-A reports seq 5 (2 <= 5, but it is not B's seq).
    let a8 = lease_of(&api.ok(heartbeat(&s, &id, &a_secret, "BOX-A", 5)));
    assert_eq!(directive_kinds(&a8), vec!["lock"], "{a8}");
    // BOX-B retries with seq 1: the message is still there.
    let b3 = lease_of(&api.ok(heartbeat(&s, &id, &b_secret, "BOX-B", 1)));
    assert_eq!(messages(&b3), vec!["hello B"], "{b3}");
    // Only BOX-B's own confirmation (seq 3) acknowledges it.
    let b4 = lease_of(&api.ok(heartbeat(&s, &id, &b_secret, "BOX-B", 3)));
    assert!(directive_kinds(&b4).is_empty(), "{b4}");

    // An unlock queued for BOX-B never rides on BOX-A's lease next to its lock.
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/directives"),
        json!({"kind": "unlock", "message": ""}),
    ));
    let a9 = lease_of(&api.ok(heartbeat(&s, &id, &a_secret, "BOX-A", 8)));
    assert_eq!(directive_kinds(&a9), vec!["lock"], "{a9}");
    let b5 = lease_of(&api.ok(heartbeat(&s, &id, &b_secret, "BOX-B", 4)));
    assert_eq!(directive_kinds(&b5), vec!["unlock"], "{b5}");

    // The staff view shows each directive with the activation it belongs to.
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    let b_activation = detail["activations"][0]["id"].clone();
    for d in detail["directives"].as_array().unwrap() {
        assert_eq!(d["activation_id"], b_activation, "{d}");
    }
    assert_eq!(detail["directives"][1]["status"], "acknowledged");
    assert_eq!(detail["directives"][0]["status"], "sent");
}

/// A directive queued before any box is activated goes to whichever activation is
/// current when it is delivered; re-activating the same box hands over what the
/// replaced activation had not confirmed.
#[test]
fn a_directive_waits_for_the_current_activation() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/directives"),
        json!({"kind": "message", "message": "welcome"}),
    ));
    let first = api.ok(activate(&s, &license, "BOX-A"));
    assert_eq!(messages(&lease_of(&first)), vec!["welcome"]);
    // The box loses its state and activates again before confirming lease 1.
    let again = api.ok(activate(&s, &license, "BOX-A"));
    assert_eq!(messages(&lease_of(&again)), vec!["welcome"]);
    let secret = again["activation_secret"].as_str().unwrap();
    let l2 = lease_of(&api.ok(heartbeat(&s, &id, secret, "BOX-A", 1)));
    assert!(directive_kinds(&l2).is_empty(), "{l2}");
}

/// Item B: the old box's lease says `locked` with the reason, and a lock lease (rebound
/// or revoked) grants no offline time: `lease_expires_at` is the server's now.
#[test]
fn a_lock_lease_says_locked_and_grants_no_grace() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let a = api.ok(activate(&s, &license, "BOX-A"));
    let a_secret = a["activation_secret"].as_str().unwrap().to_owned();
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/rebind"),
        json!({"fingerprint": "BOX-B"}),
    ));
    // Before and after BOX-B activates, BOX-A is told it is locked, and why.
    for seq in [1, 2] {
        if seq == 2 {
            api.ok(activate(&s, &license, "BOX-B"));
        }
        let hb = api.ok(heartbeat(&s, &id, &a_secret, "BOX-A", seq));
        let lease = lease_of(&hb);
        assert_eq!(hb["state"], "locked", "{hb}");
        assert_eq!(lease["state"], "locked", "{lease}");
        assert_eq!(lease["lock_reason"], "rebound", "{lease}");
        assert_eq!(
            time(&lease["lease_expires_at"]),
            s.clock.now_utc(),
            "no offline grace: {lease}"
        );
        assert_eq!(time(&lease["server_time"]), s.clock.now_utc());
    }

    // A revoked license's lease: state revoked, the reason, and no grace either.
    let other = api.issue(INSTALL, 365);
    let oid = other["id"].as_str().unwrap().to_owned();
    let o = api.ok(activate(&s, &other, "BOX-C"));
    let o_secret = o["activation_secret"].as_str().unwrap().to_owned();
    let healthy = lease_of(&api.ok(heartbeat(&s, &oid, &o_secret, "BOX-C", 1)));
    assert_eq!(healthy["lock_reason"], Value::Null, "{healthy}");
    assert_eq!(
        time(&healthy["lease_expires_at"]),
        s.clock.now_utc() + Duration::days(14)
    );
    api.ok(api.post(
        &format!("/api/v1/licenses/{oid}/revoke"),
        json!({"reason": "stolen"}),
    ));
    let hb = api.ok(heartbeat(&s, &oid, &o_secret, "BOX-C", 2));
    let lease = lease_of(&hb);
    assert_eq!(lease["state"], "revoked");
    assert_eq!(lease["lock_reason"], "revoked");
    assert_eq!(time(&lease["lease_expires_at"]), s.clock.now_utc());
    // The signed copy says the same (the claims beside it are only a convenience).
    let (_, signed) = licd::pki::verify::inspect(hb["lease"].as_str().unwrap()).unwrap();
    assert_eq!(signed["lease_expires_at"], lease["lease_expires_at"]);
    assert_eq!(signed["lock_reason"], "revoked");
}

/// A directive queued for BOX-A belongs to BOX-A: after a rebind it is neither carried
/// by BOX-A's lock lease nor handed to BOX-B; staff see it as superseded.
#[test]
fn a_directive_for_the_old_box_is_not_handed_to_the_new_one() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let a = api.ok(activate(&s, &license, "BOX-A"));
    let a_secret = a["activation_secret"].as_str().unwrap().to_owned();
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/directives"),
        json!({"kind": "message", "message": "for A"}),
    ));
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/rebind"),
        json!({"fingerprint": "BOX-B"}),
    ));
    let a2 = lease_of(&api.ok(heartbeat(&s, &id, &a_secret, "BOX-A", 1)));
    assert_eq!(directive_kinds(&a2), vec!["lock"], "{a2}");
    let b = api.ok(activate(&s, &license, "BOX-B"));
    assert!(directive_kinds(&lease_of(&b)).is_empty(), "{b}");
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert_eq!(detail["directives"][0]["status"], "superseded");
    let overview = api.ok(api.get("/api/v1/licensing/heartbeats"));
    assert!(
        overview["pending_directives"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{overview}"
    );
    // The console's license page says so too.
    let (c, _) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let page = c
        .get(s.url(&format!("/licensing/licenses/{id}")))
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(html.contains("its activation was replaced"), "{html}");
}
