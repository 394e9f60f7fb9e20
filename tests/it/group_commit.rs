//! Activations and issues share commits (`Db::write_grouped`), as heartbeats do. Many at
//! once over real HTTP: each job is still decided alone, in the order the group runs
//! them, and every answer is about the caller's own job.

use crate::harness::*;
use crate::licensing::{Api, activate, heartbeat};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Barrier;

const AT_ONCE: usize = 48;

#[test]
fn of_many_boxes_activating_one_license_at_once_exactly_one_wins() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue("race-install", 365);
    let id = license["id"].as_str().unwrap();
    let start = Barrier::new(AT_ONCE);
    let answers: Vec<(String, u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..AT_ONCE)
            .map(|i| {
                let (s, license, start) = (&s, &license, &start);
                scope.spawn(move || {
                    let fp = format!("fp-race-{i}");
                    start.wait();
                    let r = activate(s, license, &fp);
                    let status = r.status().as_u16();
                    (fp, status, r.json::<Value>().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners: Vec<&(String, u16, Value)> =
        answers.iter().filter(|(_, st, _)| *st == 200).collect();
    assert_eq!(winners.len(), 1, "{answers:#?}");
    for (_, status, body) in answers.iter().filter(|(_, st, _)| *st != 200) {
        assert_eq!(*status, 409);
        assert_eq!(body["code"], "license_bound_elsewhere");
    }
    let (fp, _, won) = winners[0];
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert_eq!(detail["bound_fingerprint"], fp.as_str());
    assert_eq!(detail["activations"].as_array().unwrap().len(), 1);
    let secret = won["activation_secret"].as_str().unwrap();
    assert_eq!(api.ok(heartbeat(&s, id, secret, fp, 1))["state"], "active");
}

#[test]
fn many_issues_at_once_each_get_their_own_license_and_the_audit_chain_holds() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let start = Barrier::new(AT_ONCE);
    let issued: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..AT_ONCE)
            .map(|i| {
                let (api, start) = (&api, &start);
                scope.spawn(move || {
                    start.wait();
                    api.issue(&format!("burst-{i}"), 365)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ids: BTreeSet<&str> = issued.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), AT_ONCE);
    for l in &issued {
        // Each answer is the caller's own license, as stored.
        let stored = api.ok(api.get(&format!("/api/v1/licenses/{}", l["id"].as_str().unwrap())));
        assert_eq!(stored["install_id"], l["install_id"]);
        assert_eq!(stored["license_key"], l["license_key"]);
    }
    let t = s.app.tenants.public().unwrap();
    let chain = licd::service::audit::verify(&t).unwrap();
    assert!(chain.broken.is_none(), "{:?}", chain.broken);
    assert!(chain.entries >= AT_ONCE as u64);
}
